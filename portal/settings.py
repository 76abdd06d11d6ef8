"""Settings, read from the environment.

With nothing set, the portal runs on embedded defaults: SQLite under var/, mail to the console,
Celery tasks run in-process. Set DJANGO_ENV=production for a deployment: then a secret key and
allowed hosts are required and every `check --deploy` protection is on.
"""

import hashlib
import hmac
import ipaddress
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

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
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"

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
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "portal",
    "accounts",
    "agreements",
    "access_requests.apps.AccessRequestsConfig",
    "external",
    "audits",
    "waivers",
    "incidents",
    "retention",
    "kpis",
    "reports",
    "adoption",
    "rest_framework",
    "drf_spectacular",
    "api",
    "transparency",
    "security",
    "pages",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.headers.PermissionsPolicyMiddleware",
    # Outside the sign-in middleware, so that its redirects carry the headers too.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Before anything reads the body (the CSRF check does): an oversize upload is refused unread.
    "portal.uploads.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Inside the sign-in middleware: request.user exists when the response comes back through it.
    "portal.headers.NoStoreWhenSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.audit.ClientAddressMiddleware",
    "security.middleware.SessionPolicyMiddleware",
    "security.middleware.RequireSecondFactorMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pages.urls"
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
            # After Django's own: its `date` filter replaces Django's (portal/templatetags/dates.py).
            "builtins": ["portal.templatetags.dates"],
        },
    },
]

DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"
    )
}
# Keep connections open: a connection per request cut throughput (bench/README.md, "Pages under load").
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Prepared statements: PostgreSQL spent longer planning a page's permission-checked joins than
    # running them (bench/README.md, "Pages under load"). Set DATABASE_PREPARE_THRESHOLD=none behind
    # a pooler in transaction mode (PgBouncer before 1.21), which cannot keep prepared statements.
    _prepare = env.str("DATABASE_PREPARE_THRESHOLD", default="5").strip().lower()
    if _prepare not in ("", "none", "off"):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=int(_prepare)
        )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Two quick clicks must never answer "database is locked". A transaction takes the write lock
    # when it begins (IMMEDIATE): a reader that turns writer midway fails at once, without waiting.
    # "timeout" is SQLite's busy timeout: the second writer waits up to 20 s for the first. WAL lets
    # pages read while one writes; with it, synchronous=NORMAL is safe from corruption.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20, transaction_mode="IMMEDIATE", init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: a locked-out account is refused before its password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "security.backends.LockedAccountBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# No guardian anonymous user: anonymous visitors hold no object permission at all.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    # Older hashes still verify, and are upgraded to Argon2 at the next sign-in.
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

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
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Front-end packages come from npm at build time and are served from node_modules.
for _prefix, _path in (
    ("uswds", BASE_DIR / "node_modules" / "@uswds" / "uswds" / "dist"),
    ("htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
):
    if _path.is_dir():
        STATICFILES_DIRS.append((_prefix, _path))

# A PDF that takes longer than this to render is stopped (portal.pdf).
PDF_RENDER_SECONDS = env.float("PDF_RENDER_SECONDS", default=30.0)
# A document made on a worker, where nobody waits on a request (a large department's attestation):
# still stopped, but later.
PDF_WORKER_RENDER_SECONDS = env.float("PDF_WORKER_RENDER_SECONDS", default=300.0)

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
# A request body larger than this is refused before it is read (portal.uploads): one document
# and the form around it.
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=SUPPORTING_DOCUMENT_MAX_BYTES + 1024 * 1024)
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    # Stops keeping a file once it passes SUPPORTING_DOCUMENT_MAX_BYTES.
    "portal.uploads.SizeLimitedUploadHandler",
]
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o600

# Mail: console by default, SMTP (EMAIL_URL=smtp://host:port) in production.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Surveillance Access Portal <portal@city.example>")


def _base_url() -> str:
    """The portal's public address, as people reach it (through the TLS proxy): every link in mail
    starts with it. Required in production, where it must be https."""
    value = env.str("PORTAL_BASE_URL", default="").strip()
    if not value:
        if PRODUCTION:
            raise ImproperlyConfigured(
                "Set PORTAL_BASE_URL to the portal's public address, e.g. https://portal.city.example: "
                "every e-mail links to it."
            )
        return "http://127.0.0.1:8000"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"PORTAL_BASE_URL must be an address like https://portal.city.example, not {value!r}.")
    if PRODUCTION and parts.scheme != "https":
        raise ImproperlyConfigured("PORTAL_BASE_URL must start with https:// in production.")
    return value.rstrip("/")


