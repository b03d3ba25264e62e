"""Settings, read from the environment.

With nothing set: SQLite in $BEATDESK_HOME (default ./var), background work in the
database task queue run by `beatdesk worker`, no services. At force scale set
DATABASE_URL (PostgreSQL) and, optionally, BEATDESK_TASKS=rq with REDIS_URL.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE

from beatdesk.core.client import trusted_networks
from beatdesk.core.home import given_secret, home, secret_file
from beatdesk.core.queues import QUEUES

BASE_DIR = Path(__file__).resolve().parent
HOME = home()
# A key named by NAME_FILE that cannot be read stops every process as it starts, naming
# the file, rather than failing the first request or job that needs the key.
for _key in ("BEATDESK_CREDENTIALS_KEY", "BEATDESK_CHECKPOINT_KEY"):
    given_secret(_key)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


DEBUG = env_bool("BEATDESK_DEBUG")
DEMO = env_bool("BEATDESK_DEMO")
SECRET_KEY = os.environ.get("BEATDESK_SECRET_KEY") or secret_file("django-secret")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("BEATDESK_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "beatdesk.core",
    "beatdesk.demo",
    "beatdesk.operations",
    "beatdesk.accounts",
    "beatdesk.audit",
    "beatdesk.networks",
    "beatdesk.inbox",
    "beatdesk.cases",
    "beatdesk.publishing",
    "beatdesk.triage",
    "beatdesk.monitoring",
    "beatdesk.stories",
    "beatdesk.live",
    "beatdesk.sso",
    "beatdesk.administration",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "beatdesk.accounts.middleware.SessionTimeoutMiddleware",
    "beatdesk.accounts.middleware.RequireSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "beatdesk.urls"
WSGI_APPLICATION = "beatdesk.wsgi.application"

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
                "beatdesk.accounts.context.desk",
            ]
        },
    }
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("BEATDESK_SQLITE", str(HOME / "beatdesk.sqlite3")),
            "OPTIONS": {
                # IMMEDIATE: a write transaction takes the lock at BEGIN, so two processes
                # appending to the audit chain queue up instead of failing mid-way.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            "TEST": {"NAME": os.environ.get("BEATDESK_TEST_SQLITE") or None},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

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
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "inbox:index"
LOGOUT_REDIRECT_URL = "accounts:login"

# Single sign-on through the force's OpenID Connect provider (sso/, docs/sso.md), with
# mozilla-django-oidc. On when a client id and the issuer (or the provider's endpoints) are
# set; without them the sign-in page is password and TOTP only.
BEATDESK_OIDC_ISSUER = os.environ.get("BEATDESK_OIDC_ISSUER", "").strip().rstrip("/")
BEATDESK_OIDC_ENDPOINTS = {
    name: os.environ.get(f"BEATDESK_OIDC_{name.upper()}_ENDPOINT", "").strip()
    for name in ("authorization", "token", "userinfo", "jwks")
}
OIDC_RP_CLIENT_ID = os.environ.get("BEATDESK_OIDC_CLIENT_ID", "").strip()
OIDC_RP_CLIENT_SECRET = given_secret("BEATDESK_OIDC_CLIENT_SECRET") or ""
BEATDESK_SSO = bool(
    OIDC_RP_CLIENT_ID
    and (
        BEATDESK_OIDC_ISSUER
        or all(BEATDESK_OIDC_ENDPOINTS[n] for n in ("authorization", "token", "jwks"))
    )
)
BEATDESK_OIDC_NAME = os.environ.get("BEATDESK_OIDC_NAME", "your force account")
BEATDESK_OIDC_GROUPS_CLAIM = os.environ.get("BEATDESK_OIDC_GROUPS_CLAIM", "groups")
# The force whose staff sign in through the provider (its slug); unset: the only force.
BEATDESK_OIDC_FORCE = os.environ.get("BEATDESK_OIDC_FORCE", "")
# amr values (RFC 8176) that show the provider checked a second factor.
_MFA_AMR = os.environ.get("BEATDESK_OIDC_MFA_AMR", "mfa,otp,hwk")
BEATDESK_OIDC_MFA_AMR = frozenset(a.strip() for a in _MFA_AMR.split(",") if a.strip())
OIDC_RP_SIGN_ALGO = os.environ.get("BEATDESK_OIDC_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = "openid email profile"
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 15
OIDC_AUTHENTICATION_CALLBACK_URL = "sso:callback"
# After this many seconds the next page load asks the provider again (prompt=none): a
# person disabled there, or moved out of every mapped group, is signed out.
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = env_int("BEATDESK_OIDC_RECHECK_SECONDS", 15 * 60)
if BEATDESK_SSO:
    AUTHENTICATION_BACKENDS = [*AUTHENTICATION_BACKENDS, "beatdesk.sso.backend.SsoBackend"]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django_otp.middleware.OTPMiddleware") + 1,
        "beatdesk.sso.backend.SsoSessionRefresh",
    )

# Login throttling for 15 minutes: five failures lock the username from every address,
# and twenty from one address lock that address (many people may share it).
AXES_FAILURE_LIMIT = env_int("BEATDESK_LOGIN_FAILURE_LIMIT", 5)
BEATDESK_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("BEATDESK_LOGIN_ADDRESS_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = env_int("BEATDESK_LOGIN_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "beatdesk.accounts.lockout.LockoutHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# Session lifetimes: idle and absolute, both in minutes.
BEATDESK_IDLE_TIMEOUT_MINUTES = env_int("BEATDESK_IDLE_TIMEOUT_MINUTES", 30)
BEATDESK_ABSOLUTE_TIMEOUT_MINUTES = env_int("BEATDESK_ABSOLUTE_TIMEOUT_MINUTES", 12 * 60)
# The workers' sweeper (operations/sweep.py): anything stored and still unread this long is read
# again; a worker silent this long is gone, and what it left running runs again.
BEATDESK_SWEEP_GRACE_SECONDS = env_int("BEATDESK_SWEEP_GRACE_SECONDS", 120)
BEATDESK_SWEEP_EVERY_SECONDS = env_int("BEATDESK_SWEEP_EVERY_SECONDS", 15)
BEATDESK_WORKER_GONE_SECONDS = env_int("BEATDESK_WORKER_GONE_SECONDS", 60)
# The scheduler (operations/scheduler.py): its lease lasts LEASE seconds and is renewed every
# RENEW; a standby takes over once the holder has not renewed for LEASE seconds. A job
# handed to the workers and not finished after LOST seconds is handed over again.
BEATDESK_SCHEDULER_LEASE_SECONDS = env_int("BEATDESK_SCHEDULER_LEASE_SECONDS", 30)
BEATDESK_SCHEDULER_RENEW_SECONDS = env_int("BEATDESK_SCHEDULER_RENEW_SECONDS", 5)
BEATDESK_SCHEDULER_LOST_SECONDS = env_int("BEATDESK_SCHEDULER_LOST_SECONDS", 3600)
# /healthz checks the scheduler's lease too; off for a single machine that runs `beatdesk poll`.
BEATDESK_HEALTH_SCHEDULER = env_bool("BEATDESK_HEALTH_SCHEDULER", True)
# /metrics (operations/metrics.py): open to these networks (comma-separated CIDRs) or to a
# request with "Authorization: Bearer <BEATDESK_METRICS_TOKEN>".
BEATDESK_METRICS_ALLOW = [
    ipaddress.ip_network(cidr.strip(), strict=False)
    for cidr in os.environ.get("BEATDESK_METRICS_ALLOW", "127.0.0.0/8,::1/128").split(",")
    if cidr.strip()
]
BEATDESK_METRICS_TOKEN = os.environ.get("BEATDESK_METRICS_TOKEN", "")
# Each periodic job's interval: env BEATDESK_EVERY_<NAME>_SECONDS, e.g.
# BEATDESK_EVERY_AUDIT_CHECKPOINT_SECONDS.
BEATDESK_PERIODIC_SECONDS = {
    name: env_int(f"BEATDESK_EVERY_{name.upper()}_SECONDS", default)
    for name, default in {
        "wake_snoozed": 30,
        "escalate": 30,
        "auto_assign": 30,
        "recover_posts": 60,
        "appeal_reminders": 300,
        "scheduled_posts": 30,
        "reach": 300,
        "fetch_accounts": 30,
        "collect_watches": 60,
        "purge": 3600,
        "audit_checkpoint": 3600,
    }.items()
}
SESSION_COOKIE_AGE = BEATDESK_ABSOLUTE_TIMEOUT_MINUTES * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
OTP_TOTP_ISSUER = "beatdesk"

SECURE = env_bool("BEATDESK_SECURE")
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = 31536000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts only from our own static files or carrying
# this request's nonce, styles only from our stylesheets (no <style>, no style=), no eval
# (htmx is told so in base.html). TOTP enrolment shows its QR code as a data: image.
# Public pages that other sites embed (the widget) relax frame-ancestors in their view.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "csp.middleware.CSPMiddleware",
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Mail the desk itself sends (password reset links), not the email network's replies,
# which go through each email account's own server. With no BEATDESK_EMAIL_HOST the
# messages are written as files under $BEATDESK_HOME/outbox, so a fresh install works.
if os.environ.get("BEATDESK_EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["BEATDESK_EMAIL_HOST"]
    EMAIL_PORT = env_int("BEATDESK_EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("BEATDESK_EMAIL_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("BEATDESK_EMAIL_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("BEATDESK_EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = 30
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = HOME / "outbox"
DEFAULT_FROM_EMAIL = os.environ.get("BEATDESK_EMAIL_FROM", "beatdesk@localhost")
# A reset link works once, and for this long.
PASSWORD_RESET_TIMEOUT = env_int("BEATDESK_PASSWORD_RESET_MINUTES", 60) * 60
# Reset requests per hour: for one email address, and from one client address.
BEATDESK_PASSWORD_RESET_EMAIL_LIMIT = env_int("BEATDESK_PASSWORD_RESET_EMAIL_LIMIT", 3)
BEATDESK_PASSWORD_RESET_CLIENT_LIMIT = env_int("BEATDESK_PASSWORD_RESET_CLIENT_LIMIT", 10)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Background work: the django.tasks API (django-tasks backport). Moving to Django 6 is a
# change of imports. "database" by default; "rq" at scale; "immediate" runs inline.
_TASKS = os.environ.get("BEATDESK_TASKS", "database")
# Queues (core/queues.py): new messages' triage first, then "default", then abuse re-reads.
if _TASKS == "rq":
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": list(QUEUES)}}
    _REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    RQ_QUEUES = {name: {"URL": _REDIS_URL} for name in QUEUES}
    RQ = {"QUEUE_CLASS": "beatdesk.core.rqqueue.RetryingQueue"}  # jobs retried 3 times
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
elif _TASKS == "immediate":
    TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": list(QUEUES),
        }
    }
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": list(QUEUES)}}

# PostgreSQL: each process seals the audit events written since at most this often (see
# audit/chain.py); 0 seals after every write.
BEATDESK_AUDIT_SEAL_EVERY_SECONDS = float(os.environ.get("BEATDESK_AUDIT_SEAL_EVERY_SECONDS", "1"))

# Caches and the client's address. The web form's and the intake's rate limits live in
# the cache, shared by every process: the database cache (its table is made by `beatdesk
# migrate`) unless BEATDESK_CACHE_URL or REDIS_URL names a Redis (django-redis).
# BEATDESK_TRUSTED_PROXIES: the reverse proxies (comma-separated addresses or CIDRs) whose
# X-Forwarded-For is believed; with none, the connecting address is the client's.
_CACHE_URL = os.environ.get("BEATDESK_CACHE_URL") or os.environ.get("REDIS_URL")
if _CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": _CACHE_URL,
            "TIMEOUT": 600,
            "KEY_PREFIX": "beatdesk",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "beatdesk_cache",
            "TIMEOUT": 600,
            # Culling past the default 300 entries would free rate-limit slots early.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
BEATDESK_TRUSTED_PROXIES = [
    str(network)
    for network in trusted_networks(
        c for c in os.environ.get("BEATDESK_TRUSTED_PROXIES", "").split(",") if c.strip()
    )
]
# Sign-in limits by address see the same client address as everything else (with
# django-ipware installed, axes would otherwise believe any X-Forwarded-For).
AXES_CLIENT_IP_CALLABLE = "beatdesk.core.client.client_address"

# The audit checkpoint key and file: outside the database by design.
AUDIT_DIR = Path(os.environ.get("BEATDESK_AUDIT_DIR") or HOME / "audit")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        # BEATDESK_LOG_FORMAT=json: one JSON object a line (python-json-logger), with
        # time, level, logger and message, for a log shipper.
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "timestamp": False,
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if os.environ.get("BEATDESK_LOG_FORMAT") == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("BEATDESK_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "waitress": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # httpx logs whole request URLs at INFO; a feed URL may carry a token.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
