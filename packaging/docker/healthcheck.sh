#!/bin/bash
# Health of a Sluice container (its HEALTHCHECK): GET /readyz on the admin listener must answer
# 200. Bash's /dev/tcp, so the image needs no curl.
#   SLUICE_ADMIN_HOST (default 127.0.0.1), SLUICE_ADMIN_PORT (default 9090)
set -eu
host=${SLUICE_ADMIN_HOST:-127.0.0.1}
port=${SLUICE_ADMIN_PORT:-9090}

exec 3<>"/dev/tcp/$host/$port"
printf 'GET /readyz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$host" >&3
status=""
IFS= read -r -t 3 status <&3 || true
case "$status" in
  "HTTP/1.1 200"*) exit 0 ;;
  *) echo "sluice not ready: GET http://$host:$port/readyz answered '${status%$'\r'}'" >&2; exit 1 ;;
esac
