"""One check of every request's text before any view sees it: no control characters (NUL
and its kin break PostgreSQL and readers alike) and no JSON nested past a sane depth.

Refused: C0 controls except tab, line feed and carriage return (U+0000-U+0008, U+000B,
U+000C, U+000E-U+001F), DEL (U+007F) and lone surrogates (U+D800-U+DFFF, which JSON's
"\\ud800" escapes can produce and no database can store). See docs/security.md.
"""

from __future__ import annotations

import re

from flask import Flask, abort, request
from flask.json.provider import DefaultJSONProvider

from core.errors import Invalid

REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
MAX_JSON_DEPTH = 32  # a tender with lots, criteria and options needs 5
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def refused_char(text: str) -> str | None:
    """The first refused character of a text, as U+XXXX, or None."""
    found = REFUSED.search(text)
    return f"U+{ord(found[0]):04X}" if found else None


def printable(name: str) -> str:
    """A field name fit for a message even when it holds refused characters."""
    return REFUSED.sub(lambda m: f"\\u{ord(m[0]):04x}", name)


def json_problem(data, max_depth: int = MAX_JSON_DEPTH) -> tuple[str, str] | None:
    """A parsed JSON document's first problem: (dotted path, "U+XXXX"), ("", "depth"), None."""
    # Iterative, so a document nested as deep as the parser allows cannot exhaust the stack.
    if isinstance(data, str):
        bad = refused_char(data)
        return ("_schema", bad) if bad else None
    stack = [((), data)] if isinstance(data, dict | list) else []
    while stack:
        path, container = stack.pop()
        if len(path) >= max_depth:
            return "", "depth"
        items = container.items() if isinstance(container, dict) else enumerate(container)
        for key, item in items:
            # Names are built only for a problem: a 10,000-position tender has 100,000 values.
            if isinstance(item, str):
                if REFUSED.search(item):
                    return _dotted(path, key), refused_char(item)
            elif isinstance(item, dict | list):
                stack.append(((*path, key), item))
            if isinstance(key, str) and REFUSED.search(key):
                return _dotted(path, key), refused_char(key)
    return None


def _dotted(path: tuple, key) -> str:
    return ".".join(str(step) for step in (*path, key))


def _refuse(field: str, char: str) -> None:
    where = "The address" if field == "path" else f"The field {printable(field)!r}"
    message = (
        f"{where} contains a control character ({char}); only tab, line feed and "
        "carriage return are allowed in text."
    )
    raise Invalid(message, {printable(field): [message]})


def _check_pairs(pairs) -> None:
    for key, value in pairs:
        bad = refused_char(key) or refused_char(value)
        if bad:
            _refuse(key, bad)


def check_request() -> None:
    """Refuse control characters in the path, query string, form fields or JSON body."""
    bad = refused_char(request.path)
    if bad:
        _refuse("path", bad)
    _check_pairs(request.args.items(multi=True))
    if request.mimetype in FORM_TYPES:
        _check_pairs(request.form.items(multi=True))
    if request.is_json and request.content_length != 0:
        problem = json_problem(request.get_json(silent=True))  # unparsable: None, as before
        if problem and problem[1] == "depth":
            abort(400, f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.")
        if problem:
            _refuse(*problem)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing a document too deeply nested to parse (instead of a 500)."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            abort(400, f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.")


def init_app(app: Flask) -> None:
    """Install the JSON provider and the request check (after the size limit)."""
    ensure_ascii = app.json.ensure_ascii
    app.json = JSONProvider(app)
    app.json.ensure_ascii = ensure_ascii
    app.before_request(check_request)
