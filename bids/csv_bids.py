"""CSV bids for large itemized lots (pure: no Flask, no database).

:func:`template` writes the file a supplier downloads (unit-price or total-price variant,
pre-filled with its current prices); :func:`parse_bid` reads the file it uploads back, as
Excel or LibreOffice in a Russian locale write it, and checks every cell against the tender,
returning the priced lines together with EVERY problem found (line, column, reason). The
caller stores nothing unless the problem list is empty. Reading and writing CSV (encodings,
delimiters, numbers, headers, formula neutralising) is :mod:`positions.csv_rules`.

Decisions (README "CSV bids"):

* Variants are told apart by the header: a unit-price column makes the unit variant (a total
  column next to it, when filled, is only checked: it must equal unit price x quantity); a
  total column alone makes the total variant.
* Total variant: unit price = total / quantity rounded half-up to the currency's decimals;
  the total must then be exactly that unit price x quantity (rounded half-up), otherwise the
  line is "not consistent with the quantity" and the nearest consistent totals are named.
  A total equal to the current revision's total keeps the current unit price (with
  fractional quantities several unit prices can give the same total), so the pre-filled
  template round-trips unchanged.
* A file changes the positions it holds and nothing else (issue 19.7: the advice "upload
  the prices of one lot at a time" must not drop the other lots). A priced row sets the
  position's price; a row with an empty price cell drops the position from the offer (the
  explicit way to stop bidding on it); a position absent from the file keeps its current
  price. The lots a file "covers" are those with at least one row in it; :func:`merge`
  builds the full offer from the file and the current revision. Rows without a position
  number and without a price (headings, totals, comments) are ignored; blank rows never
  count.
* Position numbers are compared as the tender writes them; "03" and "3.01" are read as "3"
  and "3.1". The tender, lot, quantity, name, unit and maximum price columns are optional;
  when the tender, lot or quantity cell is filled it must agree with the tender (a changed
  quantity would make the price mean something else).
* A position unknown to the tender is a problem only when it is priced (a position removed
  by an amendment may stay unpriced in an old template); a duplicated position always is.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from functools import partial
from typing import NamedTuple

from bids.rules import line_total  # the bidding rule's own: unit price x quantity, half-up
from core.collector import collector_paused
from core.messages import N_, Text
from positions.csv_rules import (
    CsvRefused,
    Problem,
    decimal_places,
    decode,
    first_line,
    format_decimal,
    header_label,
    match_header,
    parse_decimal,
    read_records,
    sniff_delimiter,
    unneutralize,
    write_csv,
)
from positions.xlsx_rules import MAX_UNZIPPED_BYTES, is_workbook, open_sheet

__all__ = [
    "COLUMNS",
    "VARIANTS",
    "CsvRefused",
    "CurrentLine",
    "ParsedBid",
    "PricedLine",
    "Problem",
    "SheetPosition",
    "TenderSheet",
    "parse_bid",
    "template",
    "template_columns",
    "template_filename",
    "line_total",
    "merge",
    "unit_price_of_total",
]

VARIANTS = ("unit", "total")
# The data sheet of the .xlsx template (read first when present) and the "encoding" an
# uploaded workbook is recorded with.
SHEET_NAMES = ("Предложение", "Bid")
WORKBOOK_ENCODING = "xlsx"
_EXACT = Context(prec=100)  # exact quotients of NUMERIC(18, x) values before rounding
NOTE_MAX_CHARS = 1000
MISSING_LISTED = 20
# Header names accepted on upload (compared case-insensitively, "ё" = "е", trailing
# punctuation and "*" ignored); the first English and the first Russian one are written.
COLUMNS: dict[str, tuple[str, ...]] = {
    "tender": ("tender", "tender number", "procedure", "закупка", "номер закупки", "процедура"),
    "lot": ("lot", "lot number", "лот", "номер лота", "№ лота"),
    "number": (
        "position",
        "position number",
        "item",
        "no",
        "№",
        "№ позиции",
        "номер позиции",
        "позиция",
        "№ п/п",
    ),
    "name": ("name", "item name", "наименование", "наименование позиции"),
    "unit": ("unit", "unit of measure", "ед. изм", "ед.изм", "ед изм", "единица измерения"),
    "quantity": ("quantity", "qty", "количество", "кол-во"),
    "max_price": (
        "max unit price",
        "maximum unit price",
        "макс. цена за единицу",
        "максимальная цена за единицу",
        "начальная цена за единицу",
        "нмц за единицу",
        "нмц за ед",
    ),
    "unit_price": (
        "unit price",
        "price per unit",
        "price",
        "your unit price",
        "цена за единицу",
        "цена за ед",
        "цена единицы",
        "цена",
        "ваша цена за единицу",
    ),
    "total": (
        "total price",
        "total",
        "amount",
        "price for the quantity",
        "стоимость всего",
        "стоимость",
        "сумма",
        "итого",
        "общая стоимость",
        "цена за все количество",
    ),
    "note": ("note", "comment", "notes", "примечание", "комментарий"),
}
_TITLES = {  # the headers we write: (English, Russian)
    "tender": ("Tender", "Закупка"),
    "lot": ("Lot", "Лот"),
    "number": ("Position", "№ позиции"),
    "name": ("Name", "Наименование"),
    "unit": ("Unit", "Ед. изм."),
    "quantity": ("Quantity", "Количество"),
    "max_price": ("Max unit price", "Макс. цена за единицу"),
    "unit_price": ("Unit price", "Цена за единицу"),
    "total": ("Total price", "Стоимость всего"),
    "note": ("Note", "Примечание"),
}
_READ_FIELDS = frozenset(("tender", "lot", "number", "quantity", "unit_price", "total", "note"))
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)*")
_MAX_NUMBER_LENGTH = 20


# --------------------------------------------------------------------------- the tender


class SheetPosition:
    """A tender position as the CSV shows and checks it; ``unit`` is its display name.

    A plain class with slots (not a frozen dataclass): a tender has up to 50,000 of them
    and building them would cost more than reading the file. ``quantity_text`` is the
    quantity without trailing zeros ("12.5"), ``quantity_comma`` the same with a comma.
    """

    __slots__ = (
        "lot",
        "max_unit_price",
        "name",
        "number",
        "quantity",
        "quantity_comma",
        "quantity_text",
        "unit",
    )

    def __init__(
        self,
        number: str,
        lot: int,
        name: str,
        unit: str,
        quantity: Decimal,
        max_unit_price: Decimal | None = None,
    ) -> None:
        self.number, self.lot, self.name, self.unit = number, lot, name, unit
        self.quantity, self.max_unit_price = quantity, max_unit_price
        text = str(quantity)
        if "E" in text or "e" in text:
            text = format(quantity, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        self.quantity_text, self.quantity_comma = text, text.replace(".", ",")

    def __repr__(self) -> str:
        return f"SheetPosition({self.number!r}, lot {self.lot}, {self.quantity_text} {self.unit})"


@dataclass(frozen=True)
class TenderSheet:
    """What a bid file is checked against: positions in the tender's order, award modes."""

    tender_number: str
    positions: tuple[SheetPosition, ...]
    award_modes: Mapping[int, str]  # lot number -> "per_position" | "whole_lot"
    currency_places: int = 2
    by_number: dict[str, SheetPosition] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_number", {p.number: p for p in self.positions})


