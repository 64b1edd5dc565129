"""Settings for the portfolio site, read from the environment (twelve-factor).

Every value has a safe local default, so ``manage.py runserver`` works on a fresh
clone; a deployment sets at least ``SECRET_KEY``, ``DEBUG=0``, ``ALLOWED_HOSTS``,
``DATABASE_URL``, ``REDIS_URL``, ``EMAIL_URL`` and ``CONTACT_OWNER_EMAIL``.
"""

import re
import warnings
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from redis.backoff import NoBackoff
from redis.retry import Retry

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


# Core

# Off unless asked for: a deployment that forgets the variable must not show
# tracebacks and settings to the world. ``bin/dev`` switches it on.
DEBUG = env.bool("DEBUG", default=False)

# A development key is only acceptable while DEBUG is on; production refuses to
# start without a real one rather than signing cookies with a public string.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

# "a.example, b.example" is read as two hosts, not one with a leading space.
ALLOWED_HOSTS = [
    host.strip()
    for host in env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
    if host.strip()
]

# Heroku's router, like most reverse proxies, ends TLS and says so in this
# header. Trust it only behind such a proxy: otherwise Django sees plain http
# and refuses the https Origin of every form post.
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# How many proxies in front of the site append to X-Forwarded-For (Heroku's
# router: 1). The client address is that many entries from the right; 0 trusts
# none and uses the connecting address, since anyone can send the header.
TRUST_X_FORWARDED_FOR = env.int("TRUST_X_FORWARDED_FOR", default=0)

# Production over HTTPS: redirect plain http, keep cookies off plain http and
# tell browsers to use HTTPS only (HSTS). A switch of its own, because the
# same production settings also run over plain http on 127.0.0.1 in checks.
HTTPS_ONLY = env.bool("HTTPS_ONLY", default=False)
if HTTPS_ONLY:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # Start lower (e.g. 300) when trying HTTPS on a domain for the first time:
    # browsers remember the policy for this many seconds.
    SECURE_HSTS_SECONDS = env.int("HSTS_SECONDS", default=365 * 24 * 3600)
    # The policy covers subdomains too; set 0 if one still serves plain http.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = SECURE_HSTS_INCLUDE_SUBDOMAINS

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "django_htmx",
    "django_ratelimit",
    "django_rq",
    "anymail",
    "template_partials",
    "contact",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "frontend.middleware.UnreadableFormMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "contact.csp.SiteCSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "site_config.urls"
WSGI_APPLICATION = "site_config.wsgi.application"
# A contact form post refused for its CSRF token gets its form back, text kept.
CSRF_FAILURE_VIEW = "contact.views.csrf_failure"
# No page takes files. Without upload handlers a file posted anyway is read
# past and dropped, instead of being written to a temporary file first.
FILE_UPLOAD_HANDLERS = []

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
                "frontend.context_processors.site",
                # The request's CSP nonce as ``csp_nonce``, which django-htmx's
                # script tag also reads.
                "frontend.context_processors.csp_nonce",
            ],
        },
    },
]


# Database

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Keep connections between requests and jobs, but check them before reuse so a
# restarted or idle-closed server costs a reconnect, not a failed job.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# Redis and the queue

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Checked here: any other scheme would only fail later, inside a visitor's post.
# The message names the scheme alone, since the URL may carry a password.
if not REDIS_URL.lower().startswith(("redis://", "rediss://", "unix://")):
    scheme = REDIS_URL.partition("://")[0] if "://" in REDIS_URL else ""
    raise ImproperlyConfigured(
        "REDIS_URL must start with redis://, rediss:// or unix://"
        + (f", not {scheme}://" if scheme else "")
    )

# Seconds the web process waits on Redis before giving up on an enqueue. The
# message is already saved by then, and the sweeper enqueues it later.
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.5)

# Heroku Redis presents a self-signed certificate on rediss:// URLs; verification
# stays on unless the deployer switches it off for such a provider.
REDIS_SSL_CERT_REQS = (
    "required" if env.bool("REDIS_SSL_VERIFY", default=True) else "none"
)

