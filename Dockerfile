# Rapport: one container, SQLite in the /data volume by default.
#   docker build -t rapport .
#   docker run -p 8000:8000 -v rapport-data:/data rapport
# Settings are RAPPORT_* environment variables (see README.md); for PostgreSQL set
# RAPPORT_DATABASE_URL=postgresql://user:password@host:5432/rapport.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements/build.lock requirements/main.lock requirements/
RUN python -m venv /opt/rapport \
 && /opt/rapport/bin/pip install --require-hashes -r requirements/build.lock -r requirements/main.lock
COPY pyproject.toml README.md ./
COPY service ./service
COPY alembic ./alembic
RUN /opt/rapport/bin/pip install --no-deps --no-build-isolation . \
 && /opt/rapport/bin/pip uninstall --yes setuptools wheel

FROM python:3.11-slim
RUN groupadd --system --gid 10001 rapport \
 && useradd --system --uid 10001 --gid rapport --home-dir /data --no-create-home rapport \
 && mkdir -p /data && chown rapport:rapport /data
COPY --from=build /opt/rapport /opt/rapport
ENV PATH="/opt/rapport/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RAPPORT_DATABASE_URL="sqlite:////data/rapport.db" \
    RAPPORT_HOST="0.0.0.0" \
    RAPPORT_PORT="8000"
VOLUME ["/data"]
WORKDIR /data
USER rapport
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["rapport", "healthcheck"]
ENTRYPOINT ["rapport", "serve"]
