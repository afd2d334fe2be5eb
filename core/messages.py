"""The words of refusals named by a code: one place that turns a code and its parameters
into a message (the later translation work translates here). Standard library only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo


def utc_offset(offset: dt.timedelta) -> str:
    """An offset as people write it: UTC+0, UTC+3, UTC-3:30, UTC+5:45."""
    minutes = int(offset.total_seconds()) // 60
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    hours, rest = divmod(minutes, 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_moment(moment: dt.datetime, zone: str) -> str:
    """A moment in a time zone, to the second, with the zone's abbreviation and offset:
    06.12.2026 14:30:05 (MSK, UTC+3)."""
    local = moment.astimezone(ZoneInfo(zone))
    offset = utc_offset(local.utcoffset() or dt.timedelta(0))
    name = local.tzname() or ""
    # Zones without an abbreviation are named by their offset ("+05"): say it once.
    if name == "UTC":
        label = name
    elif not name or name[0] in "+-":
        label = offset
    else:
        label = f"{name}, {offset}"
    return f"{local:%d.%m.%Y %H:%M:%S} ({label})"


def _bidding_closed(p: Mapping) -> str:
    return f"Bidding closed at {local_moment(p['deadline'], p['zone'])}."


def _tender_not_open(p: Mapping) -> str:
    return f"Tender {p['number']} is {str(p['status']).replace('_', ' ')}: it accepts no bids."


_TEXTS = {
    "bidding_closed": _bidding_closed,
    "tender_not_open": _tender_not_open,
    "bid_changed": lambda p: "Your bid changed while you were signing: prepare and sign again.",
    "no_active_bid": lambda p: "There is no active bid to withdraw.",
}


def refusal_text(code: str, params: Mapping) -> str:
    """The message of a refusal named by its code (KeyError for an unknown code)."""
    return _TEXTS[code](params)
