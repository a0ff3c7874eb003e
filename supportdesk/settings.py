"""Django settings, read from environment variables with safe defaults (see README)."""

import ipaddress
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from supportdesk.conf import redis_cache
from supportdesk.officehours import OfficeHoursError, office_hours_parse

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
TESTING = env.bool("SUPPORTDESK_TESTING", default=False)

_DEV_SECRET_KEY = "supportdesk-insecure-development-key-change-me"  # noqa: S105 (dev only)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        # Production must not run on a key that is public in this repository.
        raise ImproperlyConfigured("SECRET_KEY must be set (or run with DEBUG=1 for development).")
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", default=["http://127.0.0.1:8000", "http://localhost:8000"]
)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",  # HTTP hardening: login brute-force lockout (see the block below)
    "csp",  # HTTP hardening: Content-Security-Policy header
    "apikeys",
    "sessions_app",
    "chat",
    "agents",
    "teams",
    "webhooks",
    "notifications",
]

MIDDLEWARE = [
    "supportdesk.middleware.RequestIdMiddleware",
    # HTTP hardening: a database outage or an exhausted pool answers 503, not 500.
    "supportdesk.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # HTTP hardening
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # HTTP hardening: django-axes answers a locked-out login; it must stay last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "supportdesk.urls"
ASGI_APPLICATION = "supportdesk.asgi.application"
WSGI_APPLICATION = None

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
            ],
            # {% load richtext %}: message text through the one sanitising renderer.
            "libraries": {"richtext": "supportdesk.richtext_tags"},
        },
    },
]

# --- Database: SQLite (embedded) unless DATABASE_URL points elsewhere -----------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue instead of failing
    # with "database is locked" halfway through a transaction (SQLite ignores FOR UPDATE).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
else:
    # --- HTTP hardening: a bounded connection pool per process -------------------------------
    # Reuse connections (a new PostgreSQL connection per consumer query cost ~5 ms each and
    # capped a Daphne process's message rate, docs/performance.md) but never more than
    # DB_POOL_MAX_SIZE of them: CONN_MAX_AGE kept one connection per thread, and ASGI runs a
    # thread per request, so a burst of 30 reads opened 94 connections. With the pool, a
    # request or a consumer's run_db borrows a connection and returns it when it ends; one
    # that waits DB_POOL_TIMEOUT seconds for a free connection answers 503 (middleware).
    # DB_POOL=0 falls back to plain connections (e.g. behind PgBouncer in transaction mode).
    if env.bool("DB_POOL", default=True):
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool, not the thread, keeps connections
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
            "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
            "timeout": env.float("DB_POOL_TIMEOUT", default=5.0),
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, cache and Celery broker in full mode -----------------------------
REDIS_URL = env.str("REDIS_URL", default="")
EMBEDDED = not REDIS_URL

if EMBEDDED:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    # The pub/sub layer: measured to deliver every message under load where the list-based
    # RedisChannelLayer dropped some and exhausted its pool (docs/performance.md).
    CHANNEL_LAYER_BACKEND = {
        "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
        # Kept selectable only so bench/ can compare the two on the same code.
        "core": "channels_redis.core.RedisChannelLayer",
    }[env.str("CHANNEL_LAYER", default="pubsub")]
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": CHANNEL_LAYER_BACKEND,
            "CONFIG": {
                "hosts": [REDIS_URL],
                # Pub/sub channels are global to a Redis server (not per db number): stacks
                # sharing one Redis need their own prefix.
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="supportdesk"),
            },
        }
    }
    CACHES = {"default": redis_cache(REDIS_URL)}
