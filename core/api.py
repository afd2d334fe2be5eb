"""JSON API plumbing: authentication, schema-validated input and output, one error format,
and the OpenAPI document generated from the same schemas."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from decimal import Decimal

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_babel import gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from marshmallow import Schema, ValidationError, fields
from wtforms import ValidationError as WTFValidationError

from core import formats, i18n
from core.errors import CODES, Forbidden, Invalid, Unauthorized
from core.extensions import csrf, db
from core.messages import N_, Moment, Text
from core.transaction import commit

API_PREFIX = "/api/v1"
_routes: list[dict] = []


class ErrorBodySchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class ErrorSchema(Schema):
    """The one error format of the API."""

    error = fields.Nested(ErrorBodySchema, required=True)


def error_body(code: str, message: str, field_errors: dict | None = None) -> dict:
    """The JSON of an error answer."""
    return {"error": {"code": code, "message": message, "fields": field_errors or {}}}


# marshmallow's validators write their numbers into the sentence: read them back out.
_MARSHMALLOW_PATTERNS = (
    (
        re.compile(r"Length must be between (?P<min>\d+) and (?P<max>\d+)\."),
        lambda m: gettext("Length must be between %(min)s and %(max)s.", **m),
    ),
    (
        re.compile(r"Shorter than minimum length (?P<min>\d+)\."),
        lambda m: gettext("Shorter than minimum length %(min)s.", **m),
    ),
    (
        re.compile(r"Longer than maximum length (?P<max>\d+)\."),
        lambda m: gettext("Longer than maximum length %(max)s.", **m),
    ),
    (
        re.compile(
            r"Must be greater than or equal to (?P<min>[\d.]+) and less than or equal to "
            r"(?P<max>[\d.]+)\."
        ),
        lambda m: gettext("Must be between %(min)s and %(max)s.", **m),
    ),
    (
        re.compile(r"Must be greater than or equal to (?P<min>[\d.]+)\."),
        lambda m: gettext("Must be greater than or equal to %(min)s.", **m),
    ),
    (
        re.compile(r"Must be less than or equal to (?P<max>[\d.]+)\."),
        lambda m: gettext("Must be less than or equal to %(max)s.", **m),
    ),
    (
        re.compile(r"Must be one of: (?P<choices>.*)\."),
        lambda m: gettext("Must be one of: %(choices)s.", **m),
    ),
)


def _value(value):
    """A value named in a message, in the current language: Text translated, Moment in the
    tender's zone and the language's format, a Decimal with the language's decimal mark."""
    if isinstance(value, Text):
        return translate(value)
    lang = i18n.language()
    if isinstance(value, Moment):
        if lang == "en":
            return str(value)
        return formats.moment(value.moment, value.zone, seconds=True)
    if isinstance(value, Decimal) and lang != "en":
        return str(value).replace(".", ",")
    return value


def translate(message: str) -> str:
    """A message written in English (a rule's N_() constant, a Text with its values,
    marshmallow's words) in the current language; unchanged when the catalog does not hold
    it."""
    if not message:
        return message
    if isinstance(message, Text):
        values = {k: _value(v) for k, v in message.params.items()}
        return gettext(message.template, **values) if values else gettext(message.template)
    for pattern, text in _MARSHMALLOW_PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            return text(found.groupdict())
    return gettext(message)


def flatten_messages(messages) -> dict[str, list[str]]:
    """marshmallow's nested messages as {"field.sub": [messages]}, in the request's language
    (a message in the catalog, marked where it is written, is translated here)."""
    out: dict[str, list[str]] = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
            for v in value:
                walk(prefix, v)
        else:
            texts = value if isinstance(value, list) else [value]
            out.setdefault(prefix or "_schema", []).extend(
                translate(t if isinstance(t, str) else str(t)) for t in texts
            )

    walk("", messages)
    return out


