"""The one reader of money and quantity text: every form field, JSON string and CSV cell
that holds a price, a quantity, a weight or a score goes through :func:`parse_decimal`.

Pure (standard library only). Users type "68 500,00" (a space or a no-break space between
thousands, a decimal comma) as often as "68500.00"; both are the same number here.
"""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = ["parse_decimal"]

_SPACE_GROUPS = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2019": "'"})
_GROUP_MARKS = frozenset(" '")
_SIGNS = {"+": "", "-": "-", "\u2212": "-"}
# The usual shapes, read without the general rules below: "1234", "1 234,5", "-5", "12,".
# The most frequent shape of all, read at once: "1234,50" or "1234.50".
_PLAIN_DECIMAL = re.compile(r"[0-9]+[.,][0-9]+")
_SIMPLE_NUMBER = re.compile(
    r"(?P<sign>[-+\u2212]?)"
    r"(?P<whole>[0-9]{1,3}(?P<mark>[ '])[0-9]{3}(?:(?P=mark)[0-9]{3})*|[0-9]*)"
    r"(?:[.,](?P<fraction>[0-9]*))?"
)


def parse_decimal(text: str) -> Decimal | None:
    """Read a number as Russian- or English-locale spreadsheets write it; never a float.

    "" or whitespace gives None. Accepted: an optional sign (+, -, U+2212 minus), digits
    grouped by thousands with a space, no-break space (U+00A0, U+202F, U+2009), an
    apostrophe, or with whichever of "," and "." is not the decimal separator, and an
    optional decimal part: "1 234,50", "1'234.50", "1,234.50", "1.234,50", "12,", ",5".

    Decisions: when both "," and "." occur the last one is the decimal separator; a
    separator that occurs once alone is the decimal separator, so "1,234" is 1.234
    (Russian locale) and so is "1.234"; one occurring several times is a thousands
    separator ("1.234.567"), and groups must then have three digits. Anything else
    ("1,2,3", "12a", "1e5", "∞", "NaN", "5%", "10 руб.") raises ValueError("not a number").
    """
    s = text.strip()
    if s.isdigit() and s.isascii():
        return Decimal(s)
    if _PLAIN_DECIMAL.fullmatch(s):
        return Decimal(s.replace(",", "."))
    if not s:
        return None
    if not s.isascii():
        s = s.translate(_SPACE_GROUPS)
    simple = _SIMPLE_NUMBER.fullmatch(s)
    if simple and (simple["whole"] or simple["fraction"]):
        whole, fraction = simple["whole"], simple["fraction"] or ""
        if simple["mark"]:
            whole = whole.replace(simple["mark"], "")
        return _decimal(_SIGNS.get(simple["sign"], ""), whole, fraction)
    sign = _SIGNS.get(s[0])
    if sign is not None:
        s = s[1:]
    whole, fraction, group_mark = _split_decimal(s)
    digits = _ungroup(whole, group_mark)
    if not (digits or fraction) or not _is_digits(fraction, allow_empty=True):
        raise ValueError("not a number")
    return _decimal(sign or "", digits, fraction)


def _decimal(sign: str, whole: str, fraction: str) -> Decimal:
    return Decimal(f"{sign}{whole or '0'}.{fraction}" if fraction else f"{sign}{whole}")


def _split_decimal(s: str) -> tuple[str, str, str | None]:
    """Split into (integer part, decimal part, punctuation allowed as group mark)."""
    comma, point = s.rfind(","), s.rfind(".")
    if comma >= 0 and point >= 0:
        at = max(comma, point)
        return s[:at], s[at + 1 :], "." if at == comma else ","
    at = max(comma, point)
    if at < 0:
        return s, "", None
    if s.count(s[at]) == 1:
        return s[:at], s[at + 1 :], None
    return s, "", s[at]


def _ungroup(whole: str, punctuation: str | None) -> str:
    if _is_digits(whole, allow_empty=True):
        return whole
    marks = {char for char in whole if not ("0" <= char <= "9")}
    if len(marks) != 1:
        raise ValueError("not a number")
    mark = marks.pop()
    if mark not in _GROUP_MARKS and mark != punctuation:
        raise ValueError("not a number")
    head, *groups = whole.split(mark)
    if not (1 <= len(head) <= 3) or any(len(group) != 3 for group in groups):
        raise ValueError("not a number")
    digits = head + "".join(groups)
    if not _is_digits(digits, allow_empty=False):
        raise ValueError("not a number")
    return digits


def _is_digits(s: str, *, allow_empty: bool) -> bool:
    return (s.isascii() and s.isdigit()) or (allow_empty and not s)
