# syntax=docker/dockerfile:1
# The production image: gunicorn serving crm.wsgi, the same image runs the Celery worker and beat.
# Build: docker compose build   (see docker-compose.yml and docs/operations.md)

# --- front-end libraries from the npm lockfile (nothing is loaded from a CDN at run time) -------------------
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY scripts/copy_vendor.sh scripts/copy_vendor.sh
RUN bash scripts/copy_vendor.sh

# --- the application -----------------------------------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CRM_ENV=production \
    PORT=8000

# gettext: compile the translations at build time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system crm \
    && useradd --system --gid crm --home-dir /app --no-create-home crm

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .
COPY --from=assets /src/static/vendor static/vendor

# Build-time placeholders only: settings need a SECRET_KEY in production and, without DATABASE_URL, would start
# an embedded PostgreSQL. Neither compilemessages nor collectstatic connects to the database.
RUN export SECRET_KEY=build-only-not-a-secret DATABASE_URL=postgresql://build@localhost/build ALLOWED_HOSTS=localhost \
    && if [ -d locale ]; then python manage.py compilemessages --ignore=static --ignore=staticfiles; fi \
    && python manage.py collectstatic --noinput \
    && mkdir -p var/media \
    && chown -R crm:crm var

USER crm
EXPOSE 8000
# The web command; docker-compose.yml runs the same image as `celery -A crm worker` and `celery -A crm beat`.
CMD ["sh", "-c", "exec gunicorn crm.wsgi:application --bind 0.0.0.0:${PORT} --workers ${GUNICORN_WORKERS:-3} --threads ${GUNICORN_THREADS:-2} --timeout ${GUNICORN_TIMEOUT:-60} --access-logfile -"]
