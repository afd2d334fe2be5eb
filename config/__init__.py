"""Settings classes; values are read from the environment inside the factory, never at import."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _check_site_path(values: dict, name: str) -> None:
    """A script the pages load must be a path on this site: the CSP allows no other."""
    path = values[name]
    if path and (not path.startswith("/") or path.startswith("//")):
        raise RuntimeError(
            f"{name} must be a path on this site (the CSP allows scripts of this site only), "
            f"e.g. /static/vendor/cryptopro/cadesplugin_api.js; got {path!r}"
        )


def _int(env: Mapping[str, str], name: str, default: int, minimum: int | None = None) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise RuntimeError(
            f"Configuration variable {name} must be an integer, got {raw!r}"
        ) from exc
    if minimum is not None and value < minimum:
        raise RuntimeError(f"Configuration variable {name} must be at least {minimum}, got {raw!r}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise RuntimeError(f"Configuration variable {name} must be a number, got {raw!r}") from exc
    if value <= 0:
        raise RuntimeError(f"Configuration variable {name} must be positive, got {raw!r}")
    return value


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RuntimeError(
            f"Configuration variable TIMEZONE must be an IANA time zone such as "
            f"Europe/Moscow, got {name!r}"
        ) from None
    return name


def _language(name: str) -> str:
    if name not in ("ru", "en"):
        raise RuntimeError(
            f"Configuration variable BABEL_DEFAULT_LOCALE must be ru or en, got {name!r}"
        )
    return name


def database_url(url: str) -> str:
    """Plain PostgreSQL URLs use psycopg2 (psycogreen makes it cooperative under eventlet)."""
    for plain in ("postgres://", "postgresql://"):
        if url.startswith(plain):
            return "postgresql+psycopg2://" + url[len(plain) :]
    return url


WEB_SETTINGS = (
    "WEB_MAX_CONNECTIONS",
    "WEB_HEADER_TIMEOUT",
    "WEB_BODY_TIMEOUT",
    "WEB_BODY_MIN_RATE",
    "WEB_SOCKET_TIMEOUT",
    "WEB_BACKLOG",
    "WEB_REFUSALS",
)


class BaseConfig:
    """Settings shared by every environment."""

    NAME = "base"
    DEBUG = False
    TESTING = False
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None
    REDIS_URL: str | None = None
    TIMEZONE = "Europe/Moscow"
    # The interface language when neither the user, the switch's cookie nor Accept-Language
    # chose one (docs/i18n.md): "ru" or "en".
    BABEL_DEFAULT_LOCALE = "ru"
    SOCKETIO_ASYNC_MODE = "eventlet"
    SOCKETIO_CHANNEL = "tenders-socketio"  # the Redis channel of the Socket.IO message queue
    # Mail: without MAIL_SERVER, mails are written to files in instance/mail.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_TIMEOUT = 10
    MAIL_DEFAULT_SENDER = "Tenders <noreply@tenders.local>"
    MAIL_MAX_ATTEMPTS = 8
    DIGEST_HOUR = 8  # daily digests leave at this hour, in TIMEZONE
    # Where mailed links point (they must work outside a request). Unset: the address
    # serve.py listens on (core.http.base_url); required in production.
    BASE_URL = ""
    # Requests, cookies and sessions.
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    PROXY_FIX_X_FOR = 0  # number of trusted reverse proxies in front of the app
    MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    # Accounts.
    EMAIL_TOKEN_MAX_AGE = 48 * 3600
    RESET_TOKEN_MAX_AGE = 2 * 3600
    INVITE_TOKEN_MAX_AGE = 7 * 24 * 3600
    LOGIN_ACCOUNT_THRESHOLD = 5
    LOGIN_ADDRESS_THRESHOLD = 20
    # Tenders: CSV import limits (fit 50,000 positions), documents, amendments.
    # 32 MB: a 50,000-position bid template with names of ~300 Cyrillic characters on average.
    CSV_MAX_BYTES = 32 * 1024 * 1024
    CSV_MAX_ROWS = 50_000
    # An uploaded .xlsx may unpack to this much XML (zip-bomb guard; 50,000 rows: ~25 MB).
    XLSX_MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
    CSV_UPLOAD_TTL_HOURS = 24  # a valid CSV bid waits this long for its signature
    DOCUMENT_MAX_BYTES = 25 * 1024 * 1024
    AMENDMENT_MIN_NOTICE_HOURS = 24
    # A re-bidding round's deadline is at least this far ahead (a sandbox may shorten it).
    REBIDDING_MIN_LEAD_SECONDS = 3600
    # Signatures: trusted CA certificates (*.pem in a folder) enable chain validation; for
    # qualified (GOST) signatures also the CRLs (*.crl, *.pem in a folder). Unset: the
    # instance folder's trusted-ca/ and crl/ (the demo's test centre is put there).
    SIGNATURE_TRUSTED_CA_DIR: str | None = None
    SIGNATURE_CRL_DIR: str | None = None
    SIGNATURE_ALLOW_SELF_SIGNED = True
    PLATFORM_KEY_PEM: str | None = None  # default: generated into instance/platform_key.pem
    # CryptoPro's cadesplugin_api.js as this site serves it (e.g. /static/vendor/cryptopro/
    # cadesplugin_api.js; CryptoPro's file, not ours: docs/signatures.md). Set, the bid pages
    # load it and the CSP admits CryptoPro's browser extension, so that bids can be signed
    # through the plug-in; unset, the file route alone (a plug-in found anyway is used).
    CRYPTOPRO_PLUGIN_API_URL: str | None = None
    # Jobs: "rq" when REDIS_URL is set, "inprocess" otherwise; tests may ask for "eager".
    JOBS_MODE: str | None = None
    # Redis calls of the web process (enqueues, live pushes) give up after this many seconds,
    # and are not tried for REDIS_PAUSE seconds after a failure: a hung Redis must not hold
    # a response (the sweepers catch up; docs/operations.md).
    REDIS_TIMEOUT = 1.0
    REDIS_PAUSE = 5.0
    # The scheduler's Redis calls give up after this many seconds (redis-py may retry them):
    # a hung Redis must fail them, not hang the process. The fault tests shorten it.
    SCHEDULER_REDIS_TIMEOUT = 5.0
    # Fault tests only: a folder where jobs wait at named points (core/faults.py).
    FAULT_GATE_DIR: str | None = None
    # Run every sweeper at this interval (seconds) instead of its own (tests, demos).
    SWEEPERS_INTERVAL: int | None = None
    # OCDS export: ocid = OCDS_PREFIX + "-" + tender number (register a prefix for production).
    OCDS_PREFIX = "ocds-000000"
    OCDS_PUBLISHER = "Tenders platform"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # A pooled connection idle this long is checked before use (a busy one is known alive).
    DB_PING_IDLE_SECONDS = 10
    # PostgreSQL connections a process keeps open once it needed them, and how many more it
    # may open under a burst (those are closed again after use). An eventlet web process runs
    # many requests at once: a pool smaller than its concurrency makes the database start a
    # backend process for nearly every request.
    DB_POOL_SIZE = 20
    DB_MAX_OVERFLOW = 10
    # The eventlet web server (serve.py; docs/capacity.md): connections served at once
    # (lowered to fit the file descriptors), seconds for a request head and for a body (plus
    # its length at WEB_BODY_MIN_RATE bytes/s), seconds a socket read or write may stall,
    # the listen backlog, and how many connections past the limit are answered 503 at once.
    WEB_MAX_CONNECTIONS = 5000
    WEB_HEADER_TIMEOUT = 20
    WEB_BODY_TIMEOUT = 30
    WEB_BODY_MIN_RATE = 100_000
    WEB_SOCKET_TIMEOUT = 60
    WEB_BACKLOG = 1024
    WEB_REFUSALS = 256
    # Official classifier editions loaded by `flask classifiers load` (docs/tenders.md);
    # empty: the instance folder's classifiers/.
    CLASSIFIERS_DIR = ""
    # PostgreSQL: revisions of active bids stored in one call of bid_accept_revision().
    BIDS_ONE_CALL_ACCEPT = True

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance_path: str) -> dict:
        """Return the settings as a dict, environment values overriding class defaults."""
        values = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        sqlite_default = "sqlite:///" + str(Path(instance_path) / "tenders.sqlite3")
        values["SQLALCHEMY_DATABASE_URI"] = (
            env.get("DATABASE_URL") or values["SQLALCHEMY_DATABASE_URI"] or sqlite_default
        )
        values["REDIS_URL"] = env.get("REDIS_URL") or values["REDIS_URL"] or None
        values["SECRET_KEY"] = env.get("SECRET_KEY") or values["SECRET_KEY"]
        values["TIMEZONE"] = _zone(env.get("TIMEZONE") or values["TIMEZONE"])
        values["BABEL_DEFAULT_LOCALE"] = _language(
            env.get("BABEL_DEFAULT_LOCALE") or values["BABEL_DEFAULT_LOCALE"]
        )
        values["SOCKETIO_ASYNC_MODE"] = (
            env.get("SOCKETIO_ASYNC_MODE") or values["SOCKETIO_ASYNC_MODE"]
        )
        values["SOCKETIO_CHANNEL"] = env.get("SOCKETIO_CHANNEL") or values["SOCKETIO_CHANNEL"]
        values["BASE_URL"] = (env.get("BASE_URL") or values["BASE_URL"]).rstrip("/")
        values["JOBS_MODE"] = env.get("JOBS_MODE") or values["JOBS_MODE"]
        values["FAULT_GATE_DIR"] = env.get("FAULT_GATE_DIR") or values["FAULT_GATE_DIR"]
        values["CLASSIFIERS_DIR"] = (
            env.get("CLASSIFIERS_DIR")
            or values["CLASSIFIERS_DIR"]
            or str(Path(instance_path) / "classifiers")
        )
        if env.get("SWEEPERS_INTERVAL"):
            values["SWEEPERS_INTERVAL"] = _int(env, "SWEEPERS_INTERVAL", 60)
        for name in ("OCDS_PREFIX", "OCDS_PUBLISHER"):
            values[name] = env.get(name) or values[name]
        if not re.fullmatch(r"ocds-[a-z0-9]{6}", values["OCDS_PREFIX"]):
            raise RuntimeError(
                f"OCDS_PREFIX must look like ocds-abc123 (ocds- and 6 lowercase letters or "
                f"digits), got {values['OCDS_PREFIX']!r}"
            )
        for name in ("MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER"):
            if env.get(name):
                values[name] = env[name]
        values["MAIL_PORT"] = _int(env, "MAIL_PORT", values["MAIL_PORT"])
        values["DIGEST_HOUR"] = _int(env, "DIGEST_HOUR", values["DIGEST_HOUR"])
        values["MAIL_USE_TLS"] = _bool(env.get("MAIL_USE_TLS"), values["MAIL_USE_TLS"])
        values["MAIL_USE_SSL"] = _bool(env.get("MAIL_USE_SSL"), values["MAIL_USE_SSL"])
        for name in (
            "SIGNATURE_TRUSTED_CA_DIR",
            "SIGNATURE_CRL_DIR",
            "PLATFORM_KEY_PEM",
            "CRYPTOPRO_PLUGIN_API_URL",
        ):
            values[name] = env.get(name) or values[name]
        _check_site_path(values, "CRYPTOPRO_PLUGIN_API_URL")
        values["SIGNATURE_ALLOW_SELF_SIGNED"] = _bool(
            env.get("SIGNATURE_ALLOW_SELF_SIGNED"), values["SIGNATURE_ALLOW_SELF_SIGNED"]
        )
        values["PROXY_FIX_X_FOR"] = _int(env, "PROXY_FIX_X_FOR", values["PROXY_FIX_X_FOR"])
        values["MAX_CONTENT_LENGTH"] = _int(env, "MAX_CONTENT_LENGTH", values["MAX_CONTENT_LENGTH"])
        for name in (
            "CSV_MAX_BYTES",
            "CSV_MAX_ROWS",
            "CSV_UPLOAD_TTL_HOURS",
            "XLSX_MAX_UNZIPPED_BYTES",
            "REBIDDING_MIN_LEAD_SECONDS",
        ):
            values[name] = _int(env, name, values[name])
        values["DOCUMENT_MAX_BYTES"] = _int(
            env, "DOCUMENT_MAX_BYTES", values["DOCUMENT_MAX_BYTES"], minimum=1
        )
        values["AMENDMENT_MIN_NOTICE_HOURS"] = _int(
            env, "AMENDMENT_MIN_NOTICE_HOURS", values["AMENDMENT_MIN_NOTICE_HOURS"], minimum=0
        )
        values["BIDS_ONE_CALL_ACCEPT"] = _bool(
            env.get("BIDS_ONE_CALL_ACCEPT"), values["BIDS_ONE_CALL_ACCEPT"]
        )
        for name in ("REDIS_TIMEOUT", "REDIS_PAUSE", "SCHEDULER_REDIS_TIMEOUT"):
            values[name] = _float(env, name, values[name])
        for name in ("DB_PING_IDLE_SECONDS", "DB_POOL_SIZE", "DB_MAX_OVERFLOW", *WEB_SETTINGS):
            values[name] = _int(env, name, values[name])
        values["SQLALCHEMY_DATABASE_URI"] = database_url(values["SQLALCHEMY_DATABASE_URI"])
        return values


class DevelopmentConfig(BaseConfig):
    """Local development and the embedded demo: SQLite, in-process jobs."""

    NAME = "development"
    DEBUG = False
    SECRET_KEY = None  # generated once into instance/secret_key when not given


class TestConfig(BaseConfig):
    """The test suite: eager jobs, fast password hashing is NOT used (real argon2)."""

    NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    JOBS_MODE = "eager"
    SOCKETIO_ASYNC_MODE = "threading"
    BASE_URL = "http://localhost"


class ProductionConfig(BaseConfig):
    """Production: secrets and services must come from the environment."""

    NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True

    @classmethod
    def from_env(cls, env: Mapping[str, str], instance_path: str) -> dict:
        values = super().from_env(env, instance_path)
        if not env.get("SECRET_KEY"):
            raise RuntimeError("SECRET_KEY must be set in production")
        if not env.get("DATABASE_URL"):
            raise RuntimeError("DATABASE_URL must be set in production")
        if not env.get("BASE_URL"):
            raise RuntimeError("BASE_URL must be set in production (the links in mail)")
        return values


CONFIGS = {c.NAME: c for c in (DevelopmentConfig, TestConfig, ProductionConfig)}


def load(name: str | None, env: Mapping[str, str] | None, instance_path: str) -> dict:
    """Build the settings for the named environment (APP_ENV, default development)."""
    env = os.environ if env is None else env
    name = name or env.get("APP_ENV") or "development"
    try:
        cls = CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"Unknown APP_ENV {name!r}; use one of {sorted(CONFIGS)}") from None
    return cls.from_env(env, instance_path)