PORTAL_BASE_URL = _base_url()
# The Board of Aldermen's address: publishing a version with substantive changes e-mails it the changes
# (Section 2.4), and a report handed to the Board at its request is mailed there with its PDF (Section 2.5).
# Empty: such a version publishes only once the date the Board was notified is entered, and a handed
# report is recorded as given by other means.
BOARD_OF_ALDERMEN_EMAIL = env.str("BOARD_OF_ALDERMEN_EMAIL", default="").strip()

# The outbox: a mail still unsent this many seconds after its commit is sent by the sweep, at most
# this many per run. The worker holds the mail's row lock while it talks to SMTP: never wait forever.
OUTGOING_EMAIL_SWEEP_AFTER = env.int("OUTGOING_EMAIL_SWEEP_AFTER", default=60)
OUTGOING_EMAIL_SWEEP_BATCH = env.int("OUTGOING_EMAIL_SWEEP_BATCH", default=100)
OUTGOING_EMAIL_SWEEP_EVERY = env.float("OUTGOING_EMAIL_SWEEP_EVERY", default=60.0)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)

# Celery: Redis in production and CI; with no broker configured, tasks run in-process.
REDIS_URL = env.str("REDIS_URL", default="")

# The API (api/, under /api/v1/). A token lasts at most API_TOKEN_MAX_DAYS; each token (or person,
# for a session) makes at most API_RATE calls. The calls are counted in Redis when there is one, so
# that every web worker counts the same calls; without it, in each process.
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=365)
API_RATE = env.str("API_RATE", default="600/minute")
# Wrong tokens from one address (portal.client_address); past it, even a right token waits.
API_FAILED_TOKEN_RATE = env.str("API_FAILED_TOKEN_RATE", default="10/minute")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api": ({"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "api"}
            if REDIS_URL else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api"}),
}
if REDIS_URL:
    # Sessions are read on every signed-in request: from Redis, written through to the database,
    # which stays the record (security.services.sessions_forget ends them in both). Without Redis (the
    # demo), from the database alone: a cache per process could not forget a session ended elsewhere.
    CACHES["sessions"] = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": "session"}
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    SESSION_CACHE_ALIAS = "sessions"
# Forms draw their widgets with Django's templates, except a plain <select> and a checkbox or radio
# button drawn one by one, written in Python to the same markup (portal/form_renderer.py): a hundred
# departments' options took about 8 ms through templates, sixty systems' checkboxes about 30 ms.
FORM_RENDERER = "portal.form_renderer.PortalFormRenderer"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.TokenAuthentication",
                                       "api.authentication.SessionReadAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.PerTokenThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": API_RATE, "api_token_failures": API_FAILED_TOKEN_RATE},
    "DEFAULT_PAGINATION_CLASS": "api.pagination.IdCursorPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.problem_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Surveillance Access Portal API",
    "DESCRIPTION": "The city's record of who may use which surveillance system, for the systems and scripts "
                   "around the portal. Every call needs a token (Authorization: Bearer sap_…) made by ITSA, or, "
                   "for read calls, the caller's own signed-in session.",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Deny by default: the schema is for those who hold a token or can sign in.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
}
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
    # Expired sessions and the records of them (security.services.sessions_prune).
    "prune-sessions": {"task": "security.tasks.prune_sessions", "schedule": crontab(minute=45, hour=3)},
    # Oversight appointments past their last day (security.oversight.oversight_end_expired).
    "end-expired-oversight": {"task": "security.tasks.end_expired_oversight", "schedule": crontab(minute=5, hour=0)},
    "sync-department-permissions": {
        "task": "accounts.tasks.sync_department_permissions",
        "schedule": crontab(minute=0, hour=0),
    },
    # Mail the worker never sent (the broker was down at the commit, or SMTP failed); a run that
    # waited in a stopped queue is dropped, the next one does the same work.
    "flush-outgoing-email": {
        "task": "portal.tasks.flush_outgoing_email", "schedule": OUTGOING_EMAIL_SWEEP_EVERY,
        "options": {"expires": max(OUTGOING_EMAIL_SWEEP_EVERY - 5, 1)},
    },
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
    # Signed attestations a lost task left without their kept PDF (audits.documents.attestation_freeze).
    "freeze-missing-attestations": {
        "task": "audits.tasks.freeze_missing_attestations", "schedule": crontab(minute=45, hour=2),
    },
    "grant-hygiene": {"task": "access_requests.tasks.grant_hygiene", "schedule": crontab(minute=0, hour=2)},
    # The city's HR roster from HR_ROSTER_DIR (access_requests.roster); nothing to do when it is unset.
    "hr-roster": {"task": "access_requests.tasks.apply_hr_roster", "schedule": crontab(minute=30, hour=5)},
    # Separation-of-duties findings among existing accounts, for the reports (accounts.sod).
    "scan-sod": {"task": "accounts.tasks.scan_sod", "schedule": crontab(minute=30, hour=2)},
    # What ends on a date (Sections 3.6, 3.7, 3.11, 5.1 and temporary access): each ends at 00:00, city
    # time, on its end date. Every hour, five minutes past, so a worker that was down at midnight catches
    # up within the hour; each run is idempotent.
    "temporary-grants": {"task": "accounts.tasks.temporary_grants_daily", "schedule": crontab(minute=5)},
    "sharing-agreements": {"task": "agreements.tasks.agreements_daily", "schedule": crontab(minute=5)},
    "external-connections": {
        "task": "external.tasks.external_connections_daily", "schedule": crontab(minute=5),
    },
    "waivers": {"task": "waivers.tasks.waivers_daily", "schedule": crontab(minute=5)},
    "retention-extensions": {"task": "retention.tasks.retention_daily", "schedule": crontab(minute=5)},
    # The audit trail's last entry of the day before, published and mailed to ITSA (portal.audit);
    # a run that finds the day anchored does nothing, a missed night is anchored by the next run.
    "publish-audit-anchors": {"task": "audits.tasks.publish_audit_anchors", "schedule": crontab(minute=20, hour=0)},
    # Reminders of the reports of Section 2.5 that are due or overdue; a second run the same day sends nothing.
    "remind-reports-due": {"task": "reports.tasks.remind_reports_due", "schedule": crontab(minute=10, hour=7)},
}

