"""Reading and writing Excel workbooks (.xlsx) as the CSV pipeline's rows (issue 23).

Pure module (python-calamine and XlsxWriter, no Flask, no database), the workbook
counterpart of :mod:`positions.csv_rules`:

* :func:`is_workbook` tells a workbook from a text file by its first bytes (never by name);
* :func:`open_sheet` checks the archive BEFORE anything is unpacked (the .xls/encrypted
  compound file, macros, the decompressed size against a zip bomb), loads one sheet (the
  one named in our template if present, else the first), refuses it over the row limit
  before any row is turned into Python values, and yields its rows as the strings the CSV
  parsers read (numbers written without exponent, dates as dd.mm.yyyy, the cached values of
  formula cells) with the sheet's own row numbers;
* :func:`cell_ref` names a cell as Excel does (``Лист1!F12``, ``'My sheet'!F12``);
* :func:`new_workbook` and :class:`Formats` write workbooks formula-safe: text is always
  written as text, never as a formula, and text starting with ``= + - @`` gets Excel's
  quote prefix so that editing the cell does not turn it into one either.

Why these libraries (docs/bidding.md, "Excel workbooks"): python-calamine (Rust calamine) reads a
50,000-row sheet several times faster than openpyxl and within the memory of the CSV route;
XlsxWriter writes the template with protection, validation and number formats quickly and
streams rows (constant_memory). Both are maintained, MIT/BSD licensed wheels.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import python_calamine
import xlsxwriter

from core.messages import N_, Text
from positions.csv_rules import CsvRefused, Problem, header_label

__all__ = [
    "CONTENT_TYPE",
    "Formats",
    "SharedCells",
    "OpenSheet",
    "WorkbookRefused",
    "cell_ref",
    "cell_text",
    "column_letter",
    "is_workbook",
    "new_workbook",
    "open_sheet",
]

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_SIGNATURE = b"PK\x03\x04"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and every encrypted workbook
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
_CHUNK = 1024 * 1024
_FORMULA_TRIGGERS = ("=", "+", "-", "@")


class WorkbookRefused(CsvRefused):
    """The whole workbook is refused (format, macros, encryption, size, rows)."""


def is_workbook(data: bytes) -> bool:
    """A ZIP archive (.xlsx, .xlsm, .ods...) or a compound file (.xls, encrypted .xlsx)."""
    return data.startswith((ZIP_SIGNATURE, OLE_SIGNATURE))


# --------------------------------------------------------------------------- reading


@dataclass
class OpenSheet:
    """One sheet ready to be read: ``rows`` yields ``(row, cells)`` with the sheet's row
    number (1-based) and the cells from column ``first_column`` (0-based) as text; blank
    rows are skipped. ``dates`` holds the (row, column) of the date cells read so far.
    Setting ``columns`` (indexes) once the first row (the header) is read turns only those
    columns of the following rows into text: the others keep calamine's values."""

    name: str
    first_column: int
    last_row: int
    merged: list[tuple[tuple[int, int], tuple[int, int]]]
    rows: Iterator[tuple[int, list[str]]]
    dates: set[tuple[int, int]] = field(default_factory=set)
    columns: list[int] | None = None

    def ref(self, row: int, column: int | None) -> str:
        """``Sheet!F12`` for a column index of ``rows``' cells, ``Sheet!12:12`` for None."""
        if column is None:
            return cell_ref(self.name, row, None)
        return cell_ref(self.name, row, self.first_column + column)

    def locate(self, problems: list[Problem], header: list[str], header_line: int) -> list:
        """``problems`` (of the rows read) with their cells, a note on date cells, and a
        problem for each merged range under the header; sorted by row."""
        columns: dict[str, int] = {}
        for i, cell in enumerate(header):
            columns.setdefault(header_label(cell), i)
        merged = [
            Problem(
                row,
                None,
                Text(N_("cells %(ref)s are merged: unmerge them (one value a cell)"), ref=ref),
                ref,
            )
            for row, ref in self.merged_refs(header_line + 1)
        ]
        located = []
        for p in problems + merged:
            column = columns.get(p.column) if p.column else None
            message = p.message
            if column is not None and (p.line, column) in self.dates:
                message = Text(
                    N_(
                        "%(problem)s (the cell holds a date: enter the number and format the "
                        "cell as a number)"
                    ),
                    problem=message,
                )
            located.append(Problem(p.line, p.column, message, p.cell or self.ref(p.line, column)))
        located.sort(key=lambda p: p.line)
        return located

    def merged_refs(self, from_row: int) -> list[tuple[int, str]]:
        """(first row, "Sheet!F12:F14") of the merged ranges reaching ``from_row`` or below."""
        found = []
        for (r1, c1), (r2, c2) in self.merged:
            if r2 + 1 >= from_row:
                span = f"{column_letter(c1)}{r1 + 1}:{column_letter(c2)}{r2 + 1}"
                found.append((r1 + 1, f"{_sheet_prefix(self.name)}!{span}"))
        return sorted(found)


