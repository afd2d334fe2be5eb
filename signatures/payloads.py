"""The exact JSON objects that are signed: a supplier's bid revision and the platform's receipt.

Both sides (the platform, a browser, an integrator's script) must build the same object, so
field names, value types and array order are fixed here and validated strictly: a value in
the wrong shape raises ValueError naming the field instead of being coerced.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

REVISION_TYPE = "bid-revision"
RECEIPT_TYPE = "bid-receipt"
PAYLOAD_VERSION = 1

_HASH = re.compile(r"[0-9a-f]{64}")
_INN = re.compile(r"[0-9]{10}|[0-9]{12}")
# Position and lot numbers as shown to users: "1", "2", ... (dotted forms such as "2.1" sort
# by their integer parts). No leading zeros, so one number has exactly one spelling.
_NUMBER = re.compile(r"[1-9][0-9]{0,8}(\.[1-9][0-9]{0,8})*")
# Plain non-negative decimals, no sign, exponent or leading zeros: "1234.50", "0.5", "12".
_AMOUNT = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]+)?")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z")

_LINE_FIELDS = {"position", "unit_price", "total", "note"}
_CRITERION_FIELDS = {"lot", "criterion", "value"}
_DOCUMENT_FIELDS = {"name", "sha256"}


def revision_payload(
    *,
    tender_number: str,
    bidder_inn: str,
    bidder_org_id: int,
    revision: int,
    previous_hash: str | None,
    lines: list[dict],
    criteria: list[dict],
    documents: list[dict],
) -> dict:
    """The object a supplier signs for one bid revision (canonicalized with RFC 8785)."""
    _check_revision_chain(revision, previous_hash)
    return {
        "type": REVISION_TYPE,
        "version": PAYLOAD_VERSION,
        "tender": _text(tender_number, "tender_number"),
        "bidder": {
            "org_id": _positive_int(bidder_org_id, "bidder_org_id"),
            "inn": _inn(bidder_inn, "bidder_inn"),
        },
        "revision": revision,
        "previous": previous_hash or "",
        "lines": _sorted_unique(lines, "lines", _line, _line_key),
        "criteria": _sorted_unique(criteria, "criteria", _criterion, _criterion_key),
        "documents": _sorted_unique(documents, "documents", _document, _document_key),
    }


def receipt_payload(
    *,
    revision_hash: str,
    accepted_at: str,
    tender_number: str,
    bidder_inn: str,
    revision: int,
) -> dict:
    """The object the platform signs when it accepts a bid revision."""
    return {
        "type": RECEIPT_TYPE,
        "version": PAYLOAD_VERSION,
        "tender": _text(tender_number, "tender_number"),
        "bidder": {"inn": _inn(bidder_inn, "bidder_inn")},
        "revision": _positive_int(revision, "revision"),
        "revision_hash": _hash(revision_hash, "revision_hash"),
        "accepted_at": _timestamp(accepted_at, "accepted_at"),
    }


def utc_timestamp(moment: datetime) -> str:
    """An aware datetime as the receipt's ISO 8601 UTC text ("2026-11-23T12:00:00.123456Z")."""
    if moment.tzinfo is None:
        raise ValueError("utc_timestamp() needs a timezone-aware datetime.")
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
    # Whole seconds print without a fraction so the common case stays short and readable.
    return text.removesuffix(".000000") + "Z"


def _check_revision_chain(revision: int, previous_hash: str | None) -> None:
    # Revision n > 1 names revision n-1's hash, so an old signed revision cannot be passed
    # off as a later one; the first revision has nothing before it.
    _positive_int(revision, "revision")
    if revision == 1 and previous_hash:
        raise ValueError("previous_hash must be empty for revision 1.")
    if revision > 1:
        if not previous_hash:
            raise ValueError(f"previous_hash is required for revision {revision}.")
        _hash(previous_hash, "previous_hash")