def _authenticate(unsafe: bool) -> None:
    """Bearer token, or the browser session (then unsafe methods need the CSRF header)."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(N_("Use 'Authorization: Bearer <token>'."))
        # The login manager's request loader (registered by accounts) reads the token; it is
        # asked here too for a request whose session or remember cookie came first.
        loader = current_app.login_manager.request_callback
        if "api_token" not in g and loader is not None:
            loader(request)
        if g.get("api_token_error") is not None:
            raise g.api_token_error
        api_token = g.get("api_token")
        if api_token is None:
            raise Unauthorized(N_("The API token is not valid."))
        if db.session.dirty:
            commit()  # the token's last-used time, before (and whatever) the call does
        g.api_user, g.org, g.api_token = api_token.user, api_token.organization, api_token
        _require_token_organization(api_token)
        return
    if not current_user.is_authenticated:
        raise Unauthorized(N_("Authentication required: send an API token or log in."))
    if unsafe:
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except (CSRFError, WTFValidationError):
            raise Unauthorized(
                "Missing or invalid X-CSRFToken header for a session request."
            ) from None
    g.api_user = current_user._get_current_object()


def _require_token_organization(api_token) -> None:
    """A token acts for its own organization only: a path naming another one (its profile,
    members, categories, dashboard) is refused, even when the token's user is a member there
    too (that needs a token of that organization, or the browser session)."""
    named = (request.view_args or {}).get("org_id")
    if api_token.scope == "organization" and named not in (None, api_token.organization_id):
        raise Forbidden(N_("This API token acts for another organization."))


def _check_auth(auth: bool | str, method: str) -> None:
    if auth is True or (auth == "optional" and _has_credentials()):
        _authenticate(unsafe=method not in ("GET", "HEAD"))
    elif auth == "optional":
        g.api_user = None


def _json_object() -> dict:
    if not request.is_json:
        raise Invalid(N_("Send a JSON body with Content-Type: application/json."))
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise Invalid(N_("The body must be a JSON object."))
    return payload


def _has_credentials() -> bool:
    return bool(request.headers.get("Authorization")) or current_user.is_authenticated


def _load(schema: Schema, data) -> dict:
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise Invalid(
            N_("The request has invalid fields."), flatten_messages(exc.messages)
        ) from None


def route(
    bp: Blueprint,
    rule: str,
    method: str,
    *,
    summary: str,
    body: type[Schema] | Schema | None = None,
    query: type[Schema] | Schema | None = None,
    response: type[Schema] | Schema | None = None,
    status: int = 200,
    auth: bool | str = True,  # True, False or "optional" (public data, more when logged in)
    tag: str = "default",
    errors: tuple[str, ...] = (),  # error codes beyond those every endpoint may give
) -> Callable:
    """Declare an API endpoint; the view gets `body` / `query` dicts and returns data."""
    unknown = set(errors) - set(CODES)
    if unknown:
        raise ValueError(f"Unknown error codes {sorted(unknown)}: list them in core.errors.CODES.")

    def as_schema(s):
        return s() if isinstance(s, type) else s

    body_s, query_s, resp_s = as_schema(body), as_schema(query), as_schema(response)

    def decorator(view):
        @functools.wraps(view)
        def wrapper(**kwargs):
            _check_auth(auth, method)
            if body_s is not None:
                kwargs["body"] = _load(body_s, _json_object())
            if query_s is not None:
                kwargs["query"] = _load(query_s, request.args.to_dict())
            result = view(**kwargs)
            if isinstance(result, Response):  # a file download
                return result
            if status == 204:
                return "", 204
            return jsonify(resp_s.dump(result) if resp_s is not None else result), status

        csrf.exempt(wrapper)  # session calls are checked against X-CSRFToken in _authenticate
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapper, methods=[method])
        _routes.append(
            {
                "path": (bp.url_prefix or "") + rule,
                "method": method.lower(),
                "summary": summary,
                "doc": (view.__doc__ or "").strip(),
                "body": body_s,
                "query": query_s,
                "response": resp_s,
                "status": status,
                "auth": auth,
                "tag": tag,
                "errors": errors,
            }
        )
        return wrapper

    return decorator


def openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: <int:id> -> {id}."""
    return re.sub(r"<(?:[a-z]+:)?([a-zA-Z_]+)>", r"{\1}", rule)


def _schema_ref(schema: Schema):
    """Schemas are referenced by class (one component each); lists wrap them in an array."""
    if schema.many:
        return {"type": "array", "items": type(schema)}
    return type(schema)


def error_codes(r: dict) -> list[str]:
    """The error codes an endpoint may give: invalid input and unknown ids anywhere, a body
    over the size limit where it takes one, the credentials' refusals where it takes them,
    a state conflict where an account changes something, and those it declares."""
    codes = ["invalid", "not_found"]
    if r["method"] not in ("get", "head"):
        codes.append("request_entity_too_large")  # any body over the limit (core.http)
        codes.append("bad_request")  # a body nested too deep to read (core.input_check)
    if r["auth"]:
        codes.append("unauthorized")  # a bad token is refused even where one is optional
    if r["auth"] is True:
        codes.append("forbidden")
        if r["method"] not in ("get", "head"):
            codes.append("conflict")
    return codes + [c for c in r["errors"] if c not in codes]


def error_responses(codes: list[str]) -> dict[str, dict]:
    """The error answers of these codes by status, each code with its example."""
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(CODES[code][0], []).append(code)
    return {
        str(status): {
            "description": "; ".join(f"{c}: {CODES[c][1]}" for c in same),
            "content": {
                "application/json": {
                    "schema": "Error",
                    "examples": {
                        c: {"summary": CODES[c][1], "value": error_body(c, CODES[c][1])}
                        for c in same
                    },
                }
            },
        }
        for status, same in sorted(by_status.items())
    }


def build_spec() -> dict:
    """The OpenAPI 3 document of every declared endpoint, from their schemas."""
    spec = APISpec(
        title="Tenders API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Requests for proposals, bids and results. Errors always have the "
            'shape {"error": {"code", "message", "fields"}}.'
        },
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=ErrorSchema)
    paths: dict[str, dict] = {}
    for r in _routes:
        path = openapi_path(r["path"])
        op: dict = {"summary": r["summary"], "tags": [r["tag"]], "responses": {}}
        if r["doc"]:
            op["description"] = r["doc"]
        params = re.findall(r"{([a-zA-Z_]+)}", path)
        op["parameters"] = [
            {"in": "path", "name": p, "required": True, "schema": {"type": "integer"}}
            for p in params
        ]
        if r["query"] is not None:
            op["parameters"].append({"in": "query", "schema": r["query"]})
        if r["body"] is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": r["body"]}},
            }
        ok: dict = {"description": "OK"}
        if r["response"] is not None:
            ok["content"] = {"application/json": {"schema": _schema_ref(r["response"])}}
        op["responses"][str(r["status"])] = ok
        if r["auth"] == "optional":
            op["security"] = [{}, {"bearer": []}]
        elif r["auth"]:
            op["security"] = [{"bearer": []}]
        op["responses"].update(error_responses(error_codes(r)))
        paths.setdefault(path, {})[r["method"]] = op
    for path, ops in paths.items():
        spec.path(path=path, operations=ops)
    return spec.to_dict()


def actor() -> tuple:
    """(user, organization) the API caller acts as: a service's first two arguments."""
    return g.api_user, getattr(g, "org", None)
