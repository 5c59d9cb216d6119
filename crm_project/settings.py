"""
Settings for the CRM, read from the environment in this one module.

Every variable is documented in README.md ("Configuration"). The defaults give a
newcomer a working CRM on a SQLite file with nothing else to set up; production
sets DJANGO_DEBUG=0, DJANGO_SECRET_KEY and DATABASE_URL (PostgreSQL).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}.") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int_list(name: str, default: str) -> list[int]:
    items = env_list(name, default)
    try:
        return [int(item) for item in items]
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be integers separated by commas, got {items!r}.") from exc


# --- Core -------------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", default=True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    # Development only: a fixed, clearly-labelled key so sessions survive restarts.
    SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "crm_project.reporting.apps.CRMAdminConfig",  # django.contrib.admin with the CRM's dashboard site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "django_celery_beat",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crm_project.core",
    "customers",
    "leads",
    "opportunities",
    "communications",
    "segments",
    "crm_project.reporting",
    "crm_project.merging",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The request's id (X-Request-ID) and source, recorded with every change it makes.
    "crm_project.core.middleware.ChangeContextMiddleware",
    # Retries of a POST with an Idempotency-Key get the first answer instead of doing the work again.
    "crm_project.core.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "crm_project.urls"
# API paths work with and without a trailing slash by their own patterns; a redirect would
# turn a client's POST into a GET.
APPEND_SLASH = False
WSGI_APPLICATION = "crm_project.wsgi.application"
ASGI_APPLICATION = "crm_project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "crm_project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        # Persistent connections: one per gunicorn worker thread instead of one per request.
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# Services own their transactions (STYLE.md rule 6).
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers on the newcomer's SQLite file wait for each other instead of failing
    # at once: every transaction takes the write lock when it begins (a transaction that
    # reads first and writes later cannot wait for the lock once it has read).
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: on the API's aggregates over a million rows it spends 20-90 ms
    # compiling, on every request, more than it saves (bench/RESULTS.md).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and rate counters (shared by every worker and host) --------------------------

# Rate-limit counts live in Redis when it is configured (an atomic INCR), otherwise in the
# database (an atomic upsert): see crm_project/core/ratelimit.py.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # The database is shared by every worker and host without another service. Its table is
    # created by a core migration.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "crm_cache",
        }
    }

# --- Auth -------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation ---------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "crm_project" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Request limits ---------------------------------------------------------------------

# JSON bodies above this size are refused with 413 before they are parsed.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1024 * 1024)
# Deeper JSON than this is refused with 400 (a deeply nested body is an attack, not data).
API_MAX_JSON_DEPTH = env_int("API_MAX_JSON_DEPTH", 32)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

# --- REST framework ---------------------------------------------------------------------

API_USER_RATE = os.environ.get("API_USER_RATE", "1200/min")
NUM_PROXIES = env_int("DJANGO_NUM_PROXIES", 0)
if NUM_PROXIES < 0:
    raise ImproperlyConfigured(f"DJANGO_NUM_PROXIES cannot be negative, got {NUM_PROXIES}.")
AUTH_RATE_PER_IP = os.environ.get("AUTH_RATE_PER_IP", "30/min")
AUTH_RATE_PER_USERNAME = os.environ.get("AUTH_RATE_PER_USERNAME", "10/min")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["crm_project.core.api.authentication.CRMJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["crm_project.core.api.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["crm_project.core.api.parsers.SafeJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "crm_project.core.api.pagination.CRMPageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "crm_project.core.api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["crm_project.core.api.throttles.AuthenticatedUserThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": API_USER_RATE or None,
        "auth_ip": AUTH_RATE_PER_IP or None,
        "auth_username": AUTH_RATE_PER_USERNAME or None,
    },
    "DEFAULT_SCHEMA_CLASS": "crm_project.core.api.schema.CRMAutoSchema",
    "EXCEPTION_HANDLER": "crm_project.core.api.exception_handler.crm_exception_handler",
    "COERCE_DECIMAL_TO_STRING": False,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # The client address that throttles count: the socket's with no proxy in front; with N
    # trusted proxies, the Nth address from the right of X-Forwarded-For. Never ``None``,
    # which would make DRF trust the whole header, whatever a client writes into it.
    "NUM_PROXIES": NUM_PROXIES,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_TOKEN_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_TOKEN_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": os.environ.get("JWT_SIGNING_KEY") or SECRET_KEY,
    "ALGORITHM": "HS256",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "TOKEN_OBTAIN_SERIALIZER": "crm_project.core.api.auth_serializers.TokenObtainSerializer",
    "TOKEN_REFRESH_SERIALIZER": "crm_project.core.api.auth_serializers.TokenRefreshSerializer",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "B2B CRM API",
    "DESCRIPTION": (
        "Leads, opportunities (with forecasts against quotas and sales velocity), communications, "
        "customers and segments for a wholesale garment supplier. Authenticate with "
        "`POST /api/v1/auth/token`, then press **Authorize** and paste the `access` token. Before "
        "creating a lead or customer, `POST .../check-duplicates` with its body lists the likely "
        "duplicates already there."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Docstrings are written for the code's readers; what the document tells a client comes
    # from extend_schema (summary, description) and the fields' help_text.
    "DISABLE_DOCSTRING_DESCRIPTIONS": True,
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    # Every choice set gets its own schema name (several are called "status" or "type"), the
    # query parameters' ones too (query_enums_as_components).
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "leads.models.LeadStatus",
        "LeadSourceEnum": "leads.models.LeadSource",
        "LeadPriorityEnum": "leads.models.LeadPriority",
        "OpportunityStageEnum": "opportunities.models.OpportunityStage",
        "CommunicationTypeEnum": "communications.models.CommunicationType",
        "CommunicationDirectionEnum": "communications.models.CommunicationDirection",
        "CreditRatingEnum": "customers.models.CreditRating",
        "OrderFrequencyEnum": "customers.models.OrderFrequency",
        "RoleEnum": "crm_project.core.api.auth_views.ROLE_CHOICES",
        "SalesRoleEnum": "crm_project.core.roles.ROLE_GROUPS",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "crm_project.core.api.schema.query_enums_as_components",
        "crm_project.core.api.schema.paths_without_trailing_slash",
        "crm_project.core.api.schema.empty_query_values_mean_absent",
        "crm_project.core.api.schema.non_blank_text_has_a_visible_character",
    ],
}

# --- CORS (closed unless configured) ----------------------------------------------------

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["ETag", "Retry-After", "X-Request-ID", "Location", "X-CRM-Merge"]

# --- Security (production) --------------------------------------------------------------

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Health checks come over plain HTTP from the load balancer.
SECURE_REDIRECT_EXEMPT = [r"^health$"]

# --- Background work (Celery; see crm_project/celery.py and crm_project/core/jobs) ------

# With a broker, web hosts hand background work (imports, exports, digests, refreshes) to
# Celery workers through it; without one, the same work runs in the web process right after
# the transaction that asked for it commits. Either way each piece of work is a Job row first,
# so nothing is lost while the broker is down: ``dispatch_due_jobs`` (every minute) sends it on.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "crm")
# A task is acknowledged once done, not when received: a worker that dies mid-task leaves it to
# be delivered again (the job's lease makes a second run harmless).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CONCURRENCY = env_int("CELERY_WORKER_CONCURRENCY", 2)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 1800)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 1860)
# An unacknowledged task is delivered again after this long (Redis): longer than any task runs.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# A running job that has not reported progress for this long is taken to be lost (its worker
# died) and is started again by the next dispatch of due jobs.
JOB_STALE_SECONDS = env_int("JOB_STALE_SECONDS", 300)
# Finished jobs (and their files) are deleted after this many days by the daily pruning.
JOB_RETENTION_DAYS = env_int("JOB_RETENTION_DAYS", 14)
# The hour (in TIME_ZONE) of the morning follow-up digest's default schedule; managers change
# the schedule itself in the admin (Periodic tasks).
FOLLOW_UP_DIGEST_HOUR = env_int("FOLLOW_UP_DIGEST_HOUR", 7)

# Uploaded imports and finished exports. Several hosts: a shared volume, or object storage
# through STORAGES["default"] (e.g. django-storages).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Larger uploads (a lead import's CSV) are refused with 400.
API_MAX_UPLOAD_BYTES = env_int("API_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)

# --- Webhooks (crm_project/core/webhooks) ----------------------------------------------

# Lifts the rules on webhook URLs (https only, never an internal address): tests, and
# receivers on the CRM's own network.
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)
# The waits, in seconds, after the 1st, 2nd... failed delivery attempt (about 1 min, 5 min,
# 30 min, 2 h, 6 h, 24 h); after the last, the delivery is given up. The each-minute sweep
# hands a delivery over once its wait is over.
WEBHOOK_RETRY_DELAYS = env_int_list("WEBHOOK_RETRY_DELAYS", "60,300,1800,7200,21600,86400")
# A deliverer holding a delivery for longer than this is taken to have died, and the sweep
# hands the delivery over again (same X-CRM-Delivery id). More than an attempt can take (a
# 10 s connect and a 10 s read).
WEBHOOK_LEASE_SECONDS = env_int("WEBHOOK_LEASE_SECONDS", 40)
# Each process keeps the list of active subscriptions this long (every change asks for it);
# a subscription created, changed or switched off applies on every host within this time.
WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS = env_int("WEBHOOK_SUBSCRIPTIONS_CACHE_SECONDS", 2)

# How long a merge of customers or leads can be undone (``crm_project/merging``).
MERGE_UNDO_DAYS = env_int("MERGE_UNDO_DAYS", 30)

# --- Email (follow-up digests) ----------------------------------------------------------

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "crm@localhost")

# --- Logging ----------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Benchmark-only switch (never on in production; see bench/README.md) ----------------

# Installs the benchmark's tools: ``manage.py bench_data`` and the floor endpoint at /bench/.
CRM_BENCHMARK = env_bool("CRM_BENCHMARK", default=False)
if CRM_BENCHMARK:
    INSTALLED_APPS.append("crm_project.benchmark")