def _sorted_unique(
    items: list[dict],
    name: str,
    build: Callable[[dict, str], dict],
    key: Callable[[dict], tuple],
) -> list[dict]:
    if not isinstance(items, list | tuple):
        raise ValueError(f"{name} must be a list.")
    built = [build(item, f"{name}[{i}]") for i, item in enumerate(items)]
    built.sort(key=key)
    for before, after in zip(built, built[1:]):
        if key(before) == key(after):
            raise ValueError(f"{name} has a duplicate entry: {after}.")
    return built


def _line(item: dict, where: str) -> dict:
    _fields(item, where, _LINE_FIELDS, optional=frozenset({"note"}))
    return {
        "position": _number(item["position"], f"{where}.position"),
        "unit_price": _amount(item["unit_price"], f"{where}.unit_price"),
        "total": _amount(item["total"], f"{where}.total"),
        "note": _str(item.get("note", ""), f"{where}.note"),
    }


def _criterion(item: dict, where: str) -> dict:
    _fields(item, where, _CRITERION_FIELDS)
    value = item["value"]
    if value is not None and not isinstance(value, str | bool):
        raise ValueError(f"{where}.value must be a string, true, false or null.")
    return {
        "lot": _number(item["lot"], f"{where}.lot"),
        "criterion": _positive_int(item["criterion"], f"{where}.criterion"),
        "value": value,
    }


def _document(item: dict, where: str) -> dict:
    _fields(item, where, _DOCUMENT_FIELDS)
    return {
        "name": _text(item["name"], f"{where}.name"),
        "sha256": _hash(item["sha256"], f"{where}.sha256"),
    }


def _line_key(line: dict) -> tuple:
    return _number_key(line["position"])


def _criterion_key(criterion: dict) -> tuple:
    return _number_key(criterion["lot"]), criterion["criterion"]


def _document_key(document: dict) -> tuple:
    # A file's hash identifies it; the name only breaks ties (one file attached twice).
    return document["sha256"], document["name"].encode("utf-16-be")


def _number_key(number: str) -> tuple[int, ...]:
    return tuple(int(part) for part in number.split("."))


def _fields(
    item: dict, where: str, allowed: set[str], optional: frozenset[str] = frozenset()
) -> None:
    if not isinstance(item, dict):
        raise ValueError(f"{where} must be an object.")
    unknown = sorted(set(item) - allowed)
    if unknown:
        # Refused rather than dropped: a caller must not believe an unsigned field is signed.
        raise ValueError(f"{where} has unknown fields: {', '.join(map(str, unknown))}.")
    missing = sorted(allowed - optional - set(item))
    if missing:
        raise ValueError(f"{where} is missing {', '.join(missing)}.")


def _str(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string.")
    return value


def _text(value: object, field: str) -> str:
    if not _str(value, field).strip():
        raise ValueError(f"{field} must not be empty.")
    return value  # type: ignore[return-value]


def _match(pattern: re.Pattern, value: object, field: str, expected: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"{field} must be {expected}, got {value!r}.")
    return value


def _number(value: object, field: str) -> str:
    return _match(_NUMBER, value, field, "a number string such as '1' or '2.1'")


def _amount(value: object, field: str) -> str:
    return _match(_AMOUNT, value, field, "a decimal string such as '1234.50'")


def _hash(value: object, field: str) -> str:
    return _match(_HASH, value, field, "64 lowercase hex digits (SHA-256)")


def _inn(value: object, field: str) -> str:
    return _match(_INN, value, field, "an INN of 10 or 12 digits")


def _timestamp(value: object, field: str) -> str:
    _match(_TIMESTAMP, value, field, "an ISO 8601 UTC time such as '2026-11-23T12:00:00Z'")
    try:
        datetime.fromisoformat(value)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ValueError(f"{field} is not a real date and time: {value!r}.") from exc
    return value  # type: ignore[return-value]


def _positive_int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{field} must be a positive integer, got {value!r}.")
    if value > 2**53 - 1:
        raise ValueError(f"{field} is too large for a JSON number.")
    return value
