# Sluice container image. No image is built by the project's tests (its machines have no Docker
# engine); the build stage runs packaging/release.sh, the same script the tarball test runs.
#
#   docker build -t sluice .
#   docker run --rm -p 8080:8080 -v "$PWD/sluice.yaml:/etc/sluice/sluice.yaml:ro" sluice

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN packaging/release.sh /opt/sluice

FROM eclipse-temurin:17-jre
# A fixed, non-root user (uid 10001) so runAsNonRoot policies can check it.
RUN groupadd --system --gid 10001 sluice \
 && useradd --system --uid 10001 --gid sluice --home-dir /var/lib/sluice --no-create-home \
      --shell /usr/sbin/nologin sluice \
 && install -d -o sluice -g sluice -m 0750 /var/lib/sluice /var/log/sluice
COPY --from=build /opt/sluice /opt/sluice
COPY packaging/docker/sluice.yaml /etc/sluice/sluice.yaml
COPY packaging/docker/healthcheck.sh /opt/sluice/bin/healthcheck
ENV PATH=/opt/sluice/bin:$PATH \
    SLUICE_ADMIN_PORT=9090
USER 10001:10001
WORKDIR /var/lib/sluice
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["/opt/sluice/bin/healthcheck"]
ENTRYPOINT ["/opt/sluice/bin/sluice"]
CMD ["serve", "-c", "/etc/sluice/sluice.yaml"]
