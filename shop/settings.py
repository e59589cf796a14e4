"""Settings for the shop print server. Everything a deployment changes comes from the
environment (see README.md, "Configuration"); the defaults run one process on SQLite with the
in-memory channel layer."""

import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from shop.env import (
    env_bool,
    env_choice,
    env_float,
    env_header_value,
    env_int,
    env_list,
    env_networks,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent


def _secret_key() -> str:
    key = env_str("DJANGO_SECRET_KEY", "")
    if key:
        return key
    # A random key kept beside the database survives restarts without putting a secret in
    # the repository; several server processes must share DJANGO_SECRET_KEY instead.
    path = BASE_DIR / ".secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DJANGO_DEBUG", False)
# A shop's server is reached by whatever LAN address the router gave it; restrict this in a
# deployment that has a fixed name.
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["*"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "admin_interface",
    "colorfield",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "ninja",
    "orders",
    "printing",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "shop.middleware.ChineseFirstMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "shop.urls"
ASGI_APPLICATION = "shop.asgi.application"
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
        },
    },
]


def _database() -> dict:
    url = env_str("DATABASE_URL", "sqlite:///db.sqlite3")
    try:
        config = dj_database_url.parse(url)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not understood: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        name = Path(config["NAME"])
        config["NAME"] = str(name if name.is_absolute() else BASE_DIR / name)
        config["ENGINE"] = "shop.sqlite3"
        config["OPTIONS"] = {
            # WAL lets the server read while another process (a shell, a second worker)
            # writes; IMMEDIATE takes the write lock up front so two writers queue on the
            # busy timeout instead of failing with "database is locked" on upgrade.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        # All of a server process's database work runs on one thread (shop/asgi.py), so its
        # connection can stay open.
        config["CONN_MAX_AGE"] = None
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # Under ASGI every request runs on a thread of its own, so a connection kept per
        # thread is a new connection per request; a pool hands them back and forth.
        config["CONN_MAX_AGE"] = 0
        config.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN", 2, minimum=0),
            "max_size": env_int("DATABASE_POOL_MAX", 20, minimum=1),
            # With more connections than threads using them, a request only waits for one
            # when PostgreSQL is unreachable: answer 503 (e.g. /healthz) soon, not after a
            # load balancer's own timeout.
            "timeout": 5,
        }
        # A database that is down should fail fast and clearly, not hang a request.
        config["OPTIONS"]["connect_timeout"] = 5
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    # Pub/sub, not the list-based RedisChannelLayer: the layer only rings a doorbell per
    # server process, so there is no per-channel capacity to size and no group expiry to
    # outlive; docs/scaling.md has the reasoning.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # redis-py 8 reads with a 5 s timeout by default; a quiet
                        # subscription must not count as a dead one.
                        "socket_timeout": 15,
                        "socket_connect_timeout": 5,
                        "health_check_interval": 10,
                    }
                ],
                "prefix": env_str("PRINT_CHANNEL_PREFIX", "shopprint"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

LOGIN_URL = "admin:login"
# Messages live in the session, not in a cookie: the admin shows a new printer token once
# as a message, and a cookie is signed, not encrypted (anyone holding it can read it).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
# django-admin-interface shows related-object pop-ups in an iframe.
X_FRAME_OPTIONS = "SAMEORIGIN"
# W019: the admin's pop-ups need SAMEORIGIN (above). W021: HSTS preloading is a request to
# browser vendors a shop makes for its whole domain, not a header this server should send.
SILENCED_SYSTEM_CHECKS = ["security.W019", "security.W021"]

LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "plain",
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # daphne logs every listening address at INFO and nothing an operator greps for.
        "daphne": {"level": "WARNING"},
        # While Redis is down its receive loop logs a traceback a second; the dispatcher
        # logs the outage once, and /healthz reports it.
        "channels_redis": {"level": "CRITICAL"},
        "django.channels.server": {"level": "WARNING"},
    },
}

# The shop's name heads every receipt and the welcome message.
SHOP_NAME = env_str("SHOP_NAME", "发财小狗饮品店")

