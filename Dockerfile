# Production image: gunicorn serving qonadmin, static files through whitenoise.
# Configure with environment variables (docs/operations.md); nothing secret is baked in.
FROM python:3.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

RUN groupadd --system --gid 10001 qonadmin \
    && useradd --system --uid 10001 --gid qonadmin --home-dir /app qonadmin

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY manage.py gunicorn.conf.py ./
# The product's apps only: the sandbox and the demo app (seed_demo) stay out of the image.
COPY qonadmin ./qonadmin
COPY teams ./teams
COPY audit ./audit
COPY integrations ./integrations
COPY alerts ./alerts
COPY accounts ./accounts
COPY templates ./templates
COPY static ./static

# collectstatic needs settings to import; these build-time values are thrown away.
RUN DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=build \
    QONADMIN_ENCRYPTION_KEYS=build:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    python manage.py collectstatic --noinput -v 0 \
    && mkdir -p /app/data && chown 10001:10001 /app/data

USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["python", "-c", "import os, urllib.request as u; host = os.environ['DJANGO_ALLOWED_HOSTS'].split(',')[0]; u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': host}), timeout=4)"]

# Migrations run as a separate step before a rollout: `docker run … python manage.py migrate`.
# Workers, threads and timeout: gunicorn.conf.py (WEB_CONCURRENCY, GUNICORN_THREADS).
CMD ["gunicorn", "qonadmin.wsgi:application", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
