"""The customer's import of tender positions from a CSV file (pure: no Flask, no database).

:func:`parse_positions` reads the file with :mod:`positions.csv_rules`, checks every cell
and returns the rows together with EVERY problem found (it never stops at the first).
Callers store nothing when the problem list is not empty.

Decisions:

* Position and lot numbers are digits, optionally with dots for sub-items ("5", "3.1");
  leading zeros are dropped ("03.01" is "3.1") and no part may be 0. An empty lot cell,
  or no lot column, means lot "1".
* Position numbers are unique in the whole file (not only within a lot).
* Blank rows (";;;;" included) are skipped and not counted against ``max_rows``.
* Cells of text columns are stripped; a "'" our own export put before "=", "+", "-", "@"
  is dropped again (see :func:`~positions.csv_rules.unneutralize`); whitespace runs in
  the name (line breaks from Alt+Enter included) become one space.
* ``rows`` holds only the rows without problems of their own; if ``problems`` is empty,
  ``rows`` is not empty (a file with a header but no rows is refused).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from core.messages import N_, Text
from positions.csv_rules import (
    CsvRefused,
    Problem,
    decimal_places,
    decode,
    first_line,
    header_label,
    match_header,
    parse_decimal,
    read_records,
    sniff_delimiter,
    unneutralize,
)
from positions.xlsx_rules import MAX_UNZIPPED_BYTES, is_workbook, open_sheet

__all__ = [
    "COLUMNS",
    "MAX_NAME_LENGTH",
    "QUANTITY_PLACES",
    "REQUIRED",
    "PositionRow",
    "parse_positions",
]

COLUMNS: dict[str, tuple[str, ...]] = {
    "lot": ("lot", "lot number", "лот", "номер лота", "№ лота"),
    "number": (
        "position",
        "position number",
        "no",
        "№",
        "№ п/п",
        "номер позиции",
        "позиция",
        "№ позиции",
    ),
    "name": ("name", "наименование", "наименование позиции"),
    "specification": ("specification", "description", "спецификация", "описание", "характеристики"),
    "category": ("category", "okpd2", "окпд2", "категория", "код окпд2"),
    "quantity": ("quantity", "qty", "количество", "кол-во"),
    "unit": ("unit", "единица измерения", "ед. изм.", "ед.изм", "окей"),
    "max_price": (
        "max unit price",
        "maximum unit price",
        "начальная цена за единицу",
        "максимальная цена за единицу",
        "нмц за ед.",
    ),
    "delivery_place": ("delivery place", "место поставки"),
    "delivery_date": ("delivery date", "срок поставки", "дата поставки"),
}
REQUIRED = frozenset({"number", "name", "quantity", "unit"})
SHEET_NAMES = ("Позиции", "Positions")  # the data sheet of the .xlsx template
MAX_NAME_LENGTH = 500
QUANTITY_PLACES = 3
MAX_NUMBER_LENGTH = 20

_FIELD_NAMES = {
    "lot": N_("lot number"),
    "number": N_("position number"),
    "name": N_("name"),
    "specification": N_("specification"),
    "category": N_("category"),
    "quantity": N_("quantity"),
    "unit": N_("unit of measure"),
    "max_price": N_("maximum unit price"),
    "delivery_place": N_("delivery place"),
    "delivery_date": N_("delivery date"),
}
_T = TypeVar("_T")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)*")
_DATE_FORMATS = (
    (re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})"), (3, 2, 1)),
    (re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"), (1, 2, 3)),
    (re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})"), (3, 2, 1)),
)


@dataclass(frozen=True)
class PositionRow:
    """One valid position of the file; ``unit`` is the OKEI code ``find_unit`` returned."""

    line: int
    lot: str
    number: str
    name: str
    specification: str
    category: str | None
    quantity: Decimal
    unit: str
    max_unit_price: Decimal | None
    delivery_place: str
    delivery_date: dt.date | None


class _Invalid(ValueError):
    """A cell's value is wrong; the message names the problem."""