# The print service; names and defaults are documented in README.md.
PRINT_HOST = env_str("PRINT_HOST", "0.0.0.0")
PRINT_HTTP_PORT = env_int("PRINT_HTTP_PORT", 5000, minimum=0)
PRINT_WS_PORT = env_int("PRINT_WS_PORT", 8765, minimum=0)
# How often the server looks in the database for jobs the channel layer did not ring for
# (a confirmation in another process on the in-memory layer, a dropped message).
PRINT_POLL_INTERVAL = env_float("PRINT_POLL_INTERVAL", 0.5, minimum=0.05)
# A client quiet for this long gets a JSON "ping". One still quiet 10 s later (at most
# twice this interval) gets a WebSocket-level ping (answered by every client library and
# browser), and is dropped if it does not answer that within PRINT_PING_TIMEOUT. A client
# that answers JSON pings never needs the second kind: with thousands of sockets, every
# ping costs.
PRINT_PING_INTERVAL = env_float("PRINT_PING_INTERVAL", 30.0, minimum=1.0)
PRINT_PING_TIMEOUT = env_float("PRINT_PING_TIMEOUT", 30.0, minimum=1.0)
# A server process that has not written its heartbeat for this long is presumed dead: its
# sockets are closed in the database and the jobs they held are offered again.
PRINT_HEARTBEAT_INTERVAL = env_float("PRINT_HEARTBEAT_INTERVAL", 5.0, minimum=0.5)
PRINT_SERVER_DEAD_AFTER = env_float("PRINT_SERVER_DEAD_AFTER", 30.0, minimum=1.0)
# A job sent to a client that reports no status within this many seconds goes back to the
# queue and is offered again (a lost message, a client that crashed while connected).
PRINT_ACK_TIMEOUT = env_float("PRINT_ACK_TIMEOUT", 30.0, minimum=1.0)
# A job reported `printing` this long ago with no outcome goes back to the queue.
PRINT_PRINTING_TIMEOUT = env_float("PRINT_PRINTING_TIMEOUT", 300.0, minimum=1.0)
# After a reported failure a job is offered again after 5 s, 10 s, 20 s ... at most this.
PRINT_RETRY_BACKOFF = env_float("PRINT_RETRY_BACKOFF", 5.0, minimum=0.0)
PRINT_RETRY_BACKOFF_MAX = env_float("PRINT_RETRY_BACKOFF_MAX", 60.0, minimum=0.0)
# A receipt that could not be delivered for this long is expired rather than printed late;
# staff can still retry it.
PRINT_JOB_EXPIRE_AFTER = env_float("PRINT_JOB_EXPIRE_AFTER", 3600.0, minimum=1.0)
# Larger client frames close the socket with 1009; this many malformed messages within a
# minute close it with 1008.
PRINT_MAX_MESSAGE_BYTES = env_int("PRINT_MAX_MESSAGE_BYTES", 64 * 1024, minimum=1024)
PRINT_MAX_BAD_MESSAGES = env_int("PRINT_MAX_BAD_MESSAGES", 20, minimum=1)
# Who may connect a printer socket without a token: clients on these networks, which then
# name their printer in printer_info. Everyone else needs the printer's token.
PRINT_TRUSTED_NETWORKS = env_networks("PRINT_TRUSTED_NETWORKS", ["127.0.0.0/8", "::1/128"])
# X-Forwarded-For is believed only from these reverse proxies.
PRINT_TRUSTED_PROXIES = env_networks("PRINT_TRUSTED_PROXIES", [])
# Browser pages from other origins than this server's may connect only if listed here.
PRINT_ALLOWED_ORIGINS = env_list("PRINT_ALLOWED_ORIGINS", [])
PRINT_MAX_CONNECTIONS = env_int("PRINT_MAX_CONNECTIONS", 10000, minimum=1)
PRINT_MAX_CONNECTIONS_PER_ADDRESS = env_int("PRINT_MAX_CONNECTIONS_PER_ADDRESS", 100, minimum=1)
PRINT_CONNECTION_HISTORY_DAYS = env_int("PRINT_CONNECTION_HISTORY_DAYS", 7, minimum=1)
# Alerts: a printer offline this long (while enabled), a ticket not printed this long after
# it was written, an order waiting for confirmation this long.
PRINT_ALERT_OFFLINE_AFTER = env_float("PRINT_ALERT_OFFLINE_AFTER", 60.0, minimum=0.0)
PRINT_ALERT_AFTER = env_float("PRINT_ALERT_AFTER", 60.0, minimum=0.0)
ORDER_ALERT_AFTER = env_float("ORDER_ALERT_AFTER", 120.0, minimum=0.0)
# A job for a printer offline this long goes to the printer's backup printer.
PRINT_FAILOVER_AFTER = env_float("PRINT_FAILOVER_AFTER", 20.0, minimum=0.0)
# A printer is online while one of its sockets was heard from within this many seconds
# (WebSocket pongs count: a quiet client is pinged every PRINT_PING_INTERVAL).
PRINT_ONLINE_TIMEOUT = env_float(
    "PRINT_ONLINE_TIMEOUT",
    2 * PRINT_PING_INTERVAL + PRINT_PING_TIMEOUT + PRINT_HEARTBEAT_INTERVAL,
    minimum=1.0,
)
# Keys for server-to-server calls of the JSON API (Authorization: Bearer KEY).
PRINT_API_KEYS = env_list("PRINT_API_KEYS", [])
# Serve https:// and wss:// directly (runprintserver --tls-cert/--tls-key); or terminate TLS
# in a reverse proxy, see README.md.
PRINT_TLS_CERT = env_str("PRINT_TLS_CERT", "")
PRINT_TLS_KEY = env_str("PRINT_TLS_KEY", "")
# Behind a reverse proxy that terminates TLS: the header it sets on https requests, e.g.
# "X-Forwarded-Proto=https". Only safe when the proxy always sets it (clients cannot).
SECURE_PROXY_SSL_HEADER = env_header_value("DJANGO_SECURE_PROXY_SSL_HEADER")
# Served over https (here, or in a proxy that says so): session and CSRF cookies never travel
# in clear, plain http is redirected (not /healthz: load balancers probe it over http), and
# browsers are told to come back only over https. runprintserver --tls-cert does the same.
PRINT_HTTPS = bool(PRINT_TLS_CERT) or SECURE_PROXY_SSL_HEADER is not None
PRINT_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 365 * 24 * 3600, minimum=0)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT = PRINT_HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = PRINT_HSTS_SECONDS if PRINT_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Network printers (connection "network"): the server prints to IP:port itself, with this
# many printers at once per process, and probes idle ones this often.
PRINT_NETWORK_WORKERS = env_int("PRINT_NETWORK_WORKERS", 4, minimum=1)
PRINT_NETWORK_PROBE_INTERVAL = env_float("PRINT_NETWORK_PROBE_INTERVAL", 10.0, minimum=0.5)
PRINT_NETWORK_TIMEOUT = env_float("PRINT_NETWORK_TIMEOUT", 5.0, minimum=0.5)
# Webhooks: each request waits this long for an answer; this many run at once per process
# (an endpoint that keeps failing gets one of them at a time); the outbox is polled this
# often. A failed delivery is retried after 10 s, 20 s, 40 s … at most an hour apart, and given
# up this many hours after its event; an endpoint whose every delivery failed that long is
# disabled (with an alert). Delivered and given-up deliveries are kept this many days.
PRINT_WEBHOOK_TIMEOUT = env_float("PRINT_WEBHOOK_TIMEOUT", 5.0, minimum=0.5)
PRINT_WEBHOOK_CONCURRENCY = env_int("PRINT_WEBHOOK_CONCURRENCY", 8, minimum=1)
PRINT_WEBHOOK_POLL_INTERVAL = env_float("PRINT_WEBHOOK_POLL_INTERVAL", 0.5, minimum=0.05)
PRINT_WEBHOOK_RETRY_BASE = env_float("PRINT_WEBHOOK_RETRY_BASE", 10.0, minimum=0.1)
PRINT_WEBHOOK_GIVE_UP_AFTER = env_float("PRINT_WEBHOOK_GIVE_UP_AFTER", 24.0, minimum=0.01)
PRINT_WEBHOOK_HISTORY_DAYS = env_int("PRINT_WEBHOOK_HISTORY_DAYS", 7, minimum=1)
