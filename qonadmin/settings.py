"""Settings for qonadmin, read from the environment.

Fail closed: there is no default secret key, no default encryption key and no
wildcard host. `make run` writes local demo values to .local/demo.env; production
sets them itself (docs/operations.md lists every variable).
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from qonadmin.env import env_bool, env_float, env_int, env_list, env_required, env_str

# Lets admin and form classes be subscripted at run time (ModelAdmin[Team]) for mypy.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_required(
    "DJANGO_SECRET_KEY",
    "a long random string, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(50))'`",
)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the host names the dashboard is served on")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# Demo mode allows `seed_demo` (well-known demo passwords). Never set it in production.
QONADMIN_DEMO = env_bool("QONADMIN_DEMO", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks_db",
    "qonadmin",
    "teams",
    "audit",
    "integrations",
    "alerts",
    "accounts",
]
if QONADMIN_DEMO:
    # seed_demo and its sandbox controls: never part of a production install.
    INSTALLED_APPS.append("demo")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "qonadmin.middleware.NoStoreWhenSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "qonadmin.middleware.HtmxMessagesMiddleware",
    "accounts.middleware.TwoFactorRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "qonadmin.urls"
WSGI_APPLICATION = "qonadmin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "integrations.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}") or "",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets page reads run while a sync writes; busy timeout rides out short locks.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env_int("QONADMIN_SESSION_HOURS", 12, minimum=1) * 3600

# --- Sign-in protection: failed-sign-in throttling (django-axes) and TOTP (django-otp) ---
# docs/sign-in.md explains these. Axes comes first so a locked-out client is refused
# before its password is even checked; the subclass only skips sign-ins that have no
# HTTP request (management commands, the test client's login()).
AUTHENTICATION_BACKENDS = [
    "accounts.backends.SignInThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Counted per username + client address: a stranger cannot lock a colleague out from
# elsewhere, and rotating user agents does not reset the count.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env_int("QONADMIN_LOGIN_FAILURE_LIMIT", 5, minimum=1)
# Never a permanent lockout: it ends this long after it began, and further tries while
# locked out do not extend it.
AXES_COOLOFF_TIME = timedelta(minutes=env_int("QONADMIN_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.sign_in.locked_out_view"
# The same address as the audit log: REMOTE_ADDR only (X-Forwarded-For can be forged).
AXES_CLIENT_IP_CALLABLE = "qonadmin.http.client_ip"
# Axes keeps the POST data of failed attempts; it masks "password" itself, these too.
AXES_SENSITIVE_PARAMETERS = [
    "username",
    "ip_address",
    "csrfmiddlewaretoken",
    "code",
    "old_password",
    "new_password1",
    "new_password2",
]
# Successful sign-ins are in our own audit log (auth.sign_in); no second copy.
AXES_DISABLE_ACCESS_LOG = True
# No "AXES: BEGIN …" line from every process and management command; lockouts and failed
# sign-ins are in the audit log (accounts/signals.py).
AXES_VERBOSE = False
OTP_TOTP_ISSUER = "qonadmin"
# Admins can remove a user's device but never read its secret or QR code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "qonadmin"}}
if redis_url := env_str("REDIS_URL"):
    CACHES["default"] = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}

# HTTPS hardening is on unless explicitly turned off (the local demo serves plain HTTP).
QONADMIN_HTTPS = env_bool("QONADMIN_HTTPS", True)
SESSION_COOKIE_SECURE = QONADMIN_HTTPS
CSRF_COOKIE_SECURE = QONADMIN_HTTPS
SECURE_SSL_REDIRECT = QONADMIN_HTTPS and env_bool("QONADMIN_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container's health check speaks plain HTTP
SECURE_HSTS_SECONDS = env_int("QONADMIN_HSTS_SECONDS", 31536000) if QONADMIN_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = QONADMIN_HTTPS
SECURE_HSTS_PRELOAD = QONADMIN_HTTPS and env_bool("QONADMIN_HSTS_PRELOAD", True)
if env_bool("QONADMIN_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # HTMX reads no cookie: the token is rendered into hx-headers.
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Only our own static files run: no inline script or style, no CDN.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# Secret keys of Qonversion projects are encrypted with these (see teams/crypto.py).
QONADMIN_ENCRYPTION_KEYS = env_required(
    "QONADMIN_ENCRYPTION_KEYS",
    "comma-separated key-id:base64-32-byte-key pairs; generate one with `python manage.py generate_encryption_key`",
)

QONVERSION_API_BASE = env_str("QONVERSION_API_BASE", "https://api.qonversion.io/v4") or ""
QONVERSION_CONNECT_TIMEOUT = env_float("QONVERSION_CONNECT_TIMEOUT", 3.05, minimum=0.1)
QONVERSION_READ_TIMEOUT = env_float("QONVERSION_READ_TIMEOUT", 10.0, minimum=0.1)
QONVERSION_MAX_RETRIES = env_int("QONVERSION_MAX_RETRIES", 2)
QONVERSION_BACKOFF_SECONDS = env_float("QONVERSION_BACKOFF_SECONDS", 0.5)
# The bound on waiting: one call to Qonversion, all attempts, waits and timeouts
# together, never takes longer than this. No page or action waits on Qonversion longer.
QONVERSION_DEADLINE_SECONDS = env_float("QONVERSION_DEADLINE_SECONDS", 10.0, minimum=1.0)
# Circuit breaker per project: after this many consecutive failures (no connection,
# timeout, 5xx), stop calling Qonversion for the project for a cool-off that doubles
# while it keeps failing, up to the maximum.
QONADMIN_BREAKER_FAILURES = env_int("QONADMIN_BREAKER_FAILURES", 5, minimum=1)
QONADMIN_BREAKER_COOLOFF_SECONDS = env_int("QONADMIN_BREAKER_COOLOFF_SECONDS", 30, minimum=1)
QONADMIN_BREAKER_MAX_COOLOFF_SECONDS = env_int("QONADMIN_BREAKER_MAX_COOLOFF_SECONDS", 600, minimum=1)
# A pause or activate whose outcome is unknown (lost answer, timeout, 5xx) waits this long
# for a refresh to show the asked-for state before the listed state is taken as final.
QONADMIN_CONFIRM_WINDOW_SECONDS = env_int("QONADMIN_CONFIRM_WINDOW_SECONDS", 120, minimum=1)
# How old the local mirror of a project may get before opening its page refreshes it.
QONADMIN_SYNC_MAX_AGE_SECONDS = env_int("QONADMIN_SYNC_MAX_AGE_SECONDS", 30)

# Background work: Django's task framework with the database backend of django-tasks-db.
# Workers: `python manage.py db_worker` (as many as wanted, on one database).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Every project is refreshed by a task this often (integrations/scheduling.py).
QONADMIN_SYNC_INTERVAL_SECONDS = env_int("QONADMIN_SYNC_INTERVAL_SECONDS", 60, minimum=5)
# How long the per-integration change history is kept.
QONADMIN_HISTORY_DAYS = env_int("QONADMIN_HISTORY_DAYS", 30, minimum=1)
QONADMIN_META_CACHE_SECONDS = env_int("QONADMIN_META_CACHE_SECONDS", 3600)

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_BACKEND_PATH = env_str("QONADMIN_EMAIL_BACKEND", SMTP_BACKEND) or SMTP_BACKEND
MAILERS: dict[str, dict[str, object]] = {"default": {"BACKEND": EMAIL_BACKEND_PATH}}
if EMAIL_BACKEND_PATH == SMTP_BACKEND:
    MAILERS["default"]["OPTIONS"] = {
        "host": env_str("QONADMIN_SMTP_HOST", "localhost"),
        "port": env_int("QONADMIN_SMTP_PORT", 587),
        "username": env_str("QONADMIN_SMTP_USER", "") or "",
        "password": env_str("QONADMIN_SMTP_PASSWORD", "") or "",
        "use_tls": env_bool("QONADMIN_SMTP_STARTTLS", True),
        "timeout": 10,
    }
elif EMAIL_BACKEND_PATH == "django.core.mail.backends.filebased.EmailBackend":
    # One file per message in this folder (`make run` uses .local/mail/).
    MAILERS["default"]["OPTIONS"] = {
        "file_path": env_str("QONADMIN_EMAIL_FILE_PATH", str(BASE_DIR / ".local" / "mail")),
    }
DEFAULT_FROM_EMAIL = env_str("QONADMIN_FROM_EMAIL", "qonadmin@localhost")

# People who get an email with the (redacted) report of every server error.
ADMINS = [("qonadmin admin", address) for address in env_list("QONADMIN_ADMIN_EMAILS")]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {"()": "qonadmin.redaction.RedactSecretsFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]},
        # The report needs the live traceback, so no redaction filter here: it hides
        # variables marked with sensitive_variables instead (tests/qonadmin/test_secrets_never_leak.py).
        "mail_admins": {
            "level": "ERROR",
            "class": "django.utils.log.AdminEmailHandler",
            "filters": ["require_debug_false"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("QONADMIN_LOG_LEVEL", "INFO")},
    "loggers": {
        # Replaces Django's default handlers, one of which would bypass the redaction filter.
        "django": {"handlers": ["console", "mail_admins"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Public address of the dashboard, for links in emails sent outside a request (alerts).
QONADMIN_BASE_URL = (env_str("QONADMIN_BASE_URL", "") or "").rstrip("/")