def parse_positions(
    data: bytes,
    *,
    find_unit: Callable[[str], str | None],
    known_category: Callable[[str], bool],
    currency_places: int = 2,
    max_rows: int = 50_000,
    max_bytes: int = 20 * 1024 * 1024,
    encoding: str | None = None,
    max_unzipped: int = MAX_UNZIPPED_BYTES,
) -> tuple[list[PositionRow], list[Problem]]:
    """Read a positions file; return (valid rows, every problem found).

    ``find_unit`` maps a unit as written ("шт", "796") to its OKEI code or None;
    ``known_category`` tells whether a category (OKPD2 code) exists. Both are called
    once per distinct value. Raises :class:`CsvRefused` for a file larger than
    ``max_bytes`` (before decoding), one that cannot be decoded, one without a header
    row or without rows, and one with more than ``max_rows`` rows.
    """
    if len(data) > max_bytes:
        raise CsvRefused(
            N_(
                "The file is %(size)s MB (%(bytes)s bytes); the limit is %(limit)s MB "
                "(%(limit_bytes)s bytes).",
                size=_megabytes(len(data)),
                bytes=len(data),
                limit=_megabytes(max_bytes),
                limit_bytes=max_bytes,
            )
        )
    book = None
    if is_workbook(data):
        book = open_sheet(data, preferred=SHEET_NAMES, max_rows=max_rows, max_unzipped=max_unzipped)
        records: Iterator[tuple[int, list[str]]] = book.rows
    else:
        text, _encoding = decode(data, encoding)
        records = read_records(text, sniff_delimiter(first_line(text)))
    try:
        rows, problems, header_line, header = _read(
            records, find_unit, known_category, currency_places, max_rows
        )
    except CsvRefused as exc:
        if book is None:
            raise
        raise CsvRefused(
            Text(N_("Sheet '%(sheet)s': %(reason)s"), sheet=book.name, reason=exc.args[0])
        ) from None
    if book is not None:
        problems = book.locate(problems, header, header_line)
    return rows, problems


def _read(
    records: Iterator[tuple[int, list[str]]],
    find_unit: Callable[[str], str | None],
    known_category: Callable[[str], bool],
    currency_places: int,
    max_rows: int,
) -> tuple[list[PositionRow], list[Problem], int, list[str]]:
    header_line, header = next(records, (0, []))
    if not header:
        raise CsvRefused(N_("The file is empty: its first row must hold the column headers."))
    index, problems = match_header(header, COLUMNS, REQUIRED, line=header_line)
    if not index:
        raise CsvRefused(
            N_(
                "Row %(row)s holds no known column headers; the first row must name "
                "the columns, e.g. '№;Наименование;Количество;Ед. изм.'.",
                row=header_line,
            )
        )
    reader = _RowReader(index, header, find_unit, known_category, currency_places)
    rows: list[PositionRow] = []
    count = 0
    for line, cells in records:
        count += 1
        if count > max_rows:
            raise CsvRefused(
                N_(
                    "The file has more than %(max)s position rows; split it into files "
                    "of at most %(max)s rows.",
                    max=max_rows,
                )
            )
        row = reader.read(line, cells, problems)
        if row is not None:
            rows.append(row)
    if not count:
        raise CsvRefused(N_("The file has a header row but no positions under it."))
    return rows, problems, header_line, header


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


class _RowReader:
    """Checks the cells of one row after another; remembers numbers for duplicates."""

    def __init__(
        self,
        index: dict[str, int],
        header: list[str],
        find_unit: Callable[[str], str | None],
        known_category: Callable[[str], bool],
        currency_places: int,
    ) -> None:
        parsers: dict[str, Callable[[str], Any]] = {
            "lot": partial(_item_number, what=_FIELD_NAMES["lot"]),
            "number": partial(_item_number, what=_FIELD_NAMES["number"]),
            "name": _name,
            "specification": unneutralize,
            "category": self._category,
            "quantity": _quantity,
            "unit": self._unit,
            "max_price": self._max_price,
            "delivery_place": unneutralize,
            "delivery_date": _date,
        }
        self.columns = [
            (field, position, header_label(header[position]), parsers[field], field in REQUIRED)
            for field, position in index.items()
        ]
        self.width = max(index.values()) + 1
        self.complete = REQUIRED.issubset(index)
        self.currency_places = currency_places
        self.units = _Memo(find_unit)
        self.categories = _Memo(known_category)
        self.first_line: dict[str, int] = {}

    def read(self, line: int, cells: list[str], problems: list[Problem]) -> PositionRow | None:
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        before = len(problems)
        values: dict[str, Any] = {}
        for field, position, label, parse, required in self.columns:
            raw = cells[position].strip()
            if not raw:
                if required:
                    problems.append(
                        Problem(line, label, N_("%(what)s is empty", what=_FIELD_NAMES[field]))
                    )
                continue
            try:
                values[field] = parse(raw)
            except _Invalid as error:
                problems.append(Problem(line, label, error.args[0]))  # a Text
        self._check_unique(line, values, problems)
        if len(problems) > before or not self.complete:
            return None
        return _position(line, values)

    def _check_unique(self, line: int, values: dict[str, Any], problems: list[Problem]) -> None:
        number = values.get("number")
        if not isinstance(number, str):
            return
        first = self.first_line.setdefault(number, line)
        if first != line:
            label = next(column[2] for column in self.columns if column[0] == "number")
            problems.append(
                Problem(
                    line,
                    label,
                    N_(
                        "duplicate position %(number)s (first on row %(first)s)",
                        number=number,
                        first=first,
                    ),
                )
            )
            del values["number"]

    def _unit(self, raw: str) -> str:
        code = self.units[raw]
        if code is None:
            raise _Invalid(N_("unknown unit of measure '%(value)s'", value=raw))
        return code

    def _category(self, raw: str) -> str:
        if not self.categories[raw]:
            raise _Invalid(N_("unknown category '%(value)s'", value=raw))
        return raw

    def _max_price(self, raw: str) -> Decimal:
        return _amount(raw, _FIELD_NAMES["max_price"], self.currency_places)


