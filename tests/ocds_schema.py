"""The official OCDS schemas (tests/data/ocds, copied from the standard with their licence
notes) as one offline validator: the core release schema merged with the lots and bid
extensions (JSON Merge Patch, RFC 7386), referenced by the release package schema."""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

DATA = Path(__file__).resolve().parent / "data" / "ocds"
EXTENSIONS = ("lots-extension-release-schema.json", "bid-extension-release-schema.json")


def merge_patch(target, patch):
    """RFC 7386: objects merge key by key, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _load(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value) -> bool:
    if not isinstance(value, str):
        return True
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.tzinfo is not None and "T" in value


@FORMATS.checks("uri", raises=ValueError)
def _uri(value) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and (parts.netloc or parts.path))


@functools.cache
def release_schema() -> dict:
    """release-schema.json with the lots and bid extensions merged in."""
    schema = _load("release-schema.json")
    for name in EXTENSIONS:
        schema = merge_patch(schema, _load(name))
    return schema


@functools.cache
def package_validator() -> Draft4Validator:
    """A validator of release packages that resolves the release schema locally (no network:
    any other remote reference fails to resolve)."""
    release = release_schema()
    package = _load("release-package-schema.json")
    registry = Registry().with_resource(release["id"], Resource(release, DRAFT4))
    return Draft4Validator(package, registry=registry, format_checker=FORMATS)


def problems(package: dict) -> list[str]:
    """Every schema violation of a release package, as readable lines."""
    found = package_validator().iter_errors(package)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]
