# Kabinet — the bot's image: python:3.11-slim, a non-root user, the catalogs compiled at build.
#
#   docker build -t kabinet .
#   docker run --env-file .env -v kabinet-data:/app/data -p 127.0.0.1:8080:8080 kabinet
#
# One machine: SQLite in the /app/data volume (the default below). Several instances:
# docker-compose.yml (PostgreSQL + Redis, migrations first). README.md, "Deployment".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

WORKDIR /app

# dependencies first: a code change does not reinstall them
COPY pyproject.toml README.md ./
COPY bot/__init__.py bot/__init__.py
COPY handlers/__init__.py handlers/__init__.py
COPY storage/__init__.py storage/__init__.py
COPY sandbox/__init__.py sandbox/__init__.py
RUN python -m venv /opt/venv \
    && pip install -e '.[postgres,redis]'

COPY run_bot.py alembic.ini babel.cfg ./
COPY bot bot
COPY handlers handlers
COPY storage storage
COPY sandbox sandbox
COPY locales locales
RUN pybabel compile -d locales -D messages --statistics \
    && python -c "from bot.i18n import create_i18n; create_i18n('ru')" \
    && useradd --system --uid 10001 --user-group --home-dir /app --no-create-home kabinet \
    && mkdir -p /app/data \
    && chown kabinet:kabinet /app/data

USER kabinet

# the web app (webhook, /healthz, /metrics, billing API) listens on every interface of the
# container; publish it only to a reverse proxy or 127.0.0.1
ENV WEB_HOST=0.0.0.0 \
    WEB_PORT=8080 \
    DATABASE_URL=sqlite+aiosqlite:////app/data/kabinet.db
VOLUME ["/app/data"]
EXPOSE 8080

# /healthz: 200 while the bot takes updates and reaches its database; 503 while stopping
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot.healthcheck"]

# SIGTERM: no new updates (the webhook answers 503), the ones in flight finish within
# SHUTDOWN_GRACE_SECONDS (20), the database is closed; give it more than that to stop
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "run_bot.py"]
CMD ["run"]