class _Memo(dict[str, _T]):
    """Calls ``function`` once per distinct value."""

    def __init__(self, function: Callable[[str], _T]) -> None:
        super().__init__()
        self.function = function

    def __missing__(self, value: str) -> _T:
        result = self[value] = self.function(value)
        return result


def _position(line: int, values: dict[str, Any]) -> PositionRow:
    get = values.get
    return PositionRow(
        line=line,
        lot=get("lot", "1"),
        number=values["number"],
        name=values["name"],
        specification=get("specification", ""),
        category=get("category"),
        quantity=values["quantity"],
        unit=values["unit"],
        max_unit_price=get("max_price"),
        delivery_place=get("delivery_place", ""),
        delivery_date=get("delivery_date"),
    )


def _item_number(raw: str, *, what: Text) -> str:
    """ "03.1" -> "3.1"; digits with dots for sub-items, no part 0."""
    if raw.isdigit() and raw.isascii() and raw[0] != "0" and len(raw) <= MAX_NUMBER_LENGTH:
        return raw
    if len(raw) > MAX_NUMBER_LENGTH or not _NUMBER.fullmatch(raw):
        raise _Invalid(
            N_(
                "%(what)s '%(value)s' must be digits, optionally with dots for sub-items "
                "(5 or 3.1)",
                what=what,
                value=raw,
            )
        )
    parts = [int(part) for part in raw.split(".")]
    if not all(parts):
        raise _Invalid(
            N_("%(what)s '%(value)s' must not be 0 or have a part 0", what=what, value=raw)
        )
    return ".".join(map(str, parts))


def _name(raw: str) -> str:
    name = " ".join(unneutralize(raw).split())
    if len(name) > MAX_NAME_LENGTH:
        raise _Invalid(
            N_(
                "name is longer than %(max)s characters (%(length)s)",
                max=MAX_NAME_LENGTH,
                length=len(name),
            )
        )
    return name


def _quantity(raw: str) -> Decimal:
    return _amount(raw, _FIELD_NAMES["quantity"], QUANTITY_PLACES)


def _amount(raw: str, what: Text, places: int) -> Decimal:
    try:
        value = parse_decimal(raw)
    except ValueError:
        raise _Invalid(N_("%(what)s '%(value)s' is not a number", what=what, value=raw)) from None
    assert value is not None  # the cell is not empty
    if value <= 0:
        raise _Invalid(
            N_("%(what)s must be greater than zero, not '%(value)s'", what=what, value=raw)
        )
    if decimal_places(value) > places:
        raise _Invalid(
            N_(
                "%(what)s '%(value)s' has more than %(places)s decimal places",
                what=what,
                value=raw,
                places=places,
            )
        )
    return value


def _date(raw: str) -> dt.date:
    for pattern, (year, month, day) in _DATE_FORMATS:
        match = pattern.fullmatch(raw)
        if match:
            try:
                return dt.date(int(match[year]), int(match[month]), int(match[day]))
            except ValueError:
                break
    raise _Invalid(
        N_("delivery date '%(value)s' is not a valid date (write it as DD.MM.YYYY)", value=raw)
    )