@dataclass(frozen=True)
class CurrentLine:
    """A line of the supplier's current revision (for pre-filling and round trips)."""

    unit_price: Decimal
    total: Decimal
    note: str = ""


# --------------------------------------------------------------------------- templates


def template_filename(
    tender_number: str, variant: str, lot: int | None = None, extension: str = "csv"
) -> str:
    """The download's file name, e.g. T-2026-000123-lot-2-unit-prices.csv (or .xlsx)."""
    lot_part = f"-lot-{lot}" if lot is not None else ""
    kind = "unit-prices" if variant == "unit" else "total-prices"
    return f"{tender_number}{lot_part}-{kind}.{extension}"


def template_columns(
    sheet: TenderSheet, variant: str, lot: int | None, language: str
) -> tuple[list[SheetPosition], list[str], list[str]]:
    """The template's positions (of one lot if ``lot`` is given), fields and headers: tender,
    lot, position, name, unit, quantity, maximum unit price (only when some position has
    one), the price to fill (unit price or total price) and a note."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}")
    if language not in ("ru", "en"):
        raise ValueError("language must be 'ru' or 'en'")
    positions = [p for p in sheet.positions if lot is None or p.lot == lot]
    if lot is not None and not positions:
        raise ValueError(f"the tender has no lot {lot}")
    with_max = any(p.max_unit_price is not None for p in positions)
    fields = ["tender", "lot", "number", "name", "unit", "quantity"]
    fields += ["max_price"] if with_max else []
    fields += ["unit_price" if variant == "unit" else "total", "note"]
    title = 1 if language == "ru" else 0
    return positions, fields, [_TITLES[f][title] for f in fields]


def template(
    sheet: TenderSheet,
    variant: str = "unit",
    *,
    lot: int | None = None,
    current: Mapping[str, CurrentLine] | None = None,
    encoding: str = "utf-8-sig",
    delimiter: str = ";",
    language: str = "ru",
) -> bytes:
    """The bid template: one row per position (of one lot if ``lot`` is given).

    Columns: tender, lot, position, name, unit, quantity, maximum unit price (only when
    some position has one), the price to fill (unit price or total price) and a note,
    pre-filled from ``current``. Numbers are written with a decimal comma for ";" and tab
    files (what Russian Excel reads) and a decimal point for "," files; every cell is
    neutralised against formula injection by :func:`~positions.csv_rules.write_csv`.
    """
    positions, fields, header = template_columns(sheet, variant, lot, language)
    with_max = "max_price" in fields
    current = current or {}
    comma = delimiter != ","
    places = sheet.currency_places

    def row(p: SheetPosition) -> list[str]:
        line = current.get(p.number)
        price = None if line is None else line.unit_price if variant == "unit" else line.total
        cells = [sheet.tender_number, str(p.lot), p.number, p.name, p.unit]
        cells.append(p.quantity_comma if comma else p.quantity_text)
        if with_max:
            cells.append(format_decimal(p.max_unit_price, places, comma))
        cells += [format_decimal(price, places, comma), line.note if line else ""]
        return cells

    return write_csv(header, map(row, positions), delimiter=delimiter, encoding=encoding)


# --------------------------------------------------------------------------- parsing


class PricedLine(NamedTuple):
    """A valid priced row: the unit price the revision will hold (and the note)."""

    line: int
    position: str
    unit_price: Decimal
    note: str


# NamedTuple's generated __new__ costs as much as checking the rest of a row; this does not.
_priced_line = partial(tuple.__new__, PricedLine)


@dataclass
class ParsedBid:
    """The result of reading a bid file; store nothing unless ``problems`` is empty."""

    variant: str
    encoding: str
    delimiter: str
    rows: int
    lines: dict[str, PricedLine]
    problems: list[Problem]
    # Positions whose row has an empty price (dropped from the offer if priced now), and
    # the lots with at least one row in the file, in the tender's order.
    cleared: list[str] = field(default_factory=list)
    covered_lots: list[int] = field(default_factory=list)
    sheet_name: str | None = None  # the sheet read, for a workbook

    def total(self, sheet: TenderSheet) -> Decimal:
        """Sum of the line totals (unit price x quantity, rounded per line)."""
        places = sheet.currency_places
        return sum(
            (
                line_total(p.unit_price, sheet.by_number[n].quantity, places)
                for n, p in self.lines.items()
            ),
            Decimal(0),
        )


def unit_price_of_total(total: Decimal, quantity: Decimal, places: int = 2) -> Decimal:
    """The unit price a total stands for: total / quantity rounded half-up to ``places``."""
    step = Decimal(1).scaleb(-places)
    return _EXACT.divide(total, quantity).quantize(step, ROUND_HALF_UP, _EXACT)


def parse_bid(
    data: bytes,
    sheet: TenderSheet,
    *,
    current: Mapping[str, CurrentLine] | None = None,
    max_bytes: int = 32 * 1024 * 1024,
    max_rows: int = 50_000,
    encoding: str | None = None,
    max_unzipped: int = MAX_UNZIPPED_BYTES,
) -> ParsedBid:
    """Read and check a bid file; every problem is collected, none stops the reading.

    The file is a CSV file or an Excel workbook (.xlsx, told by its content): a workbook's
    data sheet (the template's, else the first) is read as the same rows, and each problem
    also names its cell (``cell``); see :mod:`positions.xlsx_rules` for what is refused.

    Raises :class:`CsvRefused` (nothing read) for a file over ``max_bytes`` (before
    decoding), over ``max_rows`` data rows, one that cannot be decoded, and one without a
    header row. Header problems (no position or price column, a column twice) are
    returned alone: the rows cannot be read without the columns.
    """
    if len(data) > max_bytes:
        text = N_(
            "The file is %(size)s MB (%(bytes)s bytes); the limit is %(limit)s MB "
            "(%(limit_bytes)s bytes)."
        )
        size, limit = _megabytes(len(data)), _megabytes(max_bytes)
        raise CsvRefused(Text(text, size=size, bytes=len(data), limit=limit, limit_bytes=max_bytes))
    if is_workbook(data):
        return _parse_workbook(data, sheet, current or {}, max_rows, max_unzipped)
    text, used = decode(data, encoding)
    delimiter = sniff_delimiter(first_line(text))
    records = read_records(text, delimiter)
    return _parse_records(records, sheet, current or {}, max_rows, used, delimiter)[0]


def _parse_records(
    records: Iterator[tuple[int, list[str]]],
    sheet: TenderSheet,
    current: Mapping[str, CurrentLine],
    max_rows: int,
    used: str,
    delimiter: str,
) -> tuple[ParsedBid, int, list[str]]:
    """Check the rows of a CSV file or a workbook's sheet; also the header's row and cells."""
    header_line, header = next(records, (0, []))
    if not header:
        raise CsvRefused(Text(N_("The file is empty: its first row must hold the column headers.")))
    index, problems = match_header(header, COLUMNS, {"number"}, line=header_line)
    if not index.keys() & {"number", "unit_price", "total"}:
        text = N_(
            "Row %(row)s holds no known column headers; the first row must name the "
            "columns, e.g. '№ позиции;Цена за единицу' (download the template)."
        )
        raise CsvRefused(Text(text, row=header_line))
    variant = "unit" if "unit_price" in index else "total"
    if "unit_price" not in index and "total" not in index:
        names = ", ".join(f"'{n}'" for n in COLUMNS["unit_price"][:3] + COLUMNS["total"][:3])
        text = Text(N_("no price column: add one of %(names)s"), names=names)
        problems.append(Problem(header_line, None, text))
    parsed = ParsedBid(variant, used, delimiter, 0, {}, problems)
    if problems:
        return parsed, header_line, header
    reader = _Reader(sheet, index, header, variant, current)
    count = 0
    with collector_paused():
        for count, (line, cells) in enumerate(records, 1):
            if count > max_rows:
                text = N_(
                    "The file has more than %(max)s rows under the header; the limit is "
                    "%(max)s (download the template of one lot at a time)."
                )
                raise CsvRefused(Text(text, max=max_rows))
            reader.read(line, cells)
    parsed.rows = count
    if not count:
        raise CsvRefused(Text(N_("The file has a header row but no positions under it.")))
    reader.finish(header_line)
    parsed.lines, parsed.problems = reader.lines, reader.problems
    parsed.cleared, parsed.covered_lots = reader.cleared(), reader.covered_lots()
    return parsed, header_line, header


def _parse_workbook(
    data: bytes,
    sheet: TenderSheet,
    current: Mapping[str, CurrentLine],
    max_rows: int,
    max_unzipped: int,
) -> ParsedBid:
    """A workbook's data sheet through the CSV checks; every problem names its cell, merged
    cells under the header are problems too (each position needs its own cells)."""
    book = open_sheet(data, preferred=SHEET_NAMES, max_rows=max_rows, max_unzipped=max_unzipped)
    first = next(book.rows, None)
    if first is not None:  # only the columns the checks read are turned into text
        index = match_header(first[1], COLUMNS, set())[0]
        book.columns = sorted(i for f, i in index.items() if f in _READ_FIELDS)
    records = itertools.chain([first] if first else [], book.rows)
    try:
        parsed, header_line, header = _parse_records(
            records, sheet, current, max_rows, WORKBOOK_ENCODING, ""
        )
    except CsvRefused as exc:
        raise CsvRefused(
            Text(N_("Sheet '%(sheet)s': %(reason)s"), sheet=book.name, reason=exc.args[0])
        ) from None
    parsed.sheet_name = book.name
    parsed.problems = book.locate(parsed.problems, header, header_line)
    return parsed


def merge(
    sheet: TenderSheet,
    priced: Mapping[str, tuple[Decimal, str]],
    cleared: set[str] | frozenset[str],
    current: Mapping[str, CurrentLine],
) -> dict[str, tuple[Decimal, str]]:
    """The full offer a file makes, in the tender's position order: the file's priced
    positions, then the current revision's other positions unless the file cleared them
    (an empty price cell). Positions no longer in the tender are not carried over."""
    offer: dict[str, tuple[Decimal, str]] = {}
    for p in sheet.positions:
        number = p.number
        mine = priced.get(number)
        if mine is not None:
            offer[number] = mine
        elif number not in cleared:
            before = current.get(number)
            if before is not None:
                offer[number] = (before.unit_price, before.note)
    return offer


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


class _Reader:
    """Checks one row after another; whole-lot completeness is checked at the end."""

    def __init__(
        self,
        sheet: TenderSheet,
        index: dict[str, int],
        header: list[str],
        variant: str,
        current: Mapping[str, CurrentLine],
    ) -> None:
        self.sheet, self.variant, self.current = sheet, variant, current
        self.places = sheet.currency_places
        self.positions = sheet.by_number
        self.width = max(index.values()) + 1
        get = index.get
        self.i_tender, self.i_lot, self.i_qty = get("tender"), get("lot"), get("quantity")
        self.i_number, self.i_note = index["number"], get("note")
        self.i_unit, self.i_total = get("unit_price"), get("total")
        self.i_price = index["unit_price" if variant == "unit" else "total"]
        self.label = {f: header_label(header[i]) for f, i in index.items()}
        self.price_label = self.label["unit_price" if variant == "unit" else "total"]
        self.lines: dict[str, PricedLine] = {}
        self.problems: list[Problem] = []
        self.first_line: dict[str, int] = {}  # position -> first line it appears on
        self.invalid: dict[str, int] = {}  # position -> line of a price with a problem
        self.lot_text = {p.lot: str(p.lot) for p in sheet.positions}
        self.tender_ok = {"", sheet.tender_number}
        # A price as the template and most users write it, read without the general rules.
        fraction = rf"(?:[.,][0-9]{{1,{self.places}}})?" if self.places else ""
        self.plain_price = re.compile(r"[0-9]{1,15}" + fraction)

    def problem(self, line: int, field: str | None, message: str) -> None:
        self.problems.append(Problem(line, self.label.get(field) if field else None, message))

    def read(self, line: int, cells: list[str]) -> None:
        """Check one row; a priced valid row becomes a line, a priced wrong one a problem.

        The usual row (a known position seen once, of this tender, lot and quantity as
        written in the template) takes the short way; anything else the checking one."""
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        raw_price = cells[self.i_price].strip()
        number = cells[self.i_number].strip()
        position = self.positions.get(number)
        if (
            position is None
            or number in self.first_line
            or (self.i_tender is not None and cells[self.i_tender].strip() not in self.tender_ok)
        ):
            position = self._position(line, cells, raw_price)
            if position is None:
                return
        else:
            self.first_line[number] = line
        if self.i_lot is not None or self.i_qty is not None:
            self._check_context(line, cells, position)
        if raw_price:
            self._price(line, cells, raw_price, position)

    def _check_context(self, line: int, cells: list[str], position: SheetPosition) -> None:
        """The lot and quantity cells, when filled, must agree with the tender."""
        if self.i_lot is not None:
            raw = cells[self.i_lot].strip()
            if raw and raw != self.lot_text[position.lot]:
                self._check_lot(line, raw, position)
        if self.i_qty is not None:
            raw = cells[self.i_qty].strip()
            # The quantity as the template wrote it (the usual case) needs no parsing.
            if raw and raw != position.quantity_text and raw != position.quantity_comma:
                self._check_quantity(line, raw, position)

    def _price(self, line: int, cells: list[str], raw_price: str, position: SheetPosition) -> None:
        if self.variant == "unit":
            plain = self.plain_price.fullmatch(raw_price)
            cap = position.max_unit_price
            unit_price = Decimal(raw_price.replace(",", ".")) if plain else None
            if unit_price is None or not unit_price or (cap is not None and unit_price > cap):
                unit_price = self._unit_price(line, raw_price, position)
            if unit_price is not None and self.i_total is not None:
                self._check_total(line, cells[self.i_total].strip(), unit_price, position)
        else:
            unit_price = self._from_total(line, raw_price, position)
        raw_note = cells[self.i_note] if self.i_note is not None else ""
        note = self._note(line, raw_note) if raw_note else ""
        number = position.number
        if unit_price is not None and note is not None:
            self.lines[number] = _priced_line((line, number, unit_price, note))
        else:
            self.invalid[number] = line  # priced, but wrongly: still counts as bid on

    def _position(self, line: int, cells: list[str], raw_price: str) -> SheetPosition | None:
        """The tender position a row is about, or None (problem noted when it matters)."""
        raw_number = cells[self.i_number].strip()
        if not raw_number:
            if raw_price:
                self.problem(
                    line, "number", Text(N_("the position number is empty but a price is given"))
                )
            return None
        if self.i_tender is not None:
            tender = cells[self.i_tender].strip()
            if tender and tender != self.sheet.tender_number:
                self.problem(
                    line,
                    "tender",
                    Text(
                        N_(
                            "this row is a position of another tender (%(other)s); this file "
                            "must hold positions of %(tender)s only"
                        ),
                        other=tender,
                        tender=self.sheet.tender_number,
                    ),
                )
                return None
        number = raw_number if raw_number in self.positions else _position_number(raw_number)
        first = self.first_line.setdefault(number, line)
        if first != line:
            text = N_("position %(number)s is repeated (first on row %(first)s)")
            self.problem(line, "number", Text(text, number=number, first=first))
            return None
        position = self.positions.get(number)
        if position is None and raw_price:
            text = N_("unknown position %(number)s: the tender has no such position")
            self.problem(line, "number", Text(text, number=raw_number))
        return position

    def _check_lot(self, line: int, raw: str, position: SheetPosition) -> None:
        if _position_number(raw) != str(position.lot):
            self.problem(
                line,
                "lot",
                Text(
                    N_("position %(number)s is in lot %(lot)s, not in lot %(given)s"),
                    number=position.number,
                    lot=position.lot,
                    given=raw,
                ),
            )

    def _check_quantity(self, line: int, raw: str, position: SheetPosition) -> None:
        if not raw:
            return
        try:
            value = parse_decimal(raw)
        except ValueError:
            value = None
        if value != position.quantity:
            self.problem(
                line,
                "quantity",
                Text(
                    N_(
                        "quantity %(given)s differs from the tender's quantity %(quantity)s: "
                        "quantities cannot be changed, the price is for %(quantity)s %(unit)s"
                    ),
                    given=raw,
                    quantity=_show(position.quantity),
                    unit=position.unit,
                ),
            )

    def _amount(self, line: int, field: str, raw: str) -> Decimal | None:
        """A positive amount with at most the currency's decimals, or None (problem noted)."""
        texts = _AMOUNT_TEXTS[field]
        try:
            value = parse_decimal(raw)
        except ValueError:
            self.problem(line, field, Text(texts[0], raw=raw))
            return None
        assert value is not None
        if value <= 0:
            self.problem(line, field, Text(texts[1], raw=raw))
            return None
        if _too_precise(value, self.places):
            self.problem(line, field, Text(texts[2], raw=raw, places=self.places))
            return None
        return value

    def _unit_price(self, line: int, raw: str, position: SheetPosition) -> Decimal | None:
        value = self._amount(line, "unit_price", raw)
        if value is None:
            return None
        cap = position.max_unit_price
        if cap is not None and value > cap:
            self.problem(
                line,
                "unit_price",
                Text(
                    N_("unit price %(price)s is above the maximum unit price %(max)s"),
                    price=_show(value),
                    max=_show(cap),
                ),
            )
            return None
        return value

    def _check_total(self, line: int, raw: str, unit_price: Decimal, p: SheetPosition) -> None:
        if not raw:
            return
        try:
            given = parse_decimal(raw)
        except ValueError:
            self.problem(line, "total", Text(_AMOUNT_TEXTS["total"][0], raw=raw))
            return
        expected = line_total(unit_price, p.quantity, self.places)
        if given != expected:
            self.problem(
                line,
                "total",
                Text(
                    N_(
                        "total %(total)s is not consistent with the quantity: unit price "
                        "%(price)s x quantity %(quantity)s = %(expected)s"
                    ),
                    total=raw,
                    price=_show(unit_price),
                    quantity=_show(p.quantity),
                    expected=_show(expected),
                ),
            )

    def _from_total(self, line: int, raw: str, p: SheetPosition) -> Decimal | None:
        total = self._amount(line, "total", raw)
        if total is None:
            return None
        current = self.current.get(p.number)
        if current is not None and current.total == total:
            unit_price = current.unit_price  # the same total keeps the same unit price
        else:
            unit_price = unit_price_of_total(total, p.quantity, self.places)
        step = Decimal(1).scaleb(-self.places)
        if unit_price < step:
            self.problem(
                line,
                "total",
                Text(
                    N_(
                        "total %(total)s for quantity %(quantity)s gives a unit price "
                        "below %(step)s"
                    ),
                    total=_show(total),
                    quantity=_show(p.quantity),
                    step=_show(step),
                ),
            )
            return None
        back = line_total(unit_price, p.quantity, self.places)
        if back != total:
            lower = line_total(unit_price - step, p.quantity, self.places) if back > total else back
            upper = back if back > total else line_total(unit_price + step, p.quantity, self.places)
            self.problem(
                line,
                "total",
                Text(
                    N_(
                        "total %(total)s is not consistent with the quantity %(quantity)s: "
                        "total / quantity rounds to the unit price %(price)s, whose total is "
                        "%(back)s; the nearest possible totals are %(lower)s and %(upper)s"
                    ),
                    total=_show(total),
                    quantity=_show(p.quantity),
                    price=_show(unit_price),
                    back=_show(back),
                    lower=_show(lower),
                    upper=_show(upper),
                ),
            )
            return None
        cap = p.max_unit_price
        if cap is not None and unit_price > cap:
            self.problem(
                line,
                "total",
                Text(
                    N_(
                        "the unit price %(price)s (total / quantity) is above the maximum "
                        "unit price %(max)s"
                    ),
                    price=_show(unit_price),
                    max=_show(cap),
                ),
            )
            return None
        return unit_price

    def _note(self, line: int, raw: str) -> str | None:
        note = unneutralize(raw.strip())
        if len(note) > NOTE_MAX_CHARS:
            text = N_("the note is longer than %(max)s characters (%(count)s)")
            self.problem(line, "note", Text(text, max=NOTE_MAX_CHARS, count=len(note)))
            return None
        return note

    def cleared(self) -> list[str]:
        """Tender positions with a row whose price cell is empty, in the file's order."""
        known, lines, invalid = self.positions, self.lines, self.invalid
        return [n for n in self.first_line if n in known and n not in lines and n not in invalid]

    def covered_lots(self) -> list[int]:
        """The lots with at least one row of one of their positions in the file."""
        known = self.positions
        return sorted({known[n].lot for n in self.first_line if n in known})

    def finish(self, header_line: int) -> None:
        """Whole-lot completeness, and at least one priced position (or one dropped)."""
        priced_lots: dict[int, int] = {}
        attempted = [(n, p.line) for n, p in self.lines.items()] + list(self.invalid.items())
        for number, line in attempted:
            lot = self.positions[number].lot
            priced_lots[lot] = min(priced_lots.get(lot, line), line)
        for lot, first_priced in sorted(priced_lots.items()):
            if self.sheet.award_modes.get(lot) == "whole_lot":
                self._whole_lot(lot, first_priced)
        cleared = self.cleared()
        if self.current:
            self._whole_lot_partly_cleared(cleared, priced_lots)
        drops = not priced_lots and any(n in self.current for n in cleared)
        if not priced_lots and not drops and not self.problems:
            self.problems.append(
                Problem(
                    header_line,
                    self.price_label,
                    Text(N_("no position is priced: fill in the price of at least one position")),
                )
            )
        self.problems.sort(key=lambda p: p.line)

    def _whole_lot_partly_cleared(self, cleared: list[str], priced_lots: dict[int, int]) -> None:
        """A whole-lot lot the file only clears (no price in it) must not keep some of its
        positions at their current price through their absence from the file."""
        first_cleared: dict[int, int] = {}
        for number in cleared:
            lot = self.positions[number].lot
            if lot not in priced_lots and self.sheet.award_modes.get(lot) == "whole_lot":
                line = self.first_line[number]
                first_cleared[lot] = min(first_cleared.get(lot, line), line)
        if not first_cleared:
            return
        kept_by_lot: dict[int, list[str]] = {}
        for p in self.sheet.positions:  # one pass, however many lots
            number = p.number
            if p.lot in first_cleared and number not in self.first_line and number in self.current:
                kept_by_lot.setdefault(p.lot, []).append(number)
        for lot, line in sorted(first_cleared.items()):
            kept = kept_by_lot.get(lot)
            if kept:
                text = N_(
                    "lot %(lot)s is awarded as a whole: to stop bidding on it, leave the price "
                    "of every position of it empty; not in the file, so kept at your "
                    "current price: %(shown)s"
                )
                message = Text(text, lot=lot, shown=_listed(kept))
                self.problems.append(Problem(line, self.price_label, message))

    def _whole_lot(self, lot: int, first_priced: int) -> None:
        absent: list[str] = []
        for p in self.sheet.positions:
            if p.lot != lot or p.number in self.lines or p.number in self.invalid:
                continue
            if p.number not in self.first_line and p.number in self.current:
                continue  # not in the file: keeps its current price
            line = self.first_line.get(p.number)
            if line is None:
                absent.append(p.number)
            else:
                self.problems.append(
                    Problem(
                        line,
                        self.price_label,
                        Text(
                            N_(
                                "lot %(lot)s is awarded as a whole: price every position of it "
                                "or none (position %(number)s has no price)"
                            ),
                            lot=lot,
                            number=p.number,
                        ),
                    )
                )
        if absent:
            text = N_(
                "lot %(lot)s is awarded as a whole: price every position of it or none; "
                "missing from the file: %(shown)s"
            )
            self.problems.append(
                Problem(first_priced, None, Text(text, lot=lot, shown=_listed(absent)))
            )


# A refused amount: (not a number, not positive, too many decimals) by the column it is in.
_AMOUNT_TEXTS = {
    "unit_price": (
        N_("unit price '%(raw)s' is not a number"),
        N_("unit price must be greater than zero, not '%(raw)s'"),
        N_("unit price '%(raw)s' has more than %(places)s decimal places"),
    ),
    "total": (
        N_("total price '%(raw)s' is not a number"),
        N_("total price must be greater than zero, not '%(raw)s'"),
        N_("total price '%(raw)s' has more than %(places)s decimal places"),
    ),
}


def _listed(numbers: list[str]) -> str:
    """At most MISSING_LISTED position numbers, then 'and N more'."""
    shown = ", ".join(numbers[:MISSING_LISTED])
    rest = len(numbers) - MISSING_LISTED
    return Text(N_("%(shown)s and %(rest)s more"), shown=shown, rest=rest) if rest > 0 else shown


def _too_precise(value: Decimal, places: int) -> bool:
    """More decimals than ``places`` (trailing zeros do not count); cheap for usual values."""
    text = str(value)
    dot = text.find(".")
    if "E" not in text and (dot < 0 or len(text) - dot - 1 <= places):
        return False
    return decimal_places(value) > places


def _position_number(raw: str) -> str:
    """'03.01' -> '3.1' (as the tender writes numbers); anything else is returned as is."""
    if len(raw) > _MAX_NUMBER_LENGTH or not _NUMBER.fullmatch(raw):
        return raw
    try:
        return ".".join(str(int(part)) for part in raw.split("."))
    except (ValueError, InvalidOperation):  # pragma: no cover - the pattern holds digits
        return raw


def _show(value: Decimal) -> str:
    """A number as a Russian-locale user writes it: decimal comma, no exponent."""
    return format(value, "f").replace(".", ",")
