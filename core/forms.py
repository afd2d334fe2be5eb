"""HTML forms are validated by the same marshmallow schemas as the API."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields
from werkzeug.datastructures import MultiDict

from core.api import flatten_messages


def parse_form(schema: Schema, form: MultiDict) -> tuple[dict, dict[str, list[str]]]:
    """Load a submitted form: (data, {}) when valid, ({}, field errors) otherwise."""
    raw: dict = {}
    for name, field in schema.fields.items():
        key = field.data_key or name
        if isinstance(field, fields.List):
            raw[key] = [v for v in form.getlist(key) if v != ""]
        elif isinstance(field, fields.Boolean):
            raw[key] = key in form and form.get(key) not in ("", "0", "false", "off")
        elif key in form and (form.get(key) != "" or isinstance(field, fields.String)):
            raw[key] = form.get(key)  # an empty number or date input means "not given"
    try:
        return schema.load(raw), {}
    except ValidationError as exc:
        return {}, flatten_messages(exc.messages)


def parse_query(schema: Schema, args: MultiDict) -> tuple[dict, dict[str, list[str]]]:
    """Validated query-string values, or the defaults and the problems (shown on the page)."""
    try:
        return schema.load(args.to_dict()), {}
    except ValidationError as exc:
        return schema.load({}), flatten_messages(exc.messages)


def link_args(schema: Schema, args) -> dict[str, str]:
    """The query-string values a page's links carry on (pager, exports): the schema's own
    fields only, less page. Any other name would reach url_for as one of its own arguments
    (endpoint: a 500; _external, _anchor: another link)."""
    return {k: v for k, v in args.items() if k in schema.fields and k != "page"}
