"""Settings, read from the environment.

With nothing set, the portal runs on embedded defaults: SQLite under var/, mail to the console,
Celery tasks run in-process. Set DJANGO_ENV=production for a deployment: then a secret key and
allowed hosts are required and every `check --deploy` protection is on.
"""

import secrets
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
PRODUCTION = env.str("DJANGO_ENV", default="development") == "production"


def _secret_key() -> str:
    if "DJANGO_SECRET_KEY" in env:
        return env.str("DJANGO_SECRET_KEY")
    if PRODUCTION:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY: production never runs on a generated key.")
    # Outside production keep a generated key under var/, never in the repository.
    VAR_DIR.mkdir(exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DJANGO_DEBUG", default=False) and not PRODUCTION
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set DJANGO_ALLOWED_HOSTS in production.")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "guardian",
    "simple_history",
    "portal",
    "accounts",
    "requests.apps.AccessRequestsConfig",
    "audits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "portal.audit.ClientAddressMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"
    )
}
# Keep connections open: closing them per request cost 5x throughput when measured.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# No guardian anonymous user: anonymous visitors hold no object permission at all.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("PORTAL_TIME_ZONE", default="America/Chicago")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Front-end packages come from npm at build time and are served from node_modules.
for _prefix, _path in (
    ("uswds", BASE_DIR / "node_modules" / "@uswds" / "uswds" / "dist"),
    ("htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
):
    if _path.is_dir():
        STATICFILES_DIRS.append((_prefix, _path))

# Supporting documents live outside the static root and are served only through a view that
# checks who may see the request.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        ),
    },
}
SUPPORTING_DOCUMENT_MAX_BYTES = env.int("SUPPORTING_DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o600

# Mail: console by default, SMTP (EMAIL_URL=smtp://host:port) in production.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Surveillance Access Portal <portal@city.example>")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# The outbox: a mail still unsent this many seconds after its commit is sent by the sweep, at most
# this many per run. The worker holds the mail's row lock while it talks to SMTP: never wait forever.
OUTGOING_EMAIL_SWEEP_AFTER = env.int("OUTGOING_EMAIL_SWEEP_AFTER", default=60)
OUTGOING_EMAIL_SWEEP_BATCH = env.int("OUTGOING_EMAIL_SWEEP_BATCH", default=100)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)

# Celery: Redis in production and CI; with no broker configured, tasks run in-process.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL == "memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# Django's LOGGING stays in charge of the worker's log output.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# A broker that accepts the connection but never answers must not hang a page either.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "socket_timeout": 3}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _folder = env.str("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "celery"))
    for _sub in ("out", "processed"):
        Path(_folder, _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(Path(_folder, "out")),
        "data_folder_out": str(Path(_folder, "out")),
        "processed_folder": str(Path(_folder, "processed")),
    }

CELERY_BEAT_SCHEDULE = {
    "sync-department-permissions": {
        "task": "accounts.tasks.sync_department_permissions",
        "schedule": crontab(minute=0, hour=0),
    },
    # Mail the worker never sent (the broker was down at the commit, or SMTP failed); a run that
    # waited in a stopped queue is dropped, the next one does the same work.
    "flush-outgoing-email": {"task": "portal.tasks.flush_outgoing_email", "schedule": 60.0, "options": {"expires": 55}},
    "open-due-validations": {"task": "audits.tasks.open_due_validations", "schedule": crontab(minute=15, hour=1)},
    "send-validation-reminders": {
        "task": "audits.tasks.send_validation_reminders", "schedule": crontab(minute=0, hour=7),
    },
    "handle-validation-non-response": {
        "task": "audits.tasks.handle_validation_non_response", "schedule": crontab(minute=30, hour=1),
    },
    "refresh-signed-off-validations": {
        "task": "audits.tasks.refresh_signed_off_validations", "schedule": crontab(minute="*/15"),
    },
}

# Validations (3.4): opened this many days before the anniversary, due this many days after
# opening; reminders at these days before the due date; after the grace period, undecided
# end-user grants are suspended ("suspend") or only flagged ("flag").
VALIDATION_LEAD_DAYS = env.int("VALIDATION_LEAD_DAYS", default=30)
VALIDATION_DUE_DAYS = env.int("VALIDATION_DUE_DAYS", default=30)
VALIDATION_REMINDER_DAYS = tuple(env.list("VALIDATION_REMINDER_DAYS", cast=int, default=[14, 7, 2, 0]))
VALIDATION_GRACE_DAYS = env.int("VALIDATION_GRACE_DAYS", default=14)
VALIDATION_NON_RESPONSE = env.str("VALIDATION_NON_RESPONSE", default="suspend")

# Security headers everywhere; production adds the HTTPS-only ones.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "portal.security": {"handlers": ["console"], "level": "WARNING"},
    },
}

# Separation-of-duties scan and lists.
PAGE_SIZE = env.int("PORTAL_PAGE_SIZE", default=25)
