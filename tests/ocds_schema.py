"""The official OCDS schemas (tests/data/ocds, copied from the standard with their licence
notes) as one offline validator: the core release schema merged with the lots, bid and
enquiries extensions (JSON Merge Patch, RFC 7386), referenced by the release package schema;
and which schema (core or which extension) defines each field a release uses."""

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
_REPO = "https://raw.githubusercontent.com/open-contracting-extensions"
# Each extension's release schema patch, by the URL a package declares it with.
EXTENSIONS = {
    f"{_REPO}/ocds_lots_extension/master/extension.json": "lots-extension-release-schema.json",
    f"{_REPO}/ocds_bid_extension/master/extension.json": "bid-extension-release-schema.json",
    f"{_REPO}/ocds_enquiry_extension/master/extension.json": (
        "enquiry-extension-release-schema.json"
    ),
}


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
    """release-schema.json with the lots, bid and enquiries extensions merged in."""
    schema = _load("release-schema.json")
    for name in EXTENSIONS.values():
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


def _at(schema: dict, pointer: tuple[str, ...]) -> bool:
    node = schema
    for key in pointer:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def used_fields(release: dict) -> set[tuple[str, ...]]:
    """The schema pointer of every field a release uses (("definitions", "Tender",
    "properties", "enquiries"), ...), followed through the merged schema's $refs; a field no
    schema defines gets the pointer it would have."""
    schema = release_schema()
    found: set[tuple[str, ...]] = set()

    def walk(pointer: tuple[str, ...], value) -> None:
        node = schema
        for key in pointer:
            node = node.get(key, {}) if isinstance(node, dict) else {}
        ref = node.get("$ref", "") if isinstance(node, dict) else ""
        if ref.startswith("#/definitions/"):
            pointer = ("definitions", ref.removeprefix("#/definitions/"))
        if isinstance(value, dict):
            for key, item in value.items():
                found.add((*pointer, "properties", key))
                walk((*pointer, "properties", key), item)
        elif isinstance(value, list):
            for item in value:
                walk((*pointer, "items"), item)

    walk((), release)
    return found


def field_sources(release: dict) -> dict[tuple[str, ...], str | None]:
    """For each field a release uses outside core 1.1: the URL of the extension that defines
    it (None if no known schema does)."""
    core = _load("release-schema.json")
    sources: dict[tuple[str, ...], str | None] = {}
    for pointer in used_fields(release):
        if _at(core, pointer):
            continue
        sources[pointer] = next(
            (url for url, name in EXTENSIONS.items() if _at(_load(name), pointer)), None
        )
    return sources
