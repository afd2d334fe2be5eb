"""The words of the workspaces' codes (stages, outcomes, bid statuses) in the reader's
language: pages and exports say them through these."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STAGES = {
    "bidding": _l("bidding"),
    "review": _l("under review"),
    "results": _l("results published"),
    "cancelled": _l("cancelled"),
    "unsuccessful": _l("unsuccessful"),
}
OUTCOMES = {
    "won": _l("won"),
    "lost": _l("lost"),
    "disqualified": _l("disqualified"),
    "unsuccessful": _l("nobody won"),
}
BID_STATUSES = {"active": _l("active"), "withdrawn": _l("withdrawn")}
SORTS = {
    "-deadline": _l("deadline, latest first"),
    "deadline": _l("deadline, earliest first"),
    "-submitted": _l("last revision, newest first"),
    "submitted": _l("last revision, oldest first"),
    "-total": _l("total, highest first"),
    "total": _l("total, lowest first"),
    "number": _l("number"),
    "-number": _l("number, descending"),
    "customer": _l("customer"),
    "-customer": _l("customer, descending"),
    "-followed": _l("followed, newest first"),
    "followed": _l("followed, oldest first"),
}


def word(table: dict, code: str | None) -> str:
    """The word of a code (the code itself if unknown, empty for None)."""
    if code is None:
        return ""
    found = table.get(code)
    return str(found) if found is not None else code
