"""Security headers and error answers that leak nothing."""

from __future__ import annotations

import logging
import re
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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from core import formats, input_check
from core.api import API_PREFIX, error_body, translate
from core.errors import DomainError, TooManyAttempts

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# CryptoPro's browser extension (Chrome, Chromium-Gost, Yandex; Opera): cadesplugin_api.js
# loads the extension's own script into the page.
CRYPTOPRO_EXTENSIONS = (
    "chrome-extension://iifchhfnnmpdbibifmljnfjhpififfog",
    "chrome-extension://epebfcehmdedogndhlcacafjaacknbcm",
)
CSP_WITH_CRYPTOPRO = CSP.replace(
    "script-src 'self';", f"script-src 'self' {' '.join(CRYPTOPRO_EXTENSIONS)};"
)


def content_security_policy() -> str:
    """The CSP; with CryptoPro's plug-in configured its extension may add its script."""
    return CSP_WITH_CRYPTOPRO if current_app.config.get("CRYPTOPRO_PLUGIN_API_URL") else CSP


TITLES = {
    400: _l("Bad request"),
    401: _l("Not logged in"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("Too large"),
    415: _l("Unsupported type"),
    422: _l("Invalid input"),
    429: _l("Too many attempts"),
    500: _l("Internal error"),
}
# What a standard HTTP error says when the code gave no description of its own.
DEFAULT_MESSAGES = {
    404: _l("There is nothing at this address, or it is not yours to see."),
    405: _l("This address does not accept this kind of request."),
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
            "errors/error.html",
            code=status,
            title=str(TITLES.get(status, _l("Error"))),
            message=message,
        )
    return resp, status


def localtime(moment, zone: str | None = None, lang: str | None = None) -> str:
    """A UTC moment in a time zone (the platform's by default), to the second, with the
    zone named in the current language (core.formats.moment)."""
    return formats.moment(moment, zone, lang, seconds=True)


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
    resp.headers.setdefault("Content-Security-Policy", content_security_policy())
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    resp.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    no_store = current_app.extensions.get("no_store_endpoints", ())
    if request.path.startswith(API_PREFIX) or request.endpoint in no_store:
        resp.headers.setdefault("Cache-Control", "no-store")
    return resp


def domain_error(exc: DomainError):
    """A service's refusal: 4xx with its message and fields."""
    fields = {k: [translate(m) for m in v] for k, v in exc.fields.items()}
    resp, status = error_response(exc.status, exc.code, translate(exc.message), fields)
    resp = current_app.make_response((resp, status))
    if isinstance(exc, TooManyAttempts):
        resp.headers["Retry-After"] = str(exc.retry_after)
    return resp


def csrf_error(exc: CSRFError):
    """A form without a valid CSRF token."""
    return error_response(
        400,
        "csrf",
        _(
            "The form's security token is missing or stale (%(reason)s). "
            "Reload the page and try again.",
            reason=exc.description,
        ),
    )


def http_error(exc: HTTPException):
    """404, 405, 413... in the page or JSON form."""
    status = exc.code or 500
    code = (exc.name or "error").lower().replace(" ", "_")
    if not exc.description or exc.description == type(exc).description:  # werkzeug's own
        message = str(DEFAULT_MESSAGES.get(status) or TITLES.get(status, _l("Error")))
    else:
        message = exc.description  # the code's own words (mark them with _() where raised)
    if status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
        message = _(
            "The request is larger than the %(limit)s MB limit.", limit=limit // (1024 * 1024)
        )
    return error_response(status, code, message)


def unexpected(exc: Exception):
    """Anything else: logged in full, answered with nothing internal."""
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(
        500,
        "internal",
        _("Something went wrong on our side; it has been logged. Nothing you sent was stored."),
    )


def never_store(app: Flask, *endpoints: str) -> None:
    """Pages of `app` that must never be cached (Cache-Control: no-store), besides the API:
    the blueprint that shows secrets or takes passwords names them when it is registered."""
    app.extensions.setdefault("no_store_endpoints", set()).update(endpoints)


def init_app(app: Flask) -> None:
    """Register security headers, the size limit, error handlers and the time filter."""
    app.add_template_filter(formats.in_template_language(localtime), "localtime")
    formats.init_app(app)  # money, qty, number, percent, moment, date, region
    app.before_request(refuse_oversized)
    input_check.init_app(app)  # after the size limit: it reads the body
    app.after_request(security_headers)
    app.register_error_handler(DomainError, domain_error)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected)
