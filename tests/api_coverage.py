"""What the API answered during a test run, against what its OpenAPI document says: every
status (and error code) an operation answered must be documented for that operation."""

from __future__ import annotations

from collections.abc import Mapping

from flask import request

from core.api import API_PREFIX, openapi_path

# (path as in the document, method) -> {(status, error code or None)}
Seen = dict[tuple[str, str], set[tuple[int, str | None]]]


def recorder(seen: Seen):
    """A request_finished receiver that notes each API operation's answer in `seen`."""

    def note(sender, response, **extra) -> None:
        rule = request.url_rule
        if rule is None or not rule.rule.startswith(API_PREFIX) or response.status_code >= 500:
            return
        code = None
        if response.status_code >= 400 and response.is_json:
            code = (response.get_json(silent=True) or {}).get("error", {}).get("code")
        key = (openapi_path(rule.rule), request.method.lower())
        seen.setdefault(key, set()).add((response.status_code, code))

    return note


def undocumented(seen: Seen, spec: Mapping) -> list[str]:
    """Each answer of a documented operation that its document does not list."""
    problems = []
    for (path, method), answers in sorted(seen.items()):
        operation = spec["paths"].get(path, {}).get(method)
        if operation is None:
            continue  # not an operation of the document (the document itself, pages)
        for status, code in sorted(answers, key=lambda a: (a[0], a[1] or "")):
            documented = operation["responses"].get(str(status))
            if documented is None:
                problems.append(f"{method.upper()} {path}: status {status} ({code})")
            elif code is not None:
                examples = documented.get("content", {}).get("application/json", {})
                if code not in examples.get("examples", {}):
                    problems.append(f"{method.upper()} {path}: {status} code {code}")
    return problems