DJANGO_REDIS_IGNORE_EXCEPTIONS = True
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "supportdesk.cache"

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=EMBEDDED)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# A task not acknowledged within this long is redelivered; every time limit below stays far
# under it so a slow task is never run twice concurrently.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# The unanswered sweep (agents.services.unanswered_sweep) re-enqueues replies lost with a
# killed worker or never enqueued during a broker outage: a message unanswered for
# AGENT_UNANSWERED_AFTER seconds (well above a reply's worst case, ~60 s) is re-enqueued up
# to AGENT_SWEEP_MAX_REQUEUES times, then handed to a person.
AGENT_SWEEP_INTERVAL = env.float("AGENT_SWEEP_INTERVAL", default=15.0)
AGENT_UNANSWERED_AFTER = env.float("AGENT_UNANSWERED_AFTER", default=180.0)
AGENT_SWEEP_MAX_REQUEUES = env.int("AGENT_SWEEP_MAX_REQUEUES", default=2)
# Teams: queued conversations are assigned as agents free up; the beat drain catches the
# changes no signal announces (a release, a reassignment), TEAMS_QUEUE_DRAIN_LIMIT at a time.
TEAMS_QUEUE_DRAIN_INTERVAL = env.float("TEAMS_QUEUE_DRAIN_INTERVAL", default=30.0)
TEAMS_QUEUE_DRAIN_LIMIT = env.int("TEAMS_QUEUE_DRAIN_LIMIT", default=50)
# Conversation states: auto-reopen window after a close (seconds, 0: never) and how often
# beat wakes snoozed conversations whose time has come.
SESSION_REOPEN_WITHIN = env.float("SESSION_REOPEN_WITHIN", default=7 * 24 * 3600.0)
SNOOZE_SWEEP_INTERVAL = env.float("SNOOZE_SWEEP_INTERVAL", default=30.0)
# Link of a knowledge-base article for the {{article.url}} placeholder, "{slug}" replaced
# (e.g. https://help.example.com/articles/{slug}); empty: the placeholder renders empty.
ARTICLE_URL_TEMPLATE = env.str("ARTICLE_URL_TEMPLATE", default="")
CELERY_BEAT_SCHEDULE = {
    "teams-queue-drain": {
        "task": "teams.tasks.queue_drain",
        "schedule": TEAMS_QUEUE_DRAIN_INTERVAL,
        "options": {"expires": max(TEAMS_QUEUE_DRAIN_INTERVAL * 2, 10.0)},
    },
    "sessions-snoozed-wake": {
        "task": "sessions_app.tasks.snoozed_wake",
        "schedule": SNOOZE_SWEEP_INTERVAL,
        "options": {"expires": max(SNOOZE_SWEEP_INTERVAL * 2, 10.0)},
    },
    "connections-cleanup-stale": {
        "task": "chat.tasks.connections_cleanup_stale",
        "schedule": 30.0,
    },
    "agents-unanswered-sweep": {
        "task": "agents.tasks.unanswered_sweep",
        "schedule": AGENT_SWEEP_INTERVAL,
        "options": {"expires": max(AGENT_SWEEP_INTERVAL * 2, 10.0)},
    },
    # Webhooks: re-enqueue deliveries whose task was lost (e.g. the broker was down).
    "webhooks-deliveries-resume": {
        "task": "webhooks.tasks.deliveries_resume",
        "schedule": 60.0,
    },
    "webhooks-deliveries-prune": {
        "task": "webhooks.tasks.deliveries_prune",
        "schedule": 24 * 3600.0,
    },
}

# --- Auth, i18n, static ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
if STATIC_ROOT.is_relative_to(VAR_DIR):
    # WhiteNoise warns on every request when STATIC_ROOT is missing; files come from finders.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
