# Rapport: one container, SQLite in the /data volume by default.
#   docker build -t rapport .
#   docker run -p 8000:8000 -v rapport-data:/data rapport
# Settings are RAPPORT_* environment variables (see README.md); for PostgreSQL set
# RAPPORT_DATABASE_URL=postgresql://user:password@host:5432/rapport. Set the port with
# RAPPORT_PORT (not `serve --port`) so that the HEALTHCHECK, which reads it too, follows it.
#
# The base image is pinned to an exact Python release and Debian release. It is not pinned to
# a digest: no registry is reachable where this file is written and tested, so no digest could
# be verified; add `@sha256:...` after `docker pull` where you build.

FROM python:3.11.14-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements/build.lock requirements/main.lock requirements/
RUN python -m venv /opt/rapport \
 && /opt/rapport/bin/pip install --no-cache-dir --require-hashes -r requirements/build.lock -r requirements/main.lock
COPY pyproject.toml README.md ./
COPY service ./service
COPY alembic ./alembic
RUN /opt/rapport/bin/pip install --no-cache-dir --no-deps --no-build-isolation . \
 && /opt/rapport/bin/pip uninstall --yes setuptools wheel

FROM python:3.11.14-slim-bookworm
# A numeric user and group: Kubernetes checks runAsNonRoot against the image's numeric USER.
RUN groupadd --system --gid 10001 rapport \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home rapport \
 && mkdir -p /data && chown 10001:10001 /data
COPY --from=build /opt/rapport /opt/rapport
ENV PATH="/opt/rapport/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RAPPORT_DATABASE_URL="sqlite:////data/rapport.db" \
    RAPPORT_HOST="0.0.0.0" \
    RAPPORT_PORT="8000"
VOLUME ["/data"]
WORKDIR /data
USER 10001:10001
EXPOSE 8000
# `rapport healthcheck` asks the port the server listens on: RAPPORT_PORT/RAPPORT_HOST, or the
# --port/--host given to the container's `rapport serve` (read from PID 1's command line).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["rapport", "healthcheck"]
ENTRYPOINT ["rapport", "serve"]