def open_sheet(
    data: bytes,
    *,
    preferred: tuple[str, ...] = (),
    max_rows: int = 50_000,
    max_unzipped: int = MAX_UNZIPPED_BYTES,
) -> OpenSheet:
    """Check the workbook and open its data sheet (see the module's docstring).

    ``preferred`` names the sheets our templates write (the first present is read, else
    the first sheet). ``max_rows`` counts the rows under the first one (the header)."""
    _refuse_compound(data)
    _check_archive(data, max_unzipped)
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine's errors are its own classes and plain ones
        raise WorkbookRefused(
            Text(
                N_(
                    "The workbook cannot be read (%(error)s); open it in Excel, save it as "
                    "'Excel Workbook (.xlsx)' and upload it again."
                ),
                error=_short(exc),
            )
        ) from None
    names = book.sheet_names
    if not names:
        raise WorkbookRefused(Text(N_("The workbook has no sheets.")))
    name = next((n for n in preferred if n in names), names[0])
    try:
        sheet = book.get_sheet_by_name(name)
    except Exception as exc:
        raise WorkbookRefused(
            Text(N_("Sheet '%(sheet)s' cannot be read (%(error)s)."), sheet=name, error=_short(exc))
        ) from None
    start, end = sheet.start, sheet.end
    if start is None or end is None:
        raise WorkbookRefused(
            Text(
                N_(
                    "Sheet '%(sheet)s' is empty: its first row must hold the column headers "
                    "(download the template)."
                ),
                sheet=name,
            )
        )
    if end[0] - start[0] > max_rows:
        raise WorkbookRefused(
            Text(
                N_(
                    "Sheet '%(sheet)s' has %(rows)s rows under the first one; the limit is "
                    "%(limit)s (download the template of one lot at a time)."
                ),
                sheet=name,
                rows=end[0] - start[0],
                limit=max_rows,
            )
        )
    opened = OpenSheet(name, start[1], end[0] + 1, sheet.merged_cell_ranges or [], iter(()))
    opened.rows = _rows(sheet, opened)
    return opened


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _refuse_compound(data: bytes) -> None:
    if not data.startswith(OLE_SIGNATURE):
        return
    if "EncryptedPackage".encode("utf-16-le") in data[: 1024 * 1024] or (
        "EncryptionInfo".encode("utf-16-le") in data[: 1024 * 1024]
    ):
        raise WorkbookRefused(
            Text(
                N_(
                    "This workbook is protected with a password (encrypted), so it cannot be "
                    "read. In Excel remove the password (File > Info > Protect Workbook > "
                    "Encrypt with Password, leave it empty), save and upload it again."
                )
            )
        )
    raise WorkbookRefused(
        Text(
            N_(
                "This is an Excel 97-2003 workbook (.xls), which is not accepted. Open it in "
                "Excel and save it as 'Excel Workbook (.xlsx)' or as CSV, then upload that file."
            )
        )
    )