# Validations (3.4): opened this many days before the anniversary, due this many days after
# opening; reminders at these days before the due date; after the grace period, undecided
# end-user grants are suspended ("suspend") or only flagged ("flag").
VALIDATION_LEAD_DAYS = env.int("VALIDATION_LEAD_DAYS", default=30)
VALIDATION_DUE_DAYS = env.int("VALIDATION_DUE_DAYS", default=30)
VALIDATION_REMINDER_DAYS = tuple(env.list("VALIDATION_REMINDER_DAYS", cast=int, default=[14, 7, 2, 0]))
VALIDATION_GRACE_DAYS = env.int("VALIDATION_GRACE_DAYS", default=14)
VALIDATION_NON_RESPONSE = env.str("VALIDATION_NON_RESPONSE", default="suspend")

# The reports of Section 2.5. The order sets no date: a department's annual report is due this many
# days after its year ends, the citywide report this many days after its half-year ends.
DEPARTMENT_REPORT_DUE_DAYS = env.int("DEPARTMENT_REPORT_DUE_DAYS", default=60)
CITY_REPORT_DUE_DAYS = env.int("CITY_REPORT_DUE_DAYS", default=90)
if DEPARTMENT_REPORT_DUE_DAYS < 0 or CITY_REPORT_DUE_DAYS < 0:
    raise ImproperlyConfigured("DEPARTMENT_REPORT_DUE_DAYS and CITY_REPORT_DUE_DAYS must be 0 or more.")

