"""Security headers and error answers that leak nothing."""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

from flask import (
    Flask,
    abort,
    current_app,
    has_request_context,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from core import clock, input_check
from core.api import API_PREFIX, error_body
from core.errors import DomainError, TooManyAttempts

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

TITLES = {
    400: "Bad request",
    401: "Not logged in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    415: "Unsupported type",
    422: "Invalid input",
    429: "Too many attempts",
    500: "Internal error",
}


def _wants_json() -> bool:
    return (
        request.path.startswith(API_PREFIX) or request.accept_mimetypes.best == "application/json"
    )


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    """An error as JSON for the API, as a page otherwise."""
    if _wants_json():
        resp = jsonify(error_body(code, message, fields))
    else:
        resp = render_template(
            "errors/error.html", code=status, title=TITLES.get(status, "Error"), message=message
        )
    return resp, status


NO_STORE_ENDPOINTS = {"accounts.tokens", "accounts.login", "accounts.register"}


def localtime(moment, zone: str | None = None) -> str:
    """A UTC moment in a time zone (the platform's by default), with the zone named."""
    if moment is None:
        return ""
    zone = zone or current_app.config["TIMEZONE"]
    local = clock.local(moment, zone)
    return local.strftime("%d.%m.%Y %H:%M:%S ") + (local.tzname() or zone)


def base_url() -> str:
    """Where links in mail point: BASE_URL; without it the address this web process serves
    on (serve.py records it), never the request's Host header, which a client chooses (a
    reset link sent to a forged host would hand the token over)."""
    config = current_app.config
    return config["BASE_URL"] or config.get("SERVED_URL") or "http://localhost:5000"


def external_url(endpoint: str, **values) -> str:
    """An absolute link for a mail (jobs run outside any request: lend them one)."""
    if has_request_context():
        return base_url() + url_for(endpoint, **values)
    with current_app.test_request_context("/"):
        return base_url() + url_for(endpoint, **values)


def money(value) -> str:
    """1234567.5 -> '1 234 567,50' (no-break spaces, decimal comma, as in Russian documents)."""
    if value is None:
        return ""
    return f"{Decimal(value):,.2f}".replace(",", "\u00a0").replace(".", ",")


def qty(value) -> str:
    """A quantity without trailing zeros: 1500.000 -> '1 500', 2.500 -> '2,5'."""
    if value is None:
        return ""
    text = f"{Decimal(value).normalize():,f}"
    return text.replace(",", "\u00a0").replace(".", ",")


def reject_key(mapping: dict, key: str) -> dict:
    """A copy of a dict without one key (query strings for pagers)."""
    return {k: v for k, v in mapping.items() if k != key}


# Browsers drop tabs and newlines from a URL and read a backslash as a slash: "/\t/evil.example"
# and "/\\evil.example" lead elsewhere. A target holding any of them is refused, not cleaned.
_UNSAFE_IN_TARGET = re.compile(r"[\x00-\x20\x7f\\]")


def local_target(target: str | None) -> str | None:
    """A redirect target if it is a path of this site (parsed, not prefix-matched), else None."""
    if not target or _UNSAFE_IN_TARGET.search(target) or target.startswith("//"):
        return None  # "///evil.example" parses as a path, but browsers read a host in it
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    return target


def same_site_referrer() -> str | None:
    """The Referer header if it is a page of this site (scheme and host compared)."""
    referrer = request.referrer
    if not referrer or _UNSAFE_IN_TARGET.search(referrer):
        return None
    parts = urlsplit(referrer)
    if (parts.scheme, parts.netloc) != (request.scheme, request.host):
        return None
    return local_target(urlunsplit(("", "", parts.path or "/", parts.query, "")))


def refuse_oversized() -> None:
    """Refuse a declared oversized body before authentication or parsing."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and (request.content_length or 0) > limit:
        abort(413)


def security_headers(resp):
    """CSP without inline script, no framing, no sniffing; secrets never cached."""
    resp.headers.setdefault("Content-Security-Policy", CSP)
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    resp.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.path.startswith(API_PREFIX) or request.endpoint in NO_STORE_ENDPOINTS:
        resp.headers.setdefault("Cache-Control", "no-store")
    return resp


def domain_error(exc: DomainError):
    """A service's refusal: 4xx with its message and fields."""
    resp, status = error_response(exc.status, exc.code, exc.message, exc.fields)
    resp = current_app.make_response((resp, status))
    if isinstance(exc, TooManyAttempts):
        resp.headers["Retry-After"] = str(exc.retry_after)
    return resp


def csrf_error(exc: CSRFError):
    """A form without a valid CSRF token."""
    return error_response(
        400,
        "csrf",
        f"The form's security token is missing or stale ({exc.description}). "
        "Reload the page and try again.",
    )


def http_error(exc: HTTPException):
    """404, 405, 413... in the page or JSON form."""
    status = exc.code or 500
    code = (exc.name or "error").lower().replace(" ", "_")
    message = exc.description or TITLES.get(status, "Error")
    if status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
        message = f"The request is larger than the {limit // (1024 * 1024)} MB limit."
    return error_response(status, code, message)


def unexpected(exc: Exception):
    """Anything else: logged in full, answered with nothing internal."""
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(
        500,
        "internal",
        "Something went wrong on our side; it has been logged. Nothing you sent was stored.",
    )


def init_app(app: Flask) -> None:
    """Register security headers, the size limit, error handlers and the time filter."""
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(money, "money")
    app.add_template_filter(qty, "qty")
    app.add_template_filter(qty, "number")  # scores, percentages: exact, no trailing zeros
    app.add_template_filter(reject_key, "reject_key")
    app.before_request(refuse_oversized)
    input_check.init_app(app)  # after the size limit: it reads the body
    app.after_request(security_headers)
    app.register_error_handler(DomainError, domain_error)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected)
