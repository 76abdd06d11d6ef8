# syntax=docker/dockerfile:1

# --- Front-end packages (USWDS, htmx); Node is not needed at runtime -------------
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

# --- Application ---------------------------------------------------------------------
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Pango/HarfBuzz and fonts for WeasyPrint (PDF rendering).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --user-group --uid 10001 --home-dir /app --no-create-home app

WORKDIR /app

# Dependencies first, so code changes do not reinstall them: exactly the locked versions, each
# checked against its hash (requirements.lock, made from pyproject.toml; see README, "Dependencies").
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

COPY --from=assets /app/node_modules ./node_modules
COPY . .

# Collect static files with production settings; the values below exist only so
# the settings module can load during the build and are not used at runtime.
RUN DJANGO_ENV=production \
    DJANGO_SECRET_KEY=build-only-not-a-secret \
    DJANGO_ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    REDIS_URL=redis://localhost:6379/0 \
    CELERY_BROKER_URL=redis://localhost:6379/0 \
    EMAIL_URL=consolemail:// \
    PRIVATE_MEDIA_ROOT=/data/private \
    PORTAL_BASE_URL=https://localhost \
    python manage.py collectstatic --noinput -v0 \
    && rm -f /tmp/build.sqlite3

RUN mkdir -p /data/private /app/var && chown app:app /data/private /app/var

USER app
EXPOSE 8000
# docker-compose.yml runs each process through deploy/run (migrate, web, worker, beat).
CMD ["deploy/run", "web"]
