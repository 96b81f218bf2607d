# Production image: gunicorn serves the app (static files through WhiteNoise); the same image
# runs the Celery worker and beat with a different command (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_ENV=production \
    VAR_DIR=/app/var

RUN groupadd --system kpo && useradd --system --gid kpo --home-dir /app --no-create-home kpo

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml ./
RUN pip install .

# The code stays owned by root: the app user may write only under VAR_DIR.
COPY . .

# Static files are collected into the image (VAR_DIR/static) with the production manifest
# storage; the key below exists only for this build step and is never used at runtime.
RUN SECRET_KEY=collectstatic-build-step-only-never-used-to-sign-anything-0123456789 \
    python manage.py collectstatic --noinput \
    && mkdir -p "$VAR_DIR/media" \
    && chown -R kpo:kpo "$VAR_DIR" \
    && chown -R root:root "$VAR_DIR/static"

USER kpo

EXPOSE 8000

# gunicorn reads WEB_CONCURRENCY for its number of worker processes.
CMD ["gunicorn", "kpo.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
