# The example Flask API (examples/flask-api/app.py) under gunicorn, for deploy/docker-compose.yaml.
# Debian's Flask and gunicorn: the versions the project's tests run.
FROM debian:12-slim
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-flask gunicorn \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10002 --no-create-home --shell /usr/sbin/nologin app
COPY examples/flask-api/app.py /app/app.py
WORKDIR /app
USER 10002
# Sluice is the one proxy in front of the app: ProxyFix trusts one X-Forwarded-For entry.
ENV PROXY_FIX_X_FOR=1
EXPOSE 5000
CMD ["gunicorn", "--workers", "2", "--threads", "8", "--worker-class", "gthread", "--bind", "0.0.0.0:5000", "app:app"]