# The rate limits' counters live in the same Redis, through Django's own Redis
# cache with the queue's fail-fast client options: a Redis that is down or
# hanging costs a post at most one REDIS_SOCKET_TIMEOUT before the limits are
# skipped (see contact.ratelimit). One pool per process, opened on first use.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "contact",
        "OPTIONS": {
            "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
            "socket_timeout": REDIS_SOCKET_TIMEOUT,
            "retry": Retry(NoBackoff(), 0),
            "health_check_interval": 30,
            **(
                {"ssl_cert_reqs": REDIS_SSL_CERT_REQS}
                if REDIS_URL.startswith("rediss://")
                else {}
            ),
        },
    },
}

RQ_QUEUES = {
    "default": {
        "URL": REDIS_URL,
        "DEFAULT_TIMEOUT": 120,
        "SSL_CERT_REQS": REDIS_SSL_CERT_REQS,
    },
}

RQ_SHOW_ADMIN_LINK = True
# Lets a monitoring service read /django-rq/stats.json without a staff login;
# unset, only staff can.
RQ_API_TOKEN = env.str("RQ_API_TOKEN", default="")
# Seconds between a worker's maintenance rounds (registry clean-up, restarting a
# scheduler that died); RQ's own default is ten minutes.
RQ_MAINTENANCE_SECONDS = env.int("RQ_MAINTENANCE_SECONDS", default=30)


# Email

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# An email service through django-anymail replaces SMTP by settings alone, e.g.
# EMAIL_BACKEND=anymail.backends.postmark.EmailBackend; it then reads ANYMAIL.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=EMAIL_CONFIG["EMAIL_BACKEND"])
if EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
    # The same, waiting EMAIL_DATA_TIMEOUT for the server's verdict on each
    # email: giving up on it sooner would send a second copy on the retry.
    EMAIL_BACKEND = "contact.smtp.EmailBackend"
# A hung SMTP server must fail the attempt, not hang the worker.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10)
EMAIL_DATA_TIMEOUT = env.float("EMAIL_DATA_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="webmaster@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL


# django-anymail: API keys and webhook credentials, all from the environment.
# Tracking webhooks act on events only when WEBHOOK_SECRET ("user:password",
# sent by the service as HTTP basic auth) is set.

ANYMAIL = {
    key: env.str(f"ANYMAIL_{key}")
    for key in (
        "WEBHOOK_SECRET",
        "POSTMARK_SERVER_TOKEN",
        "MAILGUN_API_KEY",
        "MAILGUN_SENDER_DOMAIN",
        "MAILGUN_API_URL",
        "MAILGUN_WEBHOOK_SIGNING_KEY",
    )
    if env.str(f"ANYMAIL_{key}", default="")
}


# The contact pipeline

CONTACT_OWNER_EMAIL = env.str("CONTACT_OWNER_EMAIL", default="owner@localhost")
# Seconds between retries of a transient SMTP failure; one retry per entry.
CONTACT_RETRY_INTERVALS = env.list(
    "CONTACT_RETRY_INTERVALS", cast=int, default=[10, 30, 60, 120, 300]
)
# Seconds for which a worker owns a message while it sends it. A worker that dies
# mid-send frees the message when the lease runs out.
CONTACT_LEASE_SECONDS = env.int("CONTACT_LEASE_SECONDS", default=60)
# The sweeper looks every CONTACT_SWEEP_SECONDS for messages no job will deliver,
# leaving alone those younger than CONTACT_SWEEP_GRACE_SECONDS (their own
# enqueue is still on its way).
CONTACT_SWEEP_SECONDS = env.float("CONTACT_SWEEP_SECONDS", default=15)
CONTACT_SWEEP_GRACE_SECONDS = env.int("CONTACT_SWEEP_GRACE_SECONDS", default=10)
# Seconds after which the visitor's page stops polling a message still on its way.
CONTACT_POLL_SECONDS = env.int("CONTACT_POLL_SECONDS", default=120)
# Days a message is kept before ``manage.py purge_messages`` deletes it.
CONTACT_RETENTION_DAYS = env.int("CONTACT_RETENTION_DAYS", default=365)


# Abuse guards (docs/security.md)

# A form posted sooner than this many seconds after the page served it is held
# as spam; 0 switches the time trap off (load tests post at machine speed).
CONTACT_MIN_FILL_SECONDS = env.float("CONTACT_MIN_FILL_SECONDS", default=3)


def _rate(name: str, default: str) -> str | None:
    """Read a rate such as ``5/m`` or ``20/h``; an empty value switches it off."""
    value = env.str(name, default=default).strip()
    if value and not re.fullmatch(r"\d+/\d*[smhd]", value):
        raise ImproperlyConfigured(f"{name} must look like 5/m or 20/h, not {value!r}")
    return value or None


# Messages accepted per client address and per sender address; over either,
# the visitor gets HTTP 429 and nothing is saved.
CONTACT_RATE_LIMIT_PER_IP = _rate("CONTACT_RATE_LIMIT_PER_IP", "20/h")
CONTACT_RATE_LIMIT_PER_EMAIL = _rate("CONTACT_RATE_LIMIT_PER_EMAIL", "5/h")

# django-ratelimit counts in the Redis cache above. Its system check lists the
# cache backends it was tested with, which predate Django's own Redis cache;
# that backend has the atomic INCR and the sharing across processes it needs.
RATELIMIT_USE_CACHE = "ratelimit"
# A counter that vanished between its two commands must not block a visitor.
RATELIMIT_FAIL_OPEN = True
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]

