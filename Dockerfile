# One image for every role; the command picks the role (see docker-compose.yml):
#   docker run IMAGE worker -Q ingest,publish     docker run IMAGE beat
#   docker run IMAGE worker -Q webhooks -c 32      docker run IMAGE serve --host 0.0.0.0
# Build: docker build -t syndicate .

# -- build: wheels of the project and its runtime dependencies (no dev extras) -------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY worker ./worker
COPY feeds ./feeds
COPY config ./config
RUN pip wheel --wheel-dir /wheels .

# -- runtime: the wheels, the shipped config, a non-root user ------------------------------
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SYNDICATE_CONFIG_DIR=/app/config \
    SYNDICATE_BEAT_SCHEDULE=/app/var/beat-schedule
RUN groupadd --system --gid 10001 syndicate \
    && useradd --system --uid 10001 --gid syndicate --home-dir /app --shell /usr/sbin/nologin syndicate
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links=/wheels syndicate && rm -rf /wheels
WORKDIR /app
COPY config ./config
# /app/var/export: the feed files (SYNDICATE_EXPORT_DIR in docker-compose.yml, read by nginx)
RUN mkdir -p /app/var/export && chown -R syndicate:syndicate /app/var
USER syndicate
EXPOSE 8000
ENTRYPOINT ["syndicate"]
CMD ["--help"]