# Security headers everywhere; production adds the HTTPS-only ones. The Content Security Policy is
# at the end of this file, Permissions-Policy in portal/headers.py.
SECURE_CONTENT_TYPE_NOSNIFF = True
# Page addresses name people and requests (/people/12/, ?q=name): none leaves the portal. Not
# "no-referrer": Django's CSRF check on HTTPS compares the Referer of a form post without Origin.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Session and CSRF cookies are SameSite=Lax, not Strict: the return from the city's sign-in
# provider (OIDC) is a cross-site navigation that must carry the session. No page changes anything
# on GET, so Lax is enough to keep cross-site posts out.
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Idle timeout: a session lasts this long after the last request (renewed by the session policy
# middleware at most once a minute, to spare a database write on every page)...
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_RENEW_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# ...and never longer than this since sign-in, however active (security.middleware).
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=10 * 60 * 60)
# Approvals, provisioning, lock releases and second-factor changes ask for the password again
# unless it was entered this many seconds ago.
PASSWORD_CONFIRM_SECONDS = env.int("PASSWORD_CONFIRM_SECONDS", default=5 * 60)
# Invitation links to set a first password last this many days; reset links PASSWORD_RESET_TIMEOUT seconds.
INVITATION_DAYS = env.int("INVITATION_DAYS", default=7)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=2 * 60 * 60)
# "Forgot your password?" requests per address and per client address in each window.
PASSWORD_RESET_WINDOW_SECONDS = env.int("PASSWORD_RESET_WINDOW_SECONDS", default=60 * 60)
PASSWORD_RESET_ADDRESS_LIMIT = env.int("PASSWORD_RESET_ADDRESS_LIMIT", default=3)
PASSWORD_RESET_IP_LIMIT = env.int("PASSWORD_RESET_IP_LIMIT", default=20)
CSRF_COOKIE_HTTPONLY = True


# The proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the client
# (portal/client_address.py). Empty: the address that connects is the client's.
def _trusted_proxies() -> list[str]:
    try:
        return [str(ipaddress.ip_network(entry.strip(), strict=False))
                for entry in env.list("PORTAL_TRUSTED_PROXIES", default=[])]
    except ValueError as problem:
        raise ImproperlyConfigured(f"PORTAL_TRUSTED_PROXIES: {problem}.") from None


PORTAL_TRUSTED_PROXIES = _trusted_proxies()
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # A year, the minimum for the browsers' preload lists.
    SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Logs go to stderr, one line per event (portal.logging, which escapes what people typed): JSON in
# production, readable text elsewhere. LOG_LEVEL is the level of the portal's own loggers and
# Celery's; Django's log warnings and errors (a 500 with its traceback), other libraries' warnings.
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "text")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "portal": {"()": "portal.logging.JsonFormatter" if LOG_FORMAT == "json" else "portal.logging.TextFormatter"},
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "portal"}},
    # One handler, on the root: every logger reaches it, and none writes anywhere else.
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        "django": {"level": "WARNING", "propagate": True},
        "django.server": {"level": "INFO", "propagate": True},  # runserver's request lines
        # gunicorn.conf.py hands this configuration to gunicorn's master process too.
        "gunicorn.error": {"level": "INFO", "propagate": True},
        # axes warns of each failed sign-in, which the audit trail and portal.security record already.
        "axes": {"level": "ERROR", "propagate": True},
        **{name: {"level": LOG_LEVEL, "propagate": True}
           for name in ("portal", "accounts", "access_requests", "audits", "security", "celery")},
    },
}

# Separation-of-duties scan and lists.
PAGE_SIZE = env.int("PORTAL_PAGE_SIZE", default=25)

# The benchmark's baseline page (bench/load.py): one trivial query, routed only when this is set.
# Off unless the benchmark sets it; a deployment never does.
BENCH_BASELINE = env.bool("BENCH_BASELINE", default=False)
# The production smoke run (bin/smoke) routes a page that fails on purpose, to find its traceback in
# the logs. Off unless the smoke run sets it; a deployment never does.
SMOKE_ROUTES = env.bool("SMOKE_ROUTES", default=False)

# The audit trail is a hash chain: each entry carries an HMAC-SHA256 of its content and of the
# previous entry's hash, keyed by AUDIT_CHAIN_KEY, so someone who can write to the database but
# does not hold the key cannot rewrite an entry without `verify_audit_log` noticing. Without the
# variable the key is derived from SECRET_KEY (an HMAC of a fixed label); set it explicitly in
# production and keep it when the secret key rotates, or every older entry stops verifying.
AUDIT_CHAIN_KEY = env.str("AUDIT_CHAIN_KEY", default="") or hmac.new(
    SECRET_KEY.encode(), b"portal.audit-chain", hashlib.sha256
).hexdigest()
# Audit entries are kept at least a year (CJIS); the portal itself never deletes any.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=400)
if AUDIT_RETENTION_DAYS < 365:
    raise ImproperlyConfigured("AUDIT_RETENTION_DAYS must be at least 365: audit entries are kept a year or more.")

