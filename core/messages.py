"""The words of refusals named by a code: one place that turns a code and its parameters
into a message: an English Text carrying its catalog template and values, which
core.api.translate says in the reader's language. Standard library only (pure rules use Text
and Moment too)."""

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


class Moment:
    """A moment named in a message: its tender's zone travels with it, so the edge can say it
    in the reader's format (core.api.translate); str() is the English form (local_moment)."""

    __slots__ = ("english", "moment", "zone")

    def __init__(self, moment: dt.datetime, zone: str, english: str | None = None):
        self.moment, self.zone, self.english = moment, zone, english

    def __str__(self) -> str:
        return self.english if self.english is not None else local_moment(self.moment, self.zone)


class Text(str):
    """An English message that keeps its catalog template and its values: str() is the
    English sentence (for code and tests); the edge says it in the reader's language with
    gettext(template, **values) (core.api.translate), values that are Text or Moment too.
    Pure modules make one with N_() so that `make messages` extracts the template."""

    template: str
    params: dict

    def __new__(cls, template: str, params: Mapping | None = None, /, **values) -> Text:
        params = {**(params or {}), **values}
        self = super().__new__(cls, template % params if params else template)
        self.template = str(template)
        self.params = params
        return self


def N_(template: str, **params) -> Text:  # noqa: N802  (the gettext convention)
    """Mark a message for the catalog (make messages) where it cannot be translated yet (pure
    code): the English text with its values, which the edge translates (see Text)."""
    return Text(template, params)


def _bidding_closed(p: Mapping) -> Text:
    return Text(N_("Bidding closed at %(at)s."), at=Moment(p["deadline"], p["zone"]))


def _tender_not_open(p: Mapping) -> Text:
    status = Text(str(p["status"]).replace("_", " "))  # a word of core.i18n.LABELS
    return Text(
        N_("Tender %(number)s is %(status)s: it accepts no bids."),
        number=p["number"],
        status=status,
    )


_TEXTS = {
    "bidding_closed": _bidding_closed,
    "tender_not_open": _tender_not_open,
    "bid_changed": lambda p: Text(
        N_("Your bid changed while you were signing: prepare and sign again.")
    ),
    "no_active_bid": lambda p: Text(N_("There is no active bid to withdraw.")),
}


def refusal_text(code: str, params: Mapping) -> Text:
    """The message of a refusal named by its code (KeyError for an unknown code): English,
    carrying its template and values for the edge's translation."""
    return _TEXTS[code](params)
