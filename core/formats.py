"""The one place that writes numbers, money, moments and regions for people (docs/i18n.md).

Every function takes an optional `lang` ("ru", "en"); without it, the current language
(the request's, or the default outside a request, or the one forced with
`flask_babel.force_locale`). Russian: no-break space between thousands and a decimal
comma (1 234 567,50); English: 1,234,567.50. Moments are written in the tender's time zone,
named: 06.12.2026 14:30 МСК. Plain string work (no Babel number patterns): the
10,000-position notice calls these tens of thousands of times.

CSV files for Excel are not formatted here: they keep the template's own dialect
(positions/csv_rules.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from jinja2 import pass_context

NBSP = "\u00a0"
# (thousands separator, decimal mark)
_SEPARATORS = {"ru": (NBSP, ","), "en": (",", ".")}
# Zone abbreviations as Russian documents write them.
_ZONE_NAMES_RU = {"MSK": "МСК"}


def _lang(lang: str | None) -> str:
    if lang in _SEPARATORS:
        return lang
    from core.i18n import language

    try:
        return language()
    except RuntimeError:  # no app context at all (pure code, scripts)
        return "ru"


def _ru(text: str) -> str:
    """'1,234,567.50' (Python's grouping) with a no-break space and a decimal comma."""
    return text.replace(",", NBSP).replace(".", ",")


def _decimal(value) -> Decimal:
    """A float as it was written (0.1, not 0.1000000000000000055511151231257827)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def money(value, lang: str | None = None) -> str:
    """1234567.5 -> '1 234 567,50' (ru, no-break spaces) / '1,234,567.50' (en); None -> ''."""
    if value is None:
        return ""
    text = f"{_decimal(value):,.2f}"
    return text if (lang if lang in _SEPARATORS else _lang(lang)) == "en" else _ru(text)


def qty(value, lang: str | None = None) -> str:
    """A quantity, score or weight exactly, without trailing zeros: 1500.000 -> '1 500',
    2.500 -> '2,5' (ru) / '1,500', '2.5' (en); None -> ''."""
    if value is None:
        return ""
    text = f"{_decimal(value).normalize():,f}"
    return text if (lang if lang in _SEPARATORS else _lang(lang)) == "en" else _ru(text)


def percent(value, lang: str | None = None) -> str:
    """A share in percent: 12.46 -> '12,46 %' (ru) / '12.46%' (en); None -> ''."""
    if value is None:
        return ""
    lang = _lang(lang)
    return qty(value, lang) + (NBSP + "%" if lang == "ru" else "%")


def utc_offset(offset: dt.timedelta) -> str:
    """An offset as people write it: UTC+0, UTC+3, UTC-3:30, UTC+5:45."""
    minutes = int(offset.total_seconds()) // 60
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    hours, rest = divmod(minutes, 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def zone_label(local: dt.datetime, lang: str | None = None) -> str:
    """The name of a local moment's zone: МСК / MSK, else its UTC offset (UTC+5)."""
    name = local.tzname() or ""
    if not name or name[0] in "+-":  # zones without an abbreviation: "+05"
        return utc_offset(local.utcoffset() or dt.timedelta(0))
    return _ZONE_NAMES_RU.get(name, name) if _lang(lang) == "ru" else name


def _zone(zone: str | None) -> str:
    if zone:
        return zone
    try:
        from flask import current_app

        return current_app.config["TIMEZONE"]
    except RuntimeError:
        return "Europe/Moscow"


def moment(
    value: dt.datetime | None,
    zone: str | None = None,
    lang: str | None = None,
    seconds: bool = False,
) -> str:
    """A UTC moment in a zone (the tender's; the platform's by default), named:
    '06.12.2026 14:30 МСК' (ru) / '06.12.2026 14:30 MSK' (en); seconds on request."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(_zone(zone)))
    text = local.strftime("%d.%m.%Y %H:%M:%S" if seconds else "%d.%m.%Y %H:%M")
    return f"{text} {zone_label(local, lang)}"


def date(value: dt.date | dt.datetime | None, zone: str | None = None) -> str:
    """A day: 06.12.2026 (a moment is taken in the zone first)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(ZoneInfo(_zone(zone))).date()
    return value.strftime("%d.%m.%Y")


def region(code: str | None, lang: str | None = None) -> str:
    """A region by its name ('Санкт-Петербург'; English name in English), never the bare code;
    an unknown code is shown as it is."""
    key = (code or "").strip()
    if len(key) == 1 and key.isdigit():
        key = "0" + key
    found = _REGIONS.get(key)
    if found is None:
        return key
    return found[1] if _lang(lang) == "en" else found[0]


# Region names by code, registered by accounts/regions.py (core imports no domain package).
_REGIONS: dict[str, tuple[str, str]] = {}


def register_regions(names: dict[str, tuple[str, str]]) -> None:
    """Make region(code) know these regions: {code: (Russian name, English name)}."""
    _REGIONS.update(names)


_CURRENCY_RU = {"RUB": "₽", "USD": "$", "EUR": "€", "CNY": "¥"}


def currency(code: str | None, lang: str | None = None) -> str:
    """A currency after an amount: '₽' in Russian for RUB, the ISO code in English."""
    code = code or ""
    return _CURRENCY_RU.get(code, code) if _lang(lang) == "ru" else code


FILTERS = {
    "currency": currency,
    "money": money,
    "qty": qty,
    "number": qty,  # scores, weights: exact, no trailing zeros
    "percent": percent,
    "moment": moment,
    "date": date,
    "region": region,
}


def in_template_language(function):
    """A filter that takes the language from the template's `lang` (set once per render by
    core.i18n): a 10,000-position page calls these thousands of times, and asking Flask-Babel
    each time costs several times the formatting itself."""

    @pass_context
    def filter_(context, value, *args, **kwargs):
        if kwargs:
            kwargs.setdefault("lang", context.get("lang"))
            return function(value, *args, **kwargs)
        return function(value, *args, lang=context.get("lang"))

    filter_.__doc__ = function.__doc__
    return filter_


def init_app(app) -> None:
    """Register the formatters as Jinja filters (`{{ value | money }}`, ...)."""
    for name, function in FILTERS.items():
        if name == "date":
            app.add_template_filter(function, name)  # no language
        else:
            app.add_template_filter(in_template_language(function), name)