# Content Security Policy: only the portal's own files; no inline script or style anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}

# Sign-in: the second factor (django-otp) and the lockout (django-axes). Five failed sign-ins of
# one account from one address, each within 15 minutes of the last, lock the account from that
# address only, so that an attacker cannot lock anyone out of the portal from elsewhere; failures
# of one account from every address together lock it everywhere (security.services.account_lock).
# A lock stays until ITSA releases it, or `manage.py unlock_account`.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="City surveillance access portal")
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "security.lockout.username"
AXES_CLIENT_IP_CALLABLE = "portal.client_address.client_address"
AXES_WHITELIST_CALLABLE = "security.lockout.uncounted"
# 20, four addresses' worth: a person mistyping at the office, at home and on a phone stays under
# it, while a guesser spread over many addresses gets 20 tries, far too few for a 12-character password.
SIGN_IN_ACCOUNT_FAILURE_LIMIT = env.int("SIGN_IN_ACCOUNT_FAILURE_LIMIT", default=20)
if SIGN_IN_ACCOUNT_FAILURE_LIMIT < AXES_FAILURE_LIMIT:
    raise ImproperlyConfigured(f"SIGN_IN_ACCOUNT_FAILURE_LIMIT must be {AXES_FAILURE_LIMIT} or more.")
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "security/locked_out.html"
AXES_VERBOSE = False


# Single sign-on through the city's OpenID Connect provider, for cities that have one: on when
# OIDC_RP_CLIENT_ID is set. It signs in only people ITSA has entered (security/oidc.py).
def _oidc_required(name: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(f"Set {name}: single sign-on is on because OIDC_RP_CLIENT_ID is set.")
    return value


OIDC_ENABLED = bool(env.str("OIDC_RP_CLIENT_ID", default=""))
if OIDC_ENABLED:
    INSTALLED_APPS.append("mozilla_django_oidc")
    # After axes' backend, before the password backend.
    AUTHENTICATION_BACKENDS.insert(
        AUTHENTICATION_BACKENDS.index("django.contrib.auth.backends.ModelBackend"), "security.oidc.CityOIDCBackend"
    )
    OIDC_RP_CLIENT_ID = _oidc_required("OIDC_RP_CLIENT_ID")
    OIDC_RP_CLIENT_SECRET = _oidc_required("OIDC_RP_CLIENT_SECRET")
    OIDC_OP_AUTHORIZATION_ENDPOINT = _oidc_required("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = _oidc_required("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = _oidc_required("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = _oidc_required("OIDC_OP_JWKS_ENDPOINT")
    OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
    OIDC_RP_SCOPES = "openid email"
    OIDC_CREATE_USER = False  # ITSA enters people; a city account alone never makes one.
    OIDC_USE_PKCE = True
    OIDC_TIMEOUT = 10  # seconds: a provider that does not answer must not hang the sign-in page
    OIDC_CALLBACK_CLASS = "security.oidc.CityOIDCCallbackView"

# Accounts that should not exist: each night, report the live grants unused on their system for
# this many days (never used: since provisioning), those of people deactivated or gone, and those
# with no approved access request; with GRANT_HYGIENE_SUSPEND on, also suspend each active one found
# (once) and ask ITSA to suspend the account on the system. Off by default: report only.
GRANT_HYGIENE_UNUSED_DAYS = env.int("GRANT_HYGIENE_UNUSED_DAYS", default=90)
if GRANT_HYGIENE_UNUSED_DAYS < 1:
    raise ImproperlyConfigured("GRANT_HYGIENE_UNUSED_DAYS must be 1 or more.")
GRANT_HYGIENE_SUSPEND = env.bool("GRANT_HYGIENE_SUSPEND", default=False)

# The city's HR roster: each morning the newest *.csv in this folder is applied (leavers, leave,
# transfers, joiners). Empty: off. A run that would take more than this share of the working people
# away at once is refused, as a malformed file is.
HR_ROSTER_DIR = env.str("HR_ROSTER_DIR", default="")
HR_ROSTER_MAX_LEAVERS_SHARE = env.float("HR_ROSTER_MAX_LEAVERS_SHARE", default=0.05)
if not 0 <= HR_ROSTER_MAX_LEAVERS_SHARE <= 1:
    raise ImproperlyConfigured("HR_ROSTER_MAX_LEAVERS_SHARE must be between 0 and 1.")