def _check_archive(data: bytes, max_unzipped: int) -> None:
    """Refuse what is not a plain .xlsx before unpacking it: macros, other formats, and an
    archive unpacking to more than ``max_unzipped`` bytes (counted while inflating, so a
    member lying about its size is caught too)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise WorkbookRefused(
            Text(
                N_(
                    "The file is a damaged ZIP archive, not a readable Excel workbook; save it "
                    "again as 'Excel Workbook (.xlsx)'."
                )
            )
        ) from None
    names = {m.filename for m in members}
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise WorkbookRefused(
            Text(
                N_(
                    "This workbook contains macros (.xlsm), which are not accepted. Save it as "
                    "'Excel Workbook (.xlsx)' (without macros) and upload that file."
                )
            )
        )
    if "xl/workbook.xml" not in names:
        raise WorkbookRefused(
            Text(
                N_(
                    "This file is an OpenDocument spreadsheet (.ods); save it as 'Excel "
                    "Workbook (.xlsx)' or as CSV."
                )
            )
            if "content.xml" in names
            else Text(
                N_(
                    "This file is not an Excel workbook; save it as 'Excel Workbook (.xlsx)' "
                    "or as CSV."
                )
            )
        )
    declared = sum(m.file_size for m in members)
    if declared > max_unzipped:
        raise _too_big(declared, max_unzipped)
    _inflate_counting(archive, members, max_unzipped)


def _inflate_counting(archive: zipfile.ZipFile, members: list, max_unzipped: int) -> None:
    unpacked = 0
    try:
        for member in members:
            if not member.filename.startswith("xl/") or not member.filename.endswith(".xml"):
                continue
            with archive.open(member) as stream:
                while chunk := stream.read(_CHUNK):
                    unpacked += len(chunk)
                    if unpacked > max_unzipped:
                        raise _too_big(unpacked, max_unzipped)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        if isinstance(exc, RuntimeError) and "encrypted" not in str(exc):
            raise
        raise WorkbookRefused(
            Text(
                N_(
                    "The workbook's archive is damaged or encrypted; save it again as 'Excel "
                    "Workbook (.xlsx)' without a password."
                )
            )
        ) from None


def _too_big(size: int, limit: int) -> WorkbookRefused:
    return WorkbookRefused(
        Text(
            N_(
                "The workbook unpacks to more than %(mb)s MB (%(size)s bytes or more; the limit "
                "is %(limit)s bytes); upload the prices of one lot at a time."
            ),
            mb=limit // (1024 * 1024),
            size=size,
            limit=limit,
        )
    )


def _rows(sheet, opened: OpenSheet) -> Iterator[tuple[int, list[str]]]:
    # calamine's iter_rows starts at the sheet's first row (A1's row) and at the data's
    # first column: the row numbers are the sheet's, the columns start at sheet.start.
    dates = opened.dates
    texts: dict[float, str] = {}  # lots, quantities and prices repeat: each float once
    columns = None
    for number, values in enumerate(sheet.iter_rows(), 1):
        if not any(values):
            continue
        if columns is None:  # the first row: all of it; then what the caller asked for
            yield number, _converted(values, range(len(values)), number, dates, texts)
            columns = opened.columns if opened.columns is not None else range(len(values))
        else:
            yield number, _converted(values, columns, number, dates, texts)


def _converted(
    values: list, columns, number: int, dates: set[tuple[int, int]], texts: dict[float, str]
) -> list:
    """``values`` with the cells of ``columns`` turned into text (strings, most cells, stay
    as they are; floats take the short way)."""
    for i in columns:
        value = values[i]
        if value.__class__ is not str:
            if value.__class__ is float:
                text = texts.get(value)
                if text is None:
                    text = texts[value] = _float_text(value)
                values[i] = text
            else:
                values[i] = cell_text(value)
                if isinstance(value, dt.date | dt.time | dt.timedelta):
                    dates.add((number, i))
    return values


def _float_text(value: float) -> str:
    text = repr(value)
    if text.endswith(".0"):
        return text[:-2]
    if "e" in text or "n" in text:  # 1e-05, 1e+16; inf and nan are not numbers anyway
        try:
            return format(Decimal(text), "f")
        except ArithmeticError:  # pragma: no cover - Decimal reads inf and nan
            return text
    return text


def cell_text(value: object) -> str:
    """A cell's value as the CSV route reads it: numbers without exponent or ".0", dates
    dd.mm.yyyy, booleans TRUE/FALSE; strings as they are."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, int):
        return str(value)
    return _date_text(value)


