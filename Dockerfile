# The monitor as a background service.
#   docker build -t care-monitor .
#   docker run -d --name care-monitor \
#     -v "$PWD/config:/config:ro" -v care-monitor-data:/data \
#     -e FACEBOOK_PAGE_TOKEN=... -e SMTP_PASSWORD=... care-monitor
# or `docker compose up -d` with compose.yaml. A relative database path or output_dir in the config
# lands in /data ($STATE_DIRECTORY); MONITOR_DATABASE_URL, when you set it, overrides [database] url.
FROM python:3.11-slim AS build
# The filter's per-comment code is compiled (Cython), so the wheel is built where a C compiler is.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY connectors ./connectors
RUN pip wheel --no-cache-dir --wheel-dir /wheels '.[postgres]'

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MONITOR_CONFIG=/config/config.toml \
    STATE_DIRECTORY=/data

COPY --from=build /wheels /wheels
# The versions are pinned by the wheels built above; nothing comes from an index.
# hadolint ignore=DL3013
RUN pip install --no-cache-dir --no-index --find-links=/wheels 'care-moderation-monitor[postgres]' \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin monitor \
    && mkdir -p /data /config \
    && chown monitor /data

USER 10001
WORKDIR /data
VOLUME ["/config", "/data"]

HEALTHCHECK --interval=5m --timeout=30s --start-period=2m --retries=2 \
    CMD ["monitor", "health"]

CMD ["monitor", "run"]