# Cloudflare Turnstile, on when both keys are set. The visitor's browser gets
# a challenge; the form checks its answer with Cloudflare before saving.
TURNSTILE_SITE_KEY = env.str("TURNSTILE_SITE_KEY", default="")
TURNSTILE_SECRET_KEY = env.str("TURNSTILE_SECRET_KEY", default="")
TURNSTILE_VERIFY_URL = env.str(
    "TURNSTILE_VERIFY_URL",
    default="https://challenges.cloudflare.com/turnstile/v0/siteverify",
)
# Seconds the form waits for Cloudflare's answer before holding the message for
# review instead.
TURNSTILE_TIMEOUT = env.float("TURNSTILE_TIMEOUT", default=3)
TURNSTILE_ORIGIN = "https://challenges.cloudflare.com"


# Content Security Policy (django-csp): scripts and styles only from the site
# itself, nothing inline, no eval; a script tag may also carry the request's
# nonce. Cloudflare's challenge is allowed only while it is switched on.

_captcha_sources = (
    [TURNSTILE_ORIGIN] if TURNSTILE_SITE_KEY and TURNSTILE_SECRET_KEY else []
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE, *_captcha_sources],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": _captcha_sources or [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}


# Health (/healthz answers 503 past these)

# Seconds without any live worker before the site counts as unable to deliver.
HEALTH_NO_WORKER_SECONDS = env.int("HEALTH_NO_WORKER_SECONDS", default=60)
# Seconds the oldest message may wait unsent before the site counts as stuck.
HEALTH_OLDEST_UNSENT_SECONDS = env.int("HEALTH_OLDEST_UNSENT_SECONDS", default=900)


# The portfolio

SITE_NAME = env.str("SITE_NAME", default="Ada Lovelace")
SITE_OWNER_NAME = env.str("SITE_OWNER_NAME", default="Ada Lovelace")
SITE_TAGLINE = env.str("SITE_TAGLINE", default="Analyst, writer, first programmer")
SITE_INTRO = env.str(
    "SITE_INTRO",
    default=(
        "I write programs for machines that do not exist yet, and notes that "
        "explain what the machines that do exist could become."
    ),
)


# Internationalisation

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True


# Static files

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the apps' folders, so a plain ``migrate`` then ``gunicorn``
# works without collectstatic; a platform that runs collectstatic gets the
# compressed copies too.
WHITENOISE_USE_FINDERS = True
# Without collectstatic the finders serve every file, and WhiteNoise's warning
# that STATIC_ROOT is missing would only alarm whoever reads the log.
warnings.filterwarnings("ignore", message="No directory at: ")


# Logging: one line per event on stdout, for the platform's log router.

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "line",
            "stream": "ext://sys.stdout",
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        # Django's own configuration adds a handler of its own to this logger
        # while DEBUG is on, which would print every line a second time.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "contact": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "rq.worker": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}