def _date_text(value: object) -> str:
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.strftime("%d.%m.%Y")
        return value.strftime("%d.%m.%Y %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- references

_PLAIN_SHEET = re.compile(r"[A-Za-zА-Яа-яЁё_][\wА-Яа-яЁё.]*")


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _sheet_prefix(name: str) -> str:
    if _PLAIN_SHEET.fullmatch(name) and not re.fullmatch(r"[A-Za-z]{1,3}[0-9]+", name):
        return name
    return "'" + name.replace("'", "''") + "'"


def cell_ref(sheet: str, row: int, column: int | None) -> str:
    """``Лист1!F12`` (column 0-based); a whole row ``Лист1!12:12`` when column is None."""
    if column is None:
        return f"{_sheet_prefix(sheet)}!{row}:{row}"
    return f"{_sheet_prefix(sheet)}!{column_letter(column)}{row}"


# --------------------------------------------------------------------------- writing


def new_workbook(output: io.BytesIO, *, constant_memory: bool = False) -> xlsxwriter.Workbook:
    """An XlsxWriter workbook that never turns strings into formulas, numbers or links."""
    return xlsxwriter.Workbook(
        output,
        {
            "constant_memory": constant_memory,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )


def money_format(places: int) -> str:
    return "#,##0" + ("." + "0" * places if places else "")


class Formats:
    """Shared cell formats of one workbook; :meth:`text` writes text formula-safe."""

    def __init__(self, book: xlsxwriter.Workbook, places: int = 2) -> None:
        self.book = book
        self.header = book.add_format({"bold": True, "bg_color": "#E8EEF4", "text_wrap": True})
        self.text_cell = book.add_format({"num_format": "@"})
        self.quoted = book.add_format({"num_format": "@", "quote_prefix": True})
        self.money = book.add_format({"num_format": money_format(places)})
        self.integer = book.add_format({"num_format": "0"})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self._unlocked: dict[str, object] = {}

    def unlocked(self, num_format: str = "General") -> object:
        fmt = self._unlocked.get(num_format)
        if fmt is None:
            fmt = self.book.add_format(
                {"locked": False, "num_format": num_format, "bg_color": "#FFF9E0"}
            )
            self._unlocked[num_format] = fmt
        return fmt

    def text(self, sheet, row: int, column: int, value: str, fmt=None) -> None:
        """Write ``value`` as a text cell; a formula trigger first gets the quote prefix."""
        if value.startswith(_FORMULA_TRIGGERS):
            sheet.write_string(row, column, value, self.quoted)
        else:
            sheet.write_string(row, column, value, fmt or self.text_cell)


def write_number(
    sheet, row: int, column: int, value: Decimal | int | None, fmt, formats: Formats
) -> None:
    """A Decimal as a number cell (exact when it has at most 15 significant digits, as
    every price and quantity has); a longer one as text, so nothing is rounded."""
    if value is None:
        return
    if not isinstance(value, Decimal):
        sheet.write_number(row, column, value, fmt)
    elif len(value.normalize().as_tuple().digits) > 15:
        formats.text(sheet, row, column, format(value, "f"))
    else:
        sheet.write_number(row, column, float(value), fmt)


# --------------------------------------------------------------------------- large sheets
#
# XlsxWriter spends ~10 us a cell; a 50,000-position template has 450,000 of them. Its rows
# are therefore written straight as SpreadsheetML (inline strings, the formats' own style
# indexes) and spliced into the workbook XlsxWriter wrote with everything else (styles,
# protection, validation, panes): the same file, several times faster.

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def style_index(fmt) -> int:
    """The style (xf) index XlsxWriter gives a format; registers it in styles.xml."""
    return fmt._get_xf_index()


def text_xml(ref: str, value: str, style: int, quoted_style: int) -> str:
    """An inline-string cell; a formula trigger first takes the quote-prefix style; an
    empty value gives an empty cell with the style. An empty ``ref`` leaves out the cell's
    reference (optional in SpreadsheetML: the cell follows the one before in its row),
    which makes a large sheet smaller and quicker to read."""
    r = f' r="{ref}"' if ref else ""
    if not value:
        return f'<c{r} s="{style}"/>'
    if value.startswith(_FORMULA_TRIGGERS):
        style = quoted_style
    text = value.translate(_ESCAPES)
    if _ILLEGAL_XML.search(text):
        text = _ILLEGAL_XML.sub("", text)
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c{r} s="{style}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


class SharedCells:
    """Text cells of repeated values as shared strings in the workbook's table (XlsxWriter
    writes it, escaped, at close); formula triggers take the quote-prefix style and empty
    values stay empty cells, as positions.xlsx_rules.text_xml does."""

    def __init__(self, table, style: int, quoted: int) -> None:
        """``table``: the XlsxWriter workbook's ``str_table``; ``style``, ``quoted``: the
        style indexes of text and of quote-prefixed text."""
        self.table, self.style, self.quoted = table, style, quoted
        self.cells: dict[str, str] = {}
        self.uses: dict[str, int] = {}

    def cell(self, value: str) -> str:
        found = self.cells.get(value)
        if found is None:
            if not value:
                found = text_xml("", value, self.style, self.quoted)
            else:
                clean = _ILLEGAL_XML.sub("", value)
                style = self.quoted if clean.startswith(_FORMULA_TRIGGERS) else self.style
                index = self.table._get_shared_string_index(clean)
                found = f'<c s="{style}" t="s"><v>{index}</v></c>'
                self.uses[value] = 0
            self.cells[value] = found
        if value:
            self.uses[value] += 1
        return found

    def count(self) -> None:
        """The table's total of references (its `count`) includes these cells."""
        self.table.count += sum(uses - 1 for uses in self.uses.values())


def number_xml(ref: str, value: Decimal | int | None, style: int, quoted_style: int) -> str:
    """A number cell written exactly as the Decimal reads ("12.125"); a number of more than
    15 significant digits (which Excel would round) as text; None as an empty styled cell.
    An empty ``ref`` leaves out the reference (see :func:`text_xml`)."""
    r = f' r="{ref}"' if ref else ""
    if value is None:
        return f'<c{r} s="{style}"/>'
    if isinstance(value, Decimal):
        text = format(value, "f")
        if len(value.normalize().as_tuple().digits) > 15:
            return text_xml(ref, text, style, quoted_style)
    else:
        text = str(value)
    return f'<c{r} s="{style}"><v>{text}</v></c>'


def splice_rows(workbook: bytes, sheet_number: int, rows: list[str], last_ref: str) -> bytes:
    """Append ``rows`` (``<row>`` elements) to sheet ``sheet_number`` (1-based) of a
    workbook XlsxWriter wrote, and make its dimension end at ``last_ref``."""
    path = f"xl/worksheets/sheet{sheet_number}.xml"
    source = zipfile.ZipFile(io.BytesIO(workbook))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == path:
                xml = data.decode("utf-8")
                head, tail = xml.split("</sheetData>", 1)
                if head.endswith("<sheetData/>"):  # pragma: no cover - we write a header
                    head = head[: -len("<sheetData/>")] + "<sheetData>"
                head = re.sub(
                    r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last_ref}"/>', head
                )
                data = "".join((head, *rows, "</sheetData>", tail)).encode("utf-8")
            target.writestr(info.filename, data)
    return output.getvalue()
