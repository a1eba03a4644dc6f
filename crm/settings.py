"""Settings, driven by environment variables (see .env.example).

CRM_ENV=production switches on the deployment checks: a required SECRET_KEY, secure cookies, HSTS and HTTPS.
With DATABASE_URL unset the project starts an embedded PostgreSQL under var/; with REDIS_URL unset Celery
tasks run in-process after commit and the cache is local memory.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _
from pghistory.config import ForeignKey as HistoryForeignKey
from pghistory.config import ObjForeignKey as HistoryObjForeignKey

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


CRM_ENV = os.environ.get("CRM_ENV", "development")
PRODUCTION = CRM_ENV == "production"
# Off unless asked for (DJANGO_DEBUG=1): the demo serves real-looking data on a port, and Django's debug pages
# would show settings and every URL to anyone who reaches it.
DEBUG = env_bool("DJANGO_DEBUG", False)


def _local_secret_key() -> str:
    """Outside production with no SECRET_KEY set: a random key made once per checkout and kept in var/ (never a
    key fixed in the code, which would let anyone forge sessions of a demo or development server)."""
    path = BASE_DIR / "var" / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(60)
    draft = path.with_name(f"secret_key.{os.getpid()}")
    with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(key)
    try:
        os.link(
            draft, path
        )  # atomic: a process that starts at the same time reads a whole key or makes its own
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        draft.unlink()
    return key


# Required in production (a missing key fails the start-up); locally a generated key is kept between runs.
SECRET_KEY = os.environ["SECRET_KEY"] if PRODUCTION else os.environ.get("SECRET_KEY") or _local_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The public address for links in emails (invitations); empty: the address each request came to.
SITE_URL = os.environ.get("SITE_URL", "")
# How many proxies of ours stand in front of the app (crm/clientaddr.py): 0 trusts no X-Forwarded-For at all.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "pgtrigger",
    "pghistory",
    "axes",
    "csp",
    "crm.apps.CrmConfig",
    # accounts before leads: demo data seeds in this order (leads convert into accounts and deals).
    "accounts.apps.AccountsConfig",
    "leads.apps.LeadsConfig",
    "lifecycle.apps.LifecycleConfig",
    "sales_ops.apps.SalesOpsConfig",
    "imports.apps.ImportsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "crm.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "crm.middleware.TenantMiddleware",
    # Inside the tenant transaction: every tracked change (django-pghistory) records who and which URL.
    "pghistory.middleware.HistoryMiddleware",
]

# History event tables (django-pghistory) are read only by record: accounts.selectors.history asks for a tenant's
# events of given `pgh_obj_id`s. So the object reference keeps its index and the copies of the record's foreign keys
# (owner, lead, account, source, tenant ...) and the context reference get none: pghistory's default indexes each,
# and each such index was written with every event (6 of an activity's 9, 9 of a lead's 12) and read by no query.
# The copies are not constraints either (db_constraint=False): nothing cascades or checks through them.
PGHISTORY_FOREIGN_KEY_FIELD = HistoryForeignKey(db_index=False)
PGHISTORY_OBJ_FIELD = HistoryObjForeignKey(db_index=True)

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"
ASGI_APPLICATION = "crm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "crm.context_processors.shell",
            ],
        },
    }
]

# --- Database: PostgreSQL always. ---------------------------------------------------------------------------
# Two roles (crm/dbroles.py): the app and the workers connect as DATABASE_URL's role, which has data privileges
# only; `migrate` (and `flush`, and the test set-up) connect as the owner role of the tables: DATABASE_OWNER_URL if
# set, else DATABASE_ADMIN_URL assuming DATABASE_OWNER_ROLE (default crm_owner), else (only the app role known)
# the app role itself, the old single-role layout.
_database_admin_url = os.environ.get("DATABASE_ADMIN_URL", "")
if os.environ.get("DATABASE_URL"):
    _database_url = os.environ["DATABASE_URL"]
else:
    from crm.embedded_db import embedded_admin_url, embedded_database_url

    _database_url = embedded_database_url()
    _database_admin_url = embedded_admin_url()

DATABASES = {
    "default": dj_database_url.parse(_database_url, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")))
}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
# PostgreSQL's JIT compiles a query whose estimated cost passes jit_above_cost. Every visibility filter (an OR of
# EXISTS subqueries, costed as if run per row) passes it, so pages paid 50-100 ms of compilation per query while the
# queries themselves ran in 20-60 ms; the nightly set-based SQL is faster without it too (bench/lifecycle.py prints
# both). Off for the app's and workers' connections; DATABASE_JIT=on gives the server's setting back.
if os.environ.get("DATABASE_JIT", "off") != "on":
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options["options"] = " ".join(filter(None, [_db_options.get("options", ""), "-c jit=off"]))
# A persistent connection (DB_CONN_MAX_AGE) that died with a database restart is replaced at the next request's
# first query instead of failing it (docs/operations.md, "Faults").
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get("TEST_DATABASE_NAME", "test_crm")


def _database_owner() -> dict:
    from crm.dbroles import DEFAULT_OWNER_ROLE, owner_connection_settings

    role = os.environ.get("DATABASE_OWNER_ROLE", DEFAULT_OWNER_ROLE)
    return {
        "ROLE": role,
        "APP_ROLE": DATABASES["default"].get("USER") or "",
        "CONNECTION": owner_connection_settings(
            owner_url=os.environ.get("DATABASE_OWNER_URL", ""), admin_url=_database_admin_url, owner_role=role
        ),
    }


DATABASE_OWNER = _database_owner()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "crm.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "crm:login"
LOGIN_REDIRECT_URL = "crm:home"
LOGOUT_REDIRECT_URL = "crm:login"

# Login throttling (django-axes): lock a username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "8"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "crm/lockout.html"
AXES_LOCKOUT_CALLABLE = "crm.lockout.lockout_response"  # the page above, or JSON on the API's token endpoint
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_CLIENT_IP_CALLABLE = "crm.clientaddr.client_ip"  # the trusted-proxy rule, like the API throttles

# --- i18n ------------------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("简体中文"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["crm.formats"]  # 中文 amounts grouped by thousands, as Chinese business tools show them
# Every filter bar's empty choice reads the same ("Any" / "全部"): django-filter's default is "---------".
FILTERS_EMPTY_CHOICE_LABEL = _("Any")

# --- Static files: own assets in static/, vendor assets copied from node_modules into static/vendor. -----------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
# Uploads larger than this are spooled to a temporary file while the request is read (never held in memory);
# imports then stream them into MEDIA_ROOT/imports/tenant-<id>/ (a volume that web and workers share in
# docker-compose.yml). DATA_UPLOAD_MAX_MEMORY_SIZE does not count file parts.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# The largest import file (imports.services.MAX_FILE_BYTES).
IMPORT_MAX_FILE_BYTES = int(os.environ.get("IMPORT_MAX_FILE_BYTES", 1024 * 1024 * 1024))
# A worker checks an import's next chunk while a thread of its own writes the one before (docs/architecture.md
# "Import jobs"); "0" runs the chunks one after the other.
IMPORT_WRITE_BEHIND = os.environ.get("IMPORT_WRITE_BEHIND", "1") != "0"

# --- Cache, Celery ----------------------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # Answers as an empty cache (and logs) while Redis is down, instead of failing the request (crm/cache.py);
    # short timeouts so an unreachable Redis costs a request little.
    CACHES = {
        "default": {
            "BACKEND": "crm.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "crm"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A message taken by a worker that died without acknowledging it goes back to the queue after this many seconds
# (Redis transport); longer than any task and any countdown (retry backoff at most 600 s), or a slow task would run
# twice at once. A pool process killed mid-task (the worker itself lives on) is re-queued at once instead
# (REJECT_ON_WORKER_LOST). Jobs a person waits for are also resumed by their reapers (imports, sales_ops).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
    "socket_connect_timeout": 2,
}
# Sending a task while Redis is down gives up after about a second (crm.celery.BrokerSafeTask logs it).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "crm.tasks.worker_heartbeat", "schedule": 30.0},
    # Tasks kept in the outbox while Redis was down (crm/outbox.py); a process that kept some also queues this as
    # soon as it can send again.
    "crm-relay-outbox": {"task": "crm.tasks.relay_outbox", "schedule": 300.0},
    # Daily lead jobs at fixed UTC times (beat restarts do not shift them), in the night of both Asia (03:20 and
    # 03:50 in Shanghai) and Europe (20:20 and 20:50 in Berlin, winter), away from the hourly reprice at :05.
    "leads-return-stale-to-pool": {
        "task": "leads.tasks.return_stale_leads_all_tenants",
        "schedule": crontab(hour=19, minute=20),
    },
    # Engagement scores count activities of the last 30 days: rescoring daily lets old ones drop out.
    "leads-rescore-daily": {
        "task": "leads.tasks.rescore_leads_all_tenants",
        "schedule": crontab(hour=19, minute=50),
    },
    # Hourly, picking the tenants whose local day just began: each tenant's open deals get the rates dated today.
    "accounts-reprice-due-rates": {
        "task": "accounts.tasks.opportunities_reprice_due_all_tenants",
        "schedule": crontab(minute=5),
    },
    # Hourly, picking the tenants whose local day just began: stages move with the local date (daily per tenant).
    "lifecycle-recompute-due": {
        "task": "lifecycle.tasks.recompute_lifecycle_due_all_tenants",
        "schedule": crontab(minute=15),
    },
    # Hourly, picking the tenants whose local day just began: renewal deals created renewal_lead_days ahead.
    "lifecycle-renewal-deals-due": {
        "task": "lifecycle.tasks.create_renewal_deals_due_all_tenants",
        "schedule": crontab(minute=25),
    },
    # Full KPI recompute of every tenant each 15 minutes (changes also queue a debounced one): current periods
    # move with the clock, and bulk updates and rate changes send no signal.
    "sales-ops-recompute-kpis": {
        "task": "sales_ops.tasks.recompute_kpis_all_tenants",
        "schedule": crontab(minute="7,22,37,52"),
    },
    # Jobs a person waits for that no worker runs (its worker died, or the message was lost with a Redis outage):
    # resumed, queued again or failed visibly, never "running" or "queued" for ever (imports, sales_ops).
    "imports-resume-stalled-jobs": {
        "task": "imports.tasks.resume_stalled_import_jobs_all_tenants",
        "schedule": 300.0,
    },
    "sales-ops-resume-stalled-recomputes": {
        "task": "sales_ops.tasks.resume_stalled_recomputes_all_tenants",
        "schedule": 300.0,
    },
    # Weekly forecast snapshots (KPIS.md): hourly, and each tenant's task takes one only once per local week.
    "sales-ops-forecast-snapshots": {
        "task": "sales_ops.tasks.take_forecast_snapshots_all_tenants",
        "schedule": crontab(minute=3),
    },
}
# A change to leads, deals, activities or quotas queues one recompute of its tenant this many seconds later.
KPI_RECOMPUTE_ON_CHANGE = env_bool("KPI_RECOMPUTE_ON_CHANGE", True)
KPI_RECOMPUTE_DEBOUNCE_SECONDS = int(os.environ.get("KPI_RECOMPUTE_DEBOUNCE_SECONDS", "5"))
# A change to a deal or a quota also queues a refresh of the current periods' deal metrics this many seconds later
# (sales_ops/services/refresh.py): the won deal on the dashboard within seconds, before the full recompute.
KPI_REFRESH_DEBOUNCE_SECONDS = int(os.environ.get("KPI_REFRESH_DEBOUNCE_SECONDS", "1"))
# work_mem of each KPI family statement (SET LOCAL in its transaction, sales_ops/services/engine.py): at a million
# leads the grouping-sets sorts of the leads and deals families spill hundreds of MB to disk at the server's 4MB.
# A few such sorts at a time per recomputing worker; "" keeps the server's setting.
KPI_RECOMPUTE_WORK_MEM = os.environ.get("KPI_RECOMPUTE_WORK_MEM", "256MB")
WORKER_HEARTBEAT_MAX_AGE = int(os.environ.get("WORKER_HEARTBEAT_MAX_AGE", "120"))

# --- Email ------------------------------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CRM <noreply@localhost>")

# --- API --------------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.auth.TenantTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["crm.permissions.IsTenantMember"],
    "DEFAULT_PARSER_CLASSES": [
        "crm.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "crm.schema.CrmAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "crm.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "crm.api_errors.exception_handler",
    # The token endpoint: per client address and per account tried (crm.api); NUM_PROXIES is the trusted hop
    # count (crm/clientaddr.py), so a client's own X-Forwarded-For never changes its address.
    "DEFAULT_THROTTLE_RATES": {"token": "20/min", "token_account": "10/min"},
    # Every tenant route: per token and per tenant (crm/throttling.py, rates below), 429 with Retry-After.
    "DEFAULT_THROTTLE_CLASSES": ["crm.throttling.TokenRateThrottle", "crm.throttling.TenantRateThrottle"],
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
# The authenticated API's limits (crm/throttling.py): generous, so only a runaway client meets them; DRF's
# "<n>/<sec|min|hour|day>". Counted in the default cache (Redis when REDIS_URL is set: shared by every process).
API_RATE_PER_TOKEN = os.environ.get("API_RATE_PER_TOKEN", "1200/min")
API_RATE_PER_TENANT = os.environ.get("API_RATE_PER_TENANT", "6000/min")
# An API token expires this many days after it is created unless it is created with another expiry.
API_TOKEN_DAYS = int(os.environ.get("API_TOKEN_DAYS", "90"))
# last_used_at is written at most once per this many seconds per token (not on every request).
API_TOKEN_LAST_USED_SECONDS = 60
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "Multi-tenant lead-to-renewal CRM. Every tenant route lives under `/api/v1/t/<slug>/`; "
    "authenticate with `Authorization: Token <token>` from POST /api/v1/auth/token/.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One schema name per choice set: several models share a field name ("kind", "status") with other choices.
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "crm.models.Role",
        "MembershipStatusEnum": "crm.models.MembershipStatus",
        "SourceKindEnum": "leads.models.SourceKind",
        "ChannelEnum": "leads.models.Channel",
        "LeadStatusEnum": "leads.models.LeadStatus",
        "SizeBandEnum": "accounts.models.SizeBand",
        "ScoringCategoryEnum": "leads.models.ScoringCategory",
        "ScoringFieldEnum": "leads.models.ScoringField",
        "ImportStatusEnum": "imports.models.ImportStatus",
        "RecomputeStatusEnum": "sales_ops.models.RecomputeStatus",
        "PoolEventKindEnum": "leads.models.PoolEventKind",
        "TierEnum": "accounts.models.Tier",
        "FeedbackKindEnum": "lifecycle.models.FeedbackKind",
        "FeedbackChannelEnum": "lifecycle.models.FeedbackChannel",
        "LifecycleStageEnum": "accounts.models.LifecycleStageName",
        "AccountAccessEnum": "accounts.models.AccountAccess",
        "StageKindEnum": "accounts.models.StageKind",
        "OpportunityTypeEnum": "accounts.models.OpportunityType",
        "ForecastCategoryEnum": "accounts.models.ForecastCategory",
        "ActivityKindEnum": "accounts.models.ActivityKind",
        "MergeEntityEnum": "accounts.models.MergeEntity",
    },
}

# --- Security ---------------------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
