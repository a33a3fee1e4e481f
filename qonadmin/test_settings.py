"""Settings for the test suite: production settings plus test-only keys.

Values are set only if the environment does not already give them, so CI can run
the same suite against PostgreSQL with DATABASE_URL.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-any-deployment-0123456789")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# Two test keys: "t2" encrypts, "t1" still decrypts (rotation tests swap them).
os.environ.setdefault(
    "QONADMIN_ENCRYPTION_KEYS",
    "t2:dGVzdC1rZXktdHdvLXRlc3Qta2V5LXR3by10ZXN0LWs=,t1:dGVzdC1rZXktb25lLXRlc3Qta2V5LW9uZS10ZXN0LWs=",
)
os.environ.setdefault("QONADMIN_HTTPS", "false")
os.environ.setdefault("QONVERSION_BACKOFF_SECONDS", "0")
os.environ.setdefault("QONVERSION_READ_TIMEOUT", "2")

from qonadmin.settings import *  # noqa: F403
from qonadmin.settings import DATABASES, INSTALLED_APPS

# Fast hashing: tests create many users; production uses Argon2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Serve static files from the source folders: no collectstatic before tests.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not shared-cache memory: concurrency tests need SQLite's real locking
    # (busy timeout, IMMEDIATE transactions) as production has it.
    # One file per test process, so two runs at once do not share a database.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"qonadmin-test-{os.getpid()}.sqlite3")}

# seed_demo is tested too (it still refuses to run without QONADMIN_DEMO).
if "demo" not in INSTALLED_APPS:
    INSTALLED_APPS = [*INSTALLED_APPS, "demo"]

# Tasks run where they are enqueued, so a test sees their effect at once; the tests of
# the workers, the schedule and deferred retries switch to the database backend.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
