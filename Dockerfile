# The monitor as a background service.
#   docker build -t care-monitor .
#   docker run -d --name care-monitor \
#     -v "$PWD/config:/config:ro" -v care-monitor-data:/data \
#     -e FACEBOOK_PAGE_TOKEN=... -e SMTP_PASSWORD=... care-monitor
# or `docker compose up -d` with compose.yaml. A relative database path or output_dir in the config
# lands in /data ($STATE_DIRECTORY); MONITOR_DATABASE_URL, when you set it, overrides [database] url.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MONITOR_CONFIG=/config/config.toml \
    STATE_DIRECTORY=/data

WORKDIR /src
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY connectors ./connectors
# The project itself, from this source tree; its dependencies' ranges are in pyproject.toml.
# hadolint ignore=DL3013
RUN pip install --no-cache-dir '.[postgres]' \
    && rm -rf /src \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin monitor \
    && mkdir -p /data /config \
    && chown monitor /data

USER 10001
WORKDIR /data
VOLUME ["/config", "/data"]

HEALTHCHECK --interval=5m --timeout=30s --start-period=2m --retries=2 \
    CMD ["monitor", "health"]

CMD ["monitor", "run"]