# Uploaded attachments go through default_storage (FileSystemStorage here; docs/operations.md
# "Attachments" for S3-compatible storage with django-storages). MEDIA_URL is never routed:
# files are served only by the authorised view (chat/api_attachments.py).
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sessions_app.authentication.SessionTokenAuthentication",
        "apikeys.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # HTTP hardening: DRF's parser, but JSON nested too deep is a 400, not a RecursionError.
    "DEFAULT_PARSER_CLASSES": ["supportdesk.api.JSONParser"],
    # Adds the error responses, summaries and access notes to every endpoint (openapi.py).
    "DEFAULT_SCHEMA_CLASS": "supportdesk.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "supportdesk.api.exception_handler",
    # Throttles (supportdesk/throttling.py): per API key, per customer token, per client IP;
    # a refused request is a 429 with Retry-After. Staff users are not throttled.
    "DEFAULT_THROTTLE_CLASSES": [
        "apikeys.throttling.ApiKeyThrottle",
        "sessions_app.throttling.CustomerTokenThrottle",
        "supportdesk.throttling.AnonIpThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "session_create": env.str("SESSION_CREATE_RATE", default="30/min"),
        "api_key": env.str("API_KEY_RATE", default="600/min"),
        "customer_token": env.str("CUSTOMER_TOKEN_RATE", default="120/min"),
        "anon_ip": env.str("ANON_IP_RATE", default="300/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "supportdesk API",
    # One name for a choice set several serializers use.
    "ENUM_NAME_OVERRIDES": {
        "WebhookEventTypeEnum": "webhooks.models.EventType",
        "AgentStatusEnum": "sessions_app.models.AgentStatus",
        "SessionStatusEnum": "sessions_app.models.SessionStatus",
        "MacroStatusEnum": "chat.models.MacroStatus",
        "PriorityEnum": "sessions_app.models.Priority",
    },
    "DESCRIPTION": (
        "Customer sessions, messages and the AI/human support lifecycle.\n\n"
        "**Authentication** (each operation lists what it accepts): a customer's session "
        "token (`Authorization: Session <token>`, returned once by `POST /api/v1/sessions/`); "
        "an integration's API key (`Authorization: Api-Key <key>`, scopes `read`, `write`, "
        "`ops`); a signed-in staff user's login cookie.\n\n"
        '**Errors** always have one shape: `{"error": {"code", "detail"}, '
        '"request_id"}`; every response carries `X-Request-ID`. **Throttling**: 429 with '
        "`Retry-After`, per API key, per customer token and per client IP.\n\n"
        "**Real time**: the WebSocket protocol (frames, close codes, an example session) is "
        "documented at [/api/docs/websocket/](/api/docs/websocket/)."
    ),
    "VERSION": "1.0.0",
    "EXTERNAL_DOCS": {"description": "WebSocket protocol", "url": "/api/docs/websocket/"},
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from our own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

# --- HTTP hardening: proxies, TLS, CSP, login lockout, body size -----------------------------
# Proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For is believed. Empty (default):
# the TCP peer is the client, whatever the header says (supportdesk/clientip.py).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# TLS: off by default so `make run` works over plain http; set them behind TLS (docs/operations.md).
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# Load balancers probe over plain http: don't redirect the health checks.
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
# "HTTP_X_FORWARDED_PROTO,https": the header a TLS-terminating proxy sets (only behind one!).
_PROXY_SSL_HEADER = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if _PROXY_SSL_HEADER:
    if len(_PROXY_SSL_HEADER) != 2:
        raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must be '<META name>,<value>'.")
    SECURE_PROXY_SSL_HEADER = (_PROXY_SSL_HEADER[0], _PROXY_SSL_HEADER[1])

# Content-Security-Policy (django-csp): scripts only from our own origin, never inline (the
# templates keep their configuration in data attributes). Styles may be inline: the admin and
# Swagger UI set style attributes, and a style cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],  # 'self' covers ws:/wss: to this host (CSP level 3)
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Login brute-force protection (django-axes) on /admin/login/ and /console/login/.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # must be first: refuses a locked-out login
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_COOLOFF_MINUTES = env.float("LOGIN_COOLOFF_MINUTES", default=15)
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
# Two independent locks: one per client IP (one address guessing many accounts) and one per
# account (many addresses guessing one account). The account lock lets an attacker lock a
# known staff name out for the cool-off; we accept that over an unlimited distributed guess
# (docs/operations.md). "username+ip_address" would lock only that pair instead.
AXES_LOCKOUT_PARAMETERS = [
    item.split("+") if "+" in item else item
    for item in env.list("LOGIN_LOCKOUT_PARAMETERS", default=["ip_address", "username"])
]
AXES_CLIENT_IP_CALLABLE = "supportdesk.clientip.client_ip"
AXES_LOCKOUT_CALLABLE = "supportdesk.logins.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # axes logs each failure at WARNING itself; we log the lockout once
AXES_SENSITIVE_PARAMETERS = ["password"]

# Request bodies: Django refuses more than DATA_UPLOAD_MAX_MEMORY_SIZE (413); the Daphne
# wrapper (supportdesk/serve.py) refuses more than HTTP_MAX_BODY_BYTES (env, default 1 MiB)
# before buffering it.

# --- supportdesk's own settings (read through supportdesk.conf.app_setting) -----------------
AGENT_PROVIDER = env.str("AGENT_PROVIDER", default="extractive")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_MODEL = env.str("OPENAI_MODEL", default="gpt-4o-mini")
OPENAI_TIMEOUT = env.float("OPENAI_TIMEOUT", default=20.0)
AGENT_CONFIDENCE_THRESHOLD = env.float("AGENT_CONFIDENCE_THRESHOLD", default=None)
AGENT_ENCODER = env.str("AGENT_ENCODER", default="minilm")
# The knowledge base's language is English: a message clearly in another language gets a
# polite note and the offer of a person (agents/language.py). False for a non-English KB.
AGENT_LANGUAGE_CHECK = env.bool("AGENT_LANGUAGE_CHECK", default=True)
CHAT_MAX_MESSAGE_CHARS = env.int("CHAT_MAX_MESSAGE_CHARS", default=4000)
CHAT_RATE_LIMIT = env.str("CHAT_RATE_LIMIT", default="20/10s")
CHAT_STALE_AFTER = env.int("CHAT_STALE_AFTER", default=90)
# WebSocket abuse limits (docs/operations.md "WebSocket abuse and limits").
CHAT_AGENT_RECHECK_SECONDS = env.float("CHAT_AGENT_RECHECK_SECONDS", default=5.0)
WS_MAX_QUEUED_FRAMES = env.int("WS_MAX_QUEUED_FRAMES", default=32)
WS_TRANSPORT_RATE = env.str("WS_TRANSPORT_RATE", default="100/10s")
WS_SHUTDOWN_GRACE = env.float("WS_SHUTDOWN_GRACE", default=3.0)
# REST long polls (POST …/messages/?wait=N) in progress at once per process.
API_WAIT_MAX_CONCURRENT = env.int("API_WAIT_MAX_CONCURRENT", default=100)

# --- Attachments (docs/api.md "Attachments") ---------------------------------------------
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
ATTACHMENT_MAX_PER_MESSAGE = env.int("ATTACHMENT_MAX_PER_MESSAGE", default=5)
ATTACHMENT_URL_MAX_AGE = env.int("ATTACHMENT_URL_MAX_AGE", default=24 * 3600)  # signed links
ATTACHMENT_UNATTACHED_HOURS = env.float("ATTACHMENT_UNATTACHED_HOURS", default=24.0)
ATTACHMENT_MAX_PIXELS = env.int("ATTACHMENT_MAX_PIXELS", default=40_000_000)
CELERY_BEAT_SCHEDULE["attachments-cleanup-unattached"] = {
    "task": "chat.tasks.attachments_cleanup_unattached",
    "schedule": 3600.0,
}

# --- Webhooks (docs/api.md "Webhooks") ----------------------------------------------------
# Delays in seconds before attempts 2, 3, …: 7 attempts over about 1 h 50 min by default.
WEBHOOK_RETRY_SCHEDULE = env.list(
    "WEBHOOK_RETRY_SCHEDULE", cast=float, default=[10, 60, 300, 900, 1800, 3600]
)
WEBHOOK_RETRY_JITTER = env.float("WEBHOOK_RETRY_JITTER", default=0.1)  # ±10 % of each delay
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)  # connect / each read, seconds
WEBHOOK_DISABLE_AFTER = env.int("WEBHOOK_DISABLE_AFTER", default=5)  # failed deliveries in a row
WEBHOOK_LOG_RETENTION_DAYS = env.int("WEBHOOK_LOG_RETENTION_DAYS", default=30)  # 0: keep forever
# SSRF guard: off only where the receivers are meant to be local (tests, a lab).
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
if not WEBHOOK_RETRY_SCHEDULE or any(delay < 0 for delay in WEBHOOK_RETRY_SCHEDULE):
    raise ImproperlyConfigured("WEBHOOK_RETRY_SCHEDULE: comma-separated seconds, at least one.")

# --- After a hand-over: expected reply time, office hours, emails (docs/operations.md) -------
SUPPORT_TIMEZONE = env.str("SUPPORT_TIMEZONE", default="UTC")
SUPPORT_OFFICE_HOURS = env.str("SUPPORT_OFFICE_HOURS", default="")
try:  # a typo must stop the deploy, not silently tell customers the office is always open
    office_hours_parse(SUPPORT_OFFICE_HOURS, SUPPORT_TIMEZONE)
except OfficeHoursError as _error:
    raise ImproperlyConfigured(str(_error)) from None
SUPPORT_PUBLIC_URL = env.str("SUPPORT_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
REPLY_EMAIL_DEBOUNCE_MINUTES = env.float("REPLY_EMAIL_DEBOUNCE_MINUTES", default=15.0)
RESUME_LINK_MAX_AGE_HOURS = env.float("RESUME_LINK_MAX_AGE_HOURS", default=72.0)
AGENT_ANSWER_WHILE_WAITING = env.bool("AGENT_ANSWER_WHILE_WAITING", default=False)
# Django's email framework; the defaults talk SMTP to localhost:25.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Support <support@localhost>")
# --- Knowledge gaps (docs/console.md "Knowledge gaps") ------------------------------------
KNOWLEDGE_GAPS_WINDOW = env.int("KNOWLEDGE_GAPS_WINDOW", default=300)  # recent non-answers read
KNOWLEDGE_GAPS_SIMILARITY = env.float("KNOWLEDGE_GAPS_SIMILARITY", default=0.55)  # cosine to join
if KNOWLEDGE_GAPS_WINDOW < 1 or not 0 < KNOWLEDGE_GAPS_SIMILARITY <= 1:
    raise ImproperlyConfigured(
        "KNOWLEDGE_GAPS_WINDOW must be ≥ 1 and KNOWLEDGE_GAPS_SIMILARITY in (0, 1]."
    )

# --- Operations surface: who may scrape /metrics (staff sessions always may) ----------------
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
for _entry in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_entry.strip(), strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_IPS: {_entry!r} is not an IP address or network"
        ) from None

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# "plain": one readable line per event; "json": one JSON object per line for log shippers.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain").lower()
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'plain' or 'json', not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "supportdesk.logging.ContextFilter"},
        "recovered_fault": {"()": "supportdesk.logging.RecoveredFaultFilter"},
    },
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(context_id)s] %(message)s",
        },
        "json": {"()": "supportdesk.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "daphne": {"level": "WARNING"},
        "celery": {"level": "INFO"},
        # A cache outage is survived (IGNORE_EXCEPTIONS): a WARNING, not an ERROR.
        "supportdesk.cache": {"filters": ["recovered_fault"]},
    },
}
