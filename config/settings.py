"""Settings for the casualty-documentation system.

One file, every knob an environment variable with a default that runs on a fresh checkout:
SQLite under var/ and eager Celery tasks when DATABASE_URL / REDIS_URL are unset (a newcomer's
`make run` needs nothing else); PostgreSQL and Redis with real workers in production and CI.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

WEAK_SECRET_PREFIXES = ("django-insecure", "changeme", "secret", "dev", "test")


def secret_key_problem(key: str) -> str | None:
    """Why a SECRET_KEY is not fit for production, or None when it is."""
    if not key:
        return "SECRET_KEY is not set"
    if len(key) < 50:
        return "SECRET_KEY is shorter than 50 characters"
    if len(set(key)) < 10:
        return "SECRET_KEY has fewer than 10 distinct characters"
    if key.lower().startswith(WEAK_SECRET_PREFIXES):
        return "SECRET_KEY looks like a default or example value"
    return None


def load_secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "")
    problem = secret_key_problem(key)
    if problem is None:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            f"{problem}. Set a strong random SECRET_KEY (50+ characters), e.g. "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(64))'; "
            "or set DEBUG=1 for local development only."
        )
    # Development only: a random key kept under var/ so sessions survive restarts.
    key_file = VAR_DIR / "dev_secret_key"
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
    return key_file.read_text().strip()


SECRET_KEY = load_secret_key()
# While rotating SECRET_KEY: the old key(s) here keep sessions and reset links valid until they expire.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if not DEBUG else "*")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "config.apps.SiteAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "audit",
    "outbox",
    "accounts",
    "incidents",
    "evidence",
    "counts",
    # The benchmark harness's one command, `generate_synthetic` (no models, no URLs): Django finds
    # management commands only in installed apps.
    "bench",
    "intake",
    "matching",
    "notices",
]

MIDDLEWARE = [
    # First: the client's address (TRUSTED_PROXIES), and forwarded headers from untrusted peers dropped
    # before SecurityMiddleware reads the scheme.
    "config.client.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Responses carrying witness identity are never cached (config/protected.py).
    "config.protected.ProtectedResponsesNotStored",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Refused API and page requests are audited (after the view's transaction, so a rollback keeps them).
    "config.middleware.AuditRefusalsMiddleware",
    # Before any view (and its transaction): rate limits, then the per-username sign-in back-off, then
    # the second factor (X-OTP codes checked here). Their process_view hooks run in this order.
    "config.ratelimit.RateLimitMiddleware",
    "accounts.middleware.SignInBackoffMiddleware",
    "accounts.middleware.RequireSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.ServiceUnavailableMiddleware",
    # Last, as django-axes requires: it turns a lockout into its answer.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses sign-in attempts from a locked-out username + IP pair before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

# Database: PostgreSQL from DATABASE_URL in production and CI; SQLite under var/ otherwise,
# so a fresh checkout runs with nothing installed.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
            conn_health_checks=True,
        )
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
            # Tests use a file too, not shared in-memory SQLite: the browser tests' live server answers
            # parallel requests (thumbnails, uploads), and one in-memory connection shared by its
            # threads fails them with "database table is locked".
            "TEST": {"NAME": str(VAR_DIR / "test-db.sqlite3")},
        }
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = True
# A kept list's page statement is prepared once per database connection and executed by name after that
# (config/compiled.py): PostgreSQL parses and plans it once instead of on every page (planning alone was
# 0.6-1.4 ms of a review-queue or duplicates page at a million victims). Every other statement is sent as
# before (Django's client-side binding never prepares). psycopg prepares only with a threshold set; it
# counts server-bound executions, and only those pages use them. 0: nothing prepared (e.g. behind a
# connection pooler in transaction mode that does not keep prepared statements).
API_PREPARED_LISTS = env_bool("API_PREPARED_LISTS", True)
if API_PREPARED_LISTS and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Validates nothing: its password_changed hook revokes the user's API tokens (accounts/signin.py).
    {"NAME": "accounts.signin.RevokeTokensOnPasswordChange"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media-not-served/"  # media is only ever served through permission-checked views

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
# The age counts from the last request (a sliding window), and the session never outlives SESSION_COOKIE_AGE idle.
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a reverse proxy (docs/deploy-behind-a-proxy.md). TRUSTED_PROXIES: the proxies' addresses or
# networks; only from them is X-Forwarded-For read (config/client.py: the client's address, in one place)
# and X-Forwarded-Proto believed. TRUSTED_PROXY_COUNT: how many proxies stand in front (alone: trust that
# many hops whatever their address, only when nothing else can reach the app server; with
# TRUSTED_PROXIES: at most that many hops).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0") or "0")
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or network (e.g. 127.0.0.1,10.0.0.0/8)"
        ) from None
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT cannot be negative")
# Deprecated alias: AXES_IPWARE_PROXY_COUNT never took effect (django-axes reads it only with django-ipware,
# which is not installed). Read as TRUSTED_PROXY_COUNT with the proxy on this host (loopback), which is no
# less safe than before; `check --deploy` warns (config.W001) until it is replaced by TRUSTED_PROXIES.
AXES_IPWARE_PROXY_COUNT_ALIAS = int(os.environ.get("AXES_IPWARE_PROXY_COUNT", "0") or "0")
if AXES_IPWARE_PROXY_COUNT_ALIAS > 0 and not (TRUSTED_PROXIES or TRUSTED_PROXY_COUNT):
    TRUSTED_PROXIES, TRUSTED_PROXY_COUNT = ["127.0.0.0/8", "::1"], AXES_IPWARE_PROXY_COUNT_ALIAS
# TLS ends at the proxy: set SECURE_PROXY_SSL_HEADER=1 so Django believes X-Forwarded-Proto (from a
# trusted proxy only, once TRUSTED_PROXIES is set). The public host comes in the Host header, which the
# proxy passes on (docs/nginx/casualties.conf), so X-Forwarded-Host is never read (USE_X_FORWARDED_HOST
# stays off) and CSRF_TRUSTED_ORIGINS is not needed for the site's own origin.
if env_bool("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HTTPS=1: the site is served over TLS (secure cookies, HSTS, redirect). With DEBUG off and HTTPS unset,
# every command warns (accounts.W001, which `check --deploy` fails on) and the web app logs it at start.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG and HTTPS)
# Health probes (a load balancer, a proxy's upstream check) talk plain HTTP to the app server directly.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content Security Policy (django-csp): nothing inline, nothing from elsewhere, never framed.
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Second factor (django-otp TOTP): reviewers and admins must verify a code after their password.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Casualty Records")
OTP_REQUIRED_FOR_REVIEWERS = env_bool("OTP_REQUIRED_FOR_REVIEWERS", True)
# First enrolment needs an admin's one-time link (accounts/enrolment.py), valid this long.
OTP_ENROLMENT_LINK_HOURS = int(os.environ.get("OTP_ENROLMENT_LINK_HOURS", "72"))

# Sign-in lockout (django-axes): per username *and* IP address, so an attacker elsewhere cannot lock
# out a real user; the lock lifts after AXES_COOLOFF_MINUTES, or sooner with `axes_reset`.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
# The site's own lockout page (layout, language, how long to wait) and JSON on the API: accounts/lockout.py.
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_VERBOSE = False  # lockouts are still logged (WARNING) and audited
# The client's address, as everywhere else (config/client.py, TRUSTED_PROXIES), not django-ipware's.
AXES_CLIENT_IP_CALLABLE = "config.client.client_address"

# Uploads stream to temporary files on disk beyond this size, never held whole in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
DATA_UPLOAD_MAX_NUMBER_FILES = 20

# Request bodies nested deeper than this are a 400 (config/parsers.py); real requests nest a few levels.
JSON_MAX_DEPTH = int(os.environ.get("JSON_MAX_DEPTH", "20"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.auth.TokenAuthentication",
        "accounts.auth.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    # JSON with a nesting limit (config/parsers.py); forms and uploads as DRF parses them.
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

KNOX_TOKEN_MODEL = "knox.AuthToken"  # noqa: S105 - a model label, not a secret
REST_KNOX = {
    # Tokens are stored as a SHA-512 digest only, expire, and are sent as "Authorization: Token <token>".
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": timedelta(hours=int(os.environ.get("API_TOKEN_TTL_HOURS", "10"))),
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Casualty documentation API",
    "DESCRIPTION": "Incidents, victims, evidence and verified casualty counts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CountStatusEnum": "counts.models.CountSnapshot.State",
        "ReviewStatusEnum": "incidents.models.Status",
        "DuplicateDecisionEnum": "matching.services.DECISIONS",
        "ReviewDecisionEnum": "incidents.workflow.DECISIONS",
        "DuplicatePairStatusEnum": "matching.models.CandidatePair.State",
        "DuplicateScanStatusEnum": "matching.models.DuplicateScan.State",
    },
}

# Celery: Redis when REDIS_URL is set; otherwise tasks run eagerly in-process.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Short timeouts: a request that enqueues work never hangs on a dead broker (the outbox keeps the work).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A task whose worker died unacknowledged is redelivered after this many seconds.
    "visibility_timeout": int(os.environ.get("BROKER_VISIBILITY_TIMEOUT", "3600")),
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    "max_retries": 0,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1

# The outbox sweep: relays work stored while the broker was down (run `celery -A config beat`, or
# `manage.py relay_outbox --loop`); workers also sweep once when they start.
OUTBOX_SWEEP_SECONDS = float(os.environ.get("OUTBOX_SWEEP_SECONDS", "30"))
# Work sent but not completed this long ago (its worker died) is sent again by the sweep.
OUTBOX_RESEND_AFTER_SECONDS = int(os.environ.get("OUTBOX_RESEND_AFTER_SECONDS", "3600"))

CACHES = {
    "default": (
        {"BACKEND": "config.cache.ReusingRedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Rate-limit counters, the sign-in back-off and audit aggregation: the same store under their own prefix.
# Without REDIS_URL they live in each process's memory (fine for one process; production sets REDIS_URL).
CACHES["ratelimit"] = {**CACHES["default"], "KEY_PREFIX": "rl"}

# Rate limits (config/ratelimit.py, django-ratelimit): URL name (pages "page:<name>") → rate per key
# ("ip": the client's address; "user_or_ip": the signed-in user, else the address); "methods" limits
# which methods count. Over the limit: 429 with Retry-After, one audit entry per key per window.
RATELIMIT_ENABLE = env_bool("RATE_LIMITS", True)
RATELIMIT_USE_CACHE = "ratelimit"
RATELIMIT_FAIL_OPEN = True  # an unreachable cache serves requests rather than refusing everyone
SIGN_IN_RATE = os.environ.get("RATE_LIMIT_SIGN_IN", "20/m")
PUBLIC_RATE = os.environ.get("RATE_LIMIT_PUBLIC", "120/m")
PUBLIC_EXPORT_RATE = os.environ.get("RATE_LIMIT_PUBLIC_EXPORT", "10/m")
RATE_LIMITS: dict[str, dict] = {
    "api-token": {"methods": ["POST"], "ip": SIGN_IN_RATE},
    "page:login": {"methods": ["POST"], "ip": SIGN_IN_RATE},
    "admin:login": {"methods": ["POST"], "ip": SIGN_IN_RATE},
    "page:password_reset": {"methods": ["POST"], "ip": SIGN_IN_RATE},
    "page:otp-verify": {"methods": ["POST"], "user_or_ip": "10/m"},
    "page:otp-enrol": {"methods": ["POST"], "user_or_ip": "10/m"},
    "page:otp-enrol-link": {"user_or_ip": "10/m"},
    "public-count-list": {"ip": PUBLIC_RATE},
    "public-count-detail": {"ip": PUBLIC_RATE},
    "public-count-export": {"ip": PUBLIC_EXPORT_RATE},
    "page:public": {"ip": PUBLIC_RATE},
    "page:public-count": {"ip": PUBLIC_RATE},
}

# Per-username sign-in back-off (accounts/signin.py), across every address: after SIGN_IN_BACKOFF_AFTER
# failures within SIGN_IN_BACKOFF_WINDOW_MINUTES, each further attempt waits twice as long as the one
# before (from 1 s up to SIGN_IN_BACKOFF_MAX_SECONDS), answered 429 with Retry-After; never a hard lock.
# An address that signed in as that user within SIGN_IN_KNOWN_ADDRESS_DAYS is not slowed.
SIGN_IN_BACKOFF_AFTER = int(os.environ.get("SIGN_IN_BACKOFF_AFTER", "10"))
SIGN_IN_BACKOFF_WINDOW_MINUTES = int(os.environ.get("SIGN_IN_BACKOFF_WINDOW_MINUTES", "60"))
SIGN_IN_BACKOFF_MAX_SECONDS = int(os.environ.get("SIGN_IN_BACKOFF_MAX_SECONDS", "300"))
SIGN_IN_KNOWN_ADDRESS_DAYS = int(os.environ.get("SIGN_IN_KNOWN_ADDRESS_DAYS", "30"))

# Refused requests (401/403/404 on a known URL) are audited; an anonymous address's refusals at most
# once per this many seconds, so anonymous traffic cannot flood the audit log.
AUDIT_ANONYMOUS_REFUSALS_EVERY_SECONDS = int(os.environ.get("AUDIT_ANONYMOUS_REFUSALS_EVERY_SECONDS", "60"))


def load_keys(name: str) -> tuple[dict[str, str], str]:
    """Keys from <name>_KEYS="kid:base64key,..." and the current key's id <name>_KEY_ID (default: the
    last listed). With DEBUG and no keys, a development key is generated under var/ (like the development
    SECRET_KEY); without DEBUG and without keys, ({}, "") — each caller says what that means."""
    keys: dict[str, str] = {}
    for item in env_list(f"{name}_KEYS"):
        kid, _sep, key = item.partition(":")
        if not kid or not key:
            raise ImproperlyConfigured(f"{name}_KEYS must be a comma-separated list of kid:base64key")
        keys[kid.strip()] = key.strip()
    current = os.environ.get(f"{name}_KEY_ID", "").strip() or (next(reversed(keys)) if keys else "")
    if keys and current not in keys:
        raise ImproperlyConfigured(f"{name}_KEY_ID names a key that {name}_KEYS does not hold")
    if not keys and DEBUG:
        import base64

        key_file = VAR_DIR / f"dev_{name.lower()}_key"
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        if not key_file.exists():
            key_file.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
            key_file.chmod(0o600)
        keys, current = {"dev": key_file.read_text().strip()}, "dev"
    return keys, current


# Evidence: witness identity keys, upload limits, the fixity schedule.
def load_witness_keys() -> tuple[dict[str, str], str]:
    """AES-256-GCM keys for witness identity (`load_keys("WITNESS")`).

    The key id is stored with every encrypted value, so old keys keep decrypting until
    `manage.py rotate_witness_keys` has re-encrypted everything under the current one. Without DEBUG
    and without keys, writing or reading witness identity refuses to work.
    """
    return load_keys("WITNESS")


WITNESS_KEYS, WITNESS_KEY_ID = load_witness_keys()


def load_audit_keys() -> tuple[dict[str, str], str]:
    """HMAC keys of the audit chains (audit/keys.py; `load_keys("AUDIT")`).

    Each entry records the id of the key that keyed it; every configured key verifies. Without DEBUG
    and without keys, the chains are keyed with a key derived from SECRET_KEY (and `check --deploy` warns).
    """
    return load_keys("AUDIT")


AUDIT_KEYS, AUDIT_KEY_ID = load_audit_keys()
# Error reports of witness and testimony requests hide every variable, not only secret-looking ones.
# (DEFAULT_EXCEPTION_REPORTER_FILTER: see LOGGING below; it extends evidence.reporting's filter.)
MEDIA_MAX_UPLOAD_BYTES = int(os.environ.get("MEDIA_MAX_UPLOAD_BYTES", str(2 * 1024**3)))
# Images above this many pixels are refused as decompression bombs (Pillow's warning is an error).
MEDIA_MAX_IMAGE_PIXELS = int(os.environ.get("MEDIA_MAX_IMAGE_PIXELS", str(64_000_000)))
# No image is decoded with more pixels than this (evidence/media.py): a JPEG above it is decoded at
# 1/2, 1/4 or 1/8 scale, a PNG/WebP/HEIC above it is refused at upload (400). A worker's peak memory
# is about 8 bytes per pixel of it over its baseline (~200 MB at the default 25 MP: a 24 MP phone photo).
MEDIA_MAX_PROCESS_PIXELS = int(os.environ.get("MEDIA_MAX_PROCESS_PIXELS", str(25_000_000)))
MEDIA_FIXITY_INTERVAL_HOURS = int(os.environ.get("MEDIA_FIXITY_INTERVAL_HOURS", "24"))
# A sealed file no row records (its process died before committing) is removed by beat after this long.
MEDIA_UNRECORDED_GRACE_SECONDS = int(os.environ.get("MEDIA_UNRECORDED_GRACE_SECONDS", "3600"))
# Idempotency-Key replay records are kept this long, then purged by Celery beat (accounts/idempotency.py).
IDEMPOTENCY_KEEP_HOURS = int(os.environ.get("IDEMPOTENCY_KEEP_HOURS", "48"))
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "outbox.sweep", "schedule": OUTBOX_SWEEP_SECONDS},
    "accounts-idempotency-purge": {"task": "accounts.idempotency.purge_expired", "schedule": timedelta(hours=1)},
    # Expired API tokens are refused on use; this deletes the unused ones (accounts/auth.py).
    "accounts-expired-tokens-purge": {"task": "accounts.auth.purge_expired_tokens", "schedule": timedelta(hours=1)},
    "evidence-fixity-check": {
        "task": "evidence.tasks.schedule_fixity_checks",
        "schedule": timedelta(hours=MEDIA_FIXITY_INTERVAL_HOURS),
    },
    "evidence-pending-media": {
        "task": "evidence.tasks.process_pending_media",
        "schedule": timedelta(minutes=10),
    },
    "evidence-unrecorded-originals": {
        "task": "evidence.tasks.remove_unrecorded_originals",
        "schedule": timedelta(hours=1),
    },
}

# Imports of existing lists (intake/, docs/imports.md). Uploaded lists are kept under IMPORT_ROOT (default:
# imports/ under MEDIA_ROOT), never served; a larger upload is refused with 413 while it streams in.
IMPORT_ROOT = os.environ.get("IMPORT_ROOT", "")
IMPORT_MAX_UPLOAD_BYTES = int(os.environ.get("IMPORT_MAX_UPLOAD_BYTES", str(256 * 1024**2)))
# An XLSX workbook expanding beyond this is refused before it is parsed (a ZIP bomb).
IMPORT_MAX_XLSX_EXPANDED_BYTES = int(os.environ.get("IMPORT_MAX_XLSX_EXPANDED_BYTES", str(2 * 1024**3)))
# Rows per transaction: the progress shown and the work a killed worker loses.
IMPORT_BATCH_ROWS = int(os.environ.get("IMPORT_BATCH_ROWS", "5000"))
# A thread reads and checks the next batch of rows while the current one is written (intake/readers.py
# read_ahead); off ("0") reads each batch when it is reached. The results are the same either way.
IMPORT_READ_AHEAD = os.environ.get("IMPORT_READ_AHEAD", "1").lower() not in ("0", "false", "no", "off")
# After an import writing at least this many rows, PostgreSQL's statistics are refreshed (ANALYZE).
IMPORT_ANALYZE_AFTER_ROWS = int(os.environ.get("IMPORT_ANALYZE_AFTER_ROWS", "10000"))

# Maps need no tile server: the outline ships with the project. An operator may add a tile layer
# (e.g. "https://tiles.example.org/{z}/{x}/{y}.png", their own server; allow it in the CSP img-src).
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")

# Domain settings.
MASSACRE_THRESHOLD = int(os.environ.get("MASSACRE_THRESHOLD", "5"))
# A published count's export files never change: rendered once, then served from the cache for this
# long (and an anonymous download audited at most once per snapshot, format and language in that time).
COUNT_EXPORT_CACHE_SECONDS = int(os.environ.get("COUNT_EXPORT_CACHE_SECONDS", str(24 * 3600)))
# Lists with more rows than this report PostgreSQL's row estimate as `count` (response header X-Count-Is-Estimate: true)
# instead of an exact COUNT(*) on every page; 0 counts exactly always. See config/api.py.
API_EXACT_COUNT_LIMIT = int(os.environ.get("API_EXACT_COUNT_LIMIT", "1000"))
# A large list's estimated count is kept this long per query and parameters (per process), so most pages
# skip the probe and the EXPLAIN; 0 keeps none. Small lists are always counted exactly.
API_COUNT_ESTIMATE_SECONDS = int(os.environ.get("API_COUNT_ESTIMATE_SECONDS", "30"))
# An API token's look-up (its user, roles and permissions, second factor) is kept this long in the shared
# cache, so most requests send no statement for it; every change to those rows makes it stale at once in
# every process (accounts/auth.py). Only with a shared cache (REDIS_URL): each process's own memory would
# not hear of a change made in another, so without Redis the default is 0 (read on every request).
API_TOKEN_CACHE_SECONDS = int(os.environ.get("API_TOKEN_CACHE_SECONDS", "30" if REDIS_URL else "0"))
# The incident, victim and review-queue lists shape `.values()` rows without DRF's per-field work
# (config/shaping.py; tested byte for byte against the serializers). 0: the serializers answer.
API_FAST_LISTS = env_bool("API_FAST_LISTS", True)
# The lists' SQL is kept per list and filter signature, per process (config/compiled.py: the user's id and
# permissions in the key, subtree look-ups repeated and compared on every request). 0: built every time.
API_COMPILED_LISTS = env_bool("API_COMPILED_LISTS", True)

# The counted-victims index (incidents 0005) is a covering index on PostgreSQL; SQLite builds it without
# the INCLUDE columns, which is all an embedded database needs, so its warning about that is noise.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
REVIEW_MIN_EVIDENCE = int(os.environ.get("REVIEW_MIN_EVIDENCE", "1"))

# Structured logs: one JSON object per line, so a newline or control character in a logged value
# is escaped inside a string and can never forge a line; witness fields are masked before output.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "mask_witness": {"()": "config.logging.MaskWitnessFields"},
        "client_address": {"()": "config.logging.AddClientAddress"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "json_ensure_ascii": True,
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["client_address", "mask_witness"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # django-axes reports lockouts at WARNING; its INFO chatter (every sign-in) is left out.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
# ACCESS_LOG=1: one INFO record per request (logger config.access: method, path without the query, status,
# duration, the client's address), for when the proxy's own access log is out of reach.
ACCESS_LOG = env_bool("ACCESS_LOG", False)
# Error reports (admins' e-mails, debug pages) mask witness identity fields as well as secrets.
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.logging.WitnessSafeExceptionReporterFilter"

# E-mail for notices, when the operator configures a mail server: EMAIL_URL=smtp://user:pass@host:587/?tls=True,
# smtps://user:pass@host:465 or console:// (printed, for trying it out); parsed by dj-email-url. Unset: no e-mail,
# notices stay in the site. Notices are sent by a Celery task through the outbox, after the decision commits.
EMAIL_URL = os.environ.get("EMAIL_URL", "")
EMAIL_NOTICES = bool(EMAIL_URL)
if EMAIL_URL:
    import warnings

    import dj_email_url

    with warnings.catch_warnings():  # dj-email-url announces a future rename of smtps:// ("submission://")
        warnings.simplefilter("ignore", UserWarning)
        _email = dj_email_url.parse(EMAIL_URL)
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
    EMAIL_PORT = _email["EMAIL_PORT"] or 25
    EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
    EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
    # smtps:// is STARTTLS (dj-email-url's reading); ?ssl=True asks for implicit TLS (port 465) instead.
    EMAIL_USE_SSL = bool(_email["EMAIL_USE_SSL"])
    EMAIL_USE_TLS = bool(_email["EMAIL_USE_TLS"]) and not EMAIL_USE_SSL
    EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "casualty-records@localhost")
NOTICE_EMAIL_LANGUAGE = os.environ.get("NOTICE_EMAIL_LANGUAGE", "ar")
# The site's public address, for links in e-mails (e.g. https://records.example.org).
SITE_URL = os.environ.get("SITE_URL", "")
