"""Reading and writing the CSV files that Russian-locale Excel and LibreOffice produce.

Pure module (standard library and charset_normalizer only), generic so that any import
(tender positions, bid prices) can build on it:

* :func:`decode` turns uploaded bytes into text (BOM, strict UTF-8, then a Cyrillic-aware
  guess) and refuses workbooks and binary files;
* :func:`sniff_delimiter` and :func:`read_records` split the text into RFC 4180 records
  with the physical line number where each record starts;
* :func:`parse_decimal`, :func:`decimal_places` and :func:`match_header` read cells;
* :func:`neutralize`, :func:`write_csv` and :func:`format_decimal` write files that Excel
  opens with a double click and that read back through the same functions.

Decisions on ambiguous input are documented on each function.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal

import charset_normalizer

from core.messages import N_
from core.numbers import parse_decimal

__all__ = [
    "DELIMITERS",
    "CsvRefused",
    "Problem",
    "decimal_places",
    "decode",
    "format_decimal",
    "header_label",
    "match_header",
    "neutralize",
    "normalize_header",
    "parse_decimal",
    "read_records",
    "sniff_delimiter",
    "unneutralize",
    "write_csv",
]

DELIMITERS = (";", "\t", ",")  # also the tie-break order of sniff_delimiter


class CsvRefused(ValueError):
    """The whole file is refused (size, encoding, not a CSV file, no header). Its message
    is a core.messages.Text (English, with its template and values): str() gives it as it
    is, so the edge that answers it translates it."""

    def __str__(self) -> str:
        first = self.args[0] if self.args else ""
        return first if isinstance(first, str) else super().__str__()


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file.

    ``line`` is the row a spreadsheet shows for the record (1-based; a quoted cell spanning
    several physical lines is still one row); ``column`` is the column's header as written
    in the file, or None for the whole row; ``cell`` is the cell of a workbook as Excel
    names it (``Лист1!F12``, a whole row ``Лист1!12:12``), None for a CSV file.
    """

    line: int
    column: str | None
    message: str
    cell: str | None = None


# --------------------------------------------------------------------------- decoding

_XLSX_SIGNATURE = b"PK\x03\x04"
_XLS_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Single-byte encodings a file from a Russian (or, rarely, Western) desktop can be in.
_GUESS_CANDIDATES = ("cp1251", "koi8_r", "cp866", "mac_cyrillic", "cp1252")
_GUESS_SAMPLE = 64 * 1024
_CHAOS_NOISE = 0.2  # charset_normalizer's chaos differs this much on short texts by chance
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Letters of Russian, Ukrainian, Belarusian and Western European words (not Ђ, Њ, ...).
_WORD_LETTER = re.compile("[а-яёА-ЯЁіїєґўІЇЄҐЎÀ-ÖØ-öø-ÿ]")
_TYPOGRAPHY = re.compile("[№«»–—…°±×\u00a0“”„‘’•]")
_ODDITY = re.compile(
    r"[а-яё][А-ЯЁ]"  # "пОСТАВКА": KOI8-R read as windows-1251
    r"|[a-zA-Z][а-яёА-ЯЁ]|[а-яёА-ЯЁ][a-zA-Z]"  # "Straъe": one word in two scripts
)


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Return ``(text, encoding used)``; the encoding is Python's codec name.

    With ``encoding`` given it is used strictly (a UTF-8 BOM is dropped and "utf-8-sig"
    returned); a decoding error is refused naming the byte offset and line.

    Otherwise: a UTF-8 BOM means "utf-8-sig", a UTF-16 BOM (Excel's "Unicode text")
    "utf-16"; then strict UTF-8 ("utf-8"). A file that is UTF-8 up to a broken byte (it
    already held Cyrillic UTF-8 text before it) is refused naming the byte rather than
    read as mojibake. Else the file is single-byte: "cp1251" when every non-ASCII
    character reads as a Russian letter or typography in windows-1251 and words do not
    mix cases or scripts oddly (the usual case, decided without guessing); otherwise
    charset_normalizer proposes windows-1251, KOI8-R, CP866, Mac Cyrillic or
    windows-1252, and among its near-best matches the one whose text has the most real
    letters wins. Files of one or two words cannot always be told apart; windows-1251
    wins then.

    Excel workbooks (.xlsx, .xls) and binary files (NUL bytes, control characters) are
    refused.
    """
    _refuse_workbook(data)
    if encoding is not None:
        text, used = _decode_strictly(data, _codec_name(encoding))
    elif data.startswith(codecs.BOM_UTF8):
        text, used = _decode_strictly(data, "utf-8-sig")
    elif data.startswith(_UTF16_BOMS):
        text, used = _decode_strictly(data, "utf-16")
    else:
        if b"\x00" in data:
            raise CsvRefused(N_("This is a binary file, not a CSV file; save the table as CSV."))
        try:
            text, used = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as error:
            _refuse_broken_utf8(data, error.start)
            text, used = _decode_strictly(data, _guess_single_byte(data))
    _refuse_binary_text(text)
    return text, used


def _refuse_workbook(data: bytes) -> None:
    if data.startswith(_XLSX_SIGNATURE):
        raise CsvRefused(
            N_(
                "This is an Excel workbook (.xlsx); save it as CSV (semicolon-separated) "
                "and upload that file."
            )
        )
    if data.startswith(_XLS_SIGNATURE):
        raise CsvRefused(
            N_(
                "This is an Excel 97-2003 workbook (.xls); save it as CSV "
                "(semicolon-separated) and upload that file."
            )
        )


def _codec_name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise CsvRefused(N_("Unknown encoding '%(encoding)s'.", encoding=encoding)) from None


def _decode_strictly(data: bytes, codec: str) -> tuple[str, str]:
    if codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
        codec = "utf-8-sig"
    try:
        return data.decode(codec), codec
    except UnicodeDecodeError as error:
        line = _line_of_offset(data, error.start)
        bad = data[error.start : error.start + 1].hex().upper()
        raise CsvRefused(
            N_(
                "The file is not valid %(codec)s: byte 0x%(byte)s at offset %(offset)s "
                "(line %(line)s) cannot be decoded. Save it as CSV in UTF-8 or windows-1251.",
                codec=codec,
                byte=bad,
                offset=error.start,
                line=line,
            )
        ) from None


def _refuse_broken_utf8(data: bytes, offset: int) -> None:
    valid = data[:offset].decode("utf-8", errors="ignore")
    if len(_CYRILLIC.findall(valid, 0, _GUESS_SAMPLE)) >= 2:
        _decode_strictly(data, "utf-8")  # raises, naming the byte and its line


def _line_of_offset(data: bytes, offset: int) -> int:
    head = data[:offset]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


def _guess_single_byte(data: bytes) -> str:
    """windows-1251 when the text reads as Russian in it, else charset_normalizer's pick."""
    sample = data[:_GUESS_SAMPLE]
    if _reads_as_russian(sample):
        return "cp1251"
    matches = charset_normalizer.from_bytes(data, cp_isolation=list(_GUESS_CANDIDATES))
    if not matches:
        raise CsvRefused(
            N_(
                "The file's encoding could not be recognised; save it as CSV in UTF-8 or "
                "windows-1251."
            )
        )
    # On short texts the chaos measure is noisy: among the near-best candidates take
    # the one whose letters look most like real words.
    least = min(match.chaos for match in matches)
    near = [match.encoding for match in matches if match.chaos <= least + _CHAOS_NOISE]
    return max(near, key=lambda name: (_plausibility(sample, name), -near.index(name)))


def _reads_as_russian(sample: bytes) -> bool:
    """All non-ASCII characters are Russian letters or typography, words look normal."""
    try:
        text = sample.decode("cp1251")
    except UnicodeDecodeError:
        return False
    letters = len(_CYRILLIC.findall(text))
    typography = len(_TYPOGRAPHY.findall(text))
    others = len(_NON_ASCII.findall(text)) - letters - typography
    return letters > 0 and others * 50 <= letters and len(_ODDITY.findall(text)) * 50 <= letters


def _plausibility(sample: bytes, codec: str) -> int:
    """Letters count for, symbols and words mixing scripts or cases against."""
    text = sample.decode(codec, errors="replace")
    letters = len(_WORD_LETTER.findall(text))
    typography = len(_TYPOGRAPHY.findall(text))
    symbols = len(_NON_ASCII.findall(text)) - letters - typography
    return letters - 2 * symbols - 3 * len(_ODDITY.findall(text))


def _refuse_binary_text(text: str) -> None:
    sample = text[:_GUESS_SAMPLE]
    controls = len(_CONTROL.findall(sample))
    if "\x00" in sample or controls * 100 > len(sample):
        raise CsvRefused(N_("This is a binary file, not a CSV file; save the table as CSV."))
    # Past the sample too: one NUL breaks PostgreSQL, any control character the readers.
    found = _CONTROL.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        raise CsvRefused(
            N_(
                "Line %(line)s holds a control character (U+%(code)s); only tab, line feed "
                "and carriage return are allowed. Remove it and save the table as CSV again.",
                line=line,
                code=f"{ord(found[0]):04X}",
            )
        )


# --------------------------------------------------------------------------- records

_QUOTED = re.compile(r'"[^"]*"')


_PHYSICAL_LINE = re.compile(r"[^\r\n]+")


def first_line(text: str) -> str:
    """The first non-blank physical line (where the header is)."""
    for match in _PHYSICAL_LINE.finditer(text):
        if match[0].strip():
            return match[0]
    return ""


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a file whose header line is ``header_line``.

    Counts ";", tab and "," outside quoted fields; the most frequent wins, ties go to ";",
    then tab, then ",". A line with none of them (a single column) gives ";".
    """
    bare = _QUOTED.sub("", header_line)
    counts = [bare.count(delimiter) for delimiter in DELIMITERS]
    best = max(counts)
    return DELIMITERS[counts.index(best)] if best else ";"


def read_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(row, cells)`` for each RFC 4180 record of ``text``.

    Quoted fields may hold the delimiter, doubled quotes and line breaks; lines may end
    with CRLF, LF or a lone CR; cells are returned as written (not stripped). The row is the
    one a spreadsheet shows for the record: every record is a row (blank ones too), however
    many physical lines its quoted cells span.

    Blank records (no cells, or only empty/whitespace cells such as ";;;" rows Excel
    leaves below a table) are skipped wherever they are: they carry no data, and the rows
    of the following records still count them. A quote that is never closed (which would
    swallow the rest of the file) is refused with the physical line where its record
    starts, as is a cell longer than the csv module's field limit.
    """
    # The sentinel blank line yields [] when every quote is closed; an open quote
    # absorbs it into the last record instead, which is how the open quote is detected.
    lines = itertools.chain(io.StringIO(text, newline=""), ("\n",))
    reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True)
    pending: tuple[int, list[str]] | None = None
    start = next_start = 1
    cells: list[str] = []
    try:
        for row, cells in enumerate(reader, 1):
            start, next_start = next_start, reader.line_num + 1
            if pending is not None:
                yield pending
            pending = (row, cells) if any(map(str.strip, cells)) else None
    except csv.Error as error:
        raise CsvRefused(
            N_(
                "Line %(line)s: %(error)s; check for a quote that is never closed.",
                line=next_start,
                error=str(error),
            )
        ) from None
    if cells:
        raise CsvRefused(
            N_(
                'Line %(line)s: a quoted cell is never closed (a " is missing), '
                "so the rest of the file would be read into it.",
                line=start,
            )
        )


# --------------------------------------------------------------------------- numbers


def decimal_places(value: Decimal) -> int:
    """Decimal places of ``value`` not counting trailing zeros: "1,50" has 1, "100" 0."""
    if not value.is_finite():
        raise ValueError("not a finite number")
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    if exponent >= 0 or not any(digits):
        return 0
    places, last = -exponent, len(digits) - 1
    while places and digits[last] == 0:
        places, last = places - 1, last - 1
    return places


def format_decimal(value: Decimal | None, places: int, decimal_comma: bool = True) -> str:
    """``value`` rounded half up to ``places`` decimals, "1234,50"; None gives "".

    No thousands separators, so that Excel and :func:`parse_decimal` read it back as
    the same number.
    """
    if value is None:
        return ""
    if places < 0:
        raise ValueError("places must not be negative")
    rounded = value.quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=Context(prec=100)
    )
    if not rounded:
        rounded = abs(rounded)  # never "-0,00"
    text = format(rounded, "f")
    return text.replace(".", ",") if decimal_comma else text


# --------------------------------------------------------------------------- headers

_BOM_REMNANTS = ("\ufeff", "п»ї", "ï»¿")  # a UTF-8 BOM read as UTF-8, cp1251, cp1252
_TRAILING_PUNCTUATION = ":;.,-–—"


def header_label(cell: str) -> str:
    """The header cell as written, without BOM remnants and surrounding spaces."""
    cell = cell.strip()
    for remnant in _BOM_REMNANTS:
        if cell.startswith(remnant):
            cell = cell[len(remnant) :].strip()
    return cell


def normalize_header(cell: str) -> str:
    """The form headers are compared in.

    Case-insensitive, without BOM remnants, "*" (required-column marks), surrounding
    and repeated spaces and trailing punctuation (":" "." ...); "ё" equals "е".
    """
    text = header_label(cell).replace("*", " ").casefold().replace("ё", "е")
    text = " ".join(text.split())
    return text.rstrip(_TRAILING_PUNCTUATION + " ")


def match_header(
    cells: list[str],
    columns: dict[str, tuple[str, ...]],
    required: AbstractSet[str],
    *,
    line: int = 1,
) -> tuple[dict[str, int], list[Problem]]:
    """Map each field of ``columns`` to the index of its column in the header ``cells``.

    ``columns`` gives each field key its accepted header names; headers are compared by
    :func:`normalize_header`. Unknown columns are ignored. Problems (on ``line``): a
    required field with no column (naming the accepted names), and a second column
    meaning a field already matched (the first one is kept).
    """
    lookup = _header_lookup(columns)
    index: dict[str, int] = {}
    problems: list[Problem] = []
    for position, cell in enumerate(cells):
        field = lookup.get(normalize_header(cell))
        if field is None:
            continue
        if field in index:
            first = header_label(cells[index[field]])
            problems.append(
                Problem(
                    line,
                    header_label(cell),
                    N_(
                        "column '%(column)s' means the same as column '%(first)s'; "
                        "keep only one of them",
                        column=header_label(cell),
                        first=first,
                    ),
                )
            )
            continue
        index[field] = position
    for field, names in columns.items():
        if field in required and field not in index:
            accepted = ", ".join(f"'{name}'" for name in names)
            problems.append(
                Problem(
                    line, None, N_("required column is missing: one of %(names)s", names=accepted)
                )
            )
    return index, problems


def _header_lookup(columns: dict[str, tuple[str, ...]]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for field, names in columns.items():
        for name in names:
            key = normalize_header(name)
            if lookup.setdefault(key, field) != field:
                raise ValueError(f"header '{name}' is accepted for two fields")
    return lookup


# --------------------------------------------------------------------------- writing

_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_OUTPUT_CODECS = {"utf-8-sig": "utf-8-sig", "cp1251": "cp1251"}


def neutralize(cell: str) -> str:
    """Guard a cell we write against formula injection (CSV injection).

    A cell starting with "=", "+", "-", "@", tab or CR gets a leading "'" so that Excel
    and LibreOffice show it as text instead of evaluating it. This would also turn a
    negative number into text; we never write negative numbers (prices and quantities
    are positive), so no exception is made for them.
    """
    return "'" + cell if cell.startswith(_FORMULA_TRIGGERS) else cell


def unneutralize(cell: str) -> str:
    """Undo :func:`neutralize` on a cell read back: drop a "'" put before a trigger."""
    if cell.startswith("'") and cell[1:2] in _FORMULA_TRIGGERS and len(cell) > 1:
        return cell[1:]
    return cell


def write_csv(
    header: list[str],
    rows: Iterable[list[str]],
    *,
    delimiter: str = ";",
    encoding: str = "utf-8-sig",
) -> bytes:
    """A CSV file Excel opens with a double click.

    RFC 4180 quoting (only where needed), CRLF line ends, every cell (header too)
    passed through :func:`neutralize`. ``encoding`` is "utf-8-sig" (UTF-8 with BOM, which
    Excel needs to recognise UTF-8) or "windows-1251"/"cp1251"; a character windows-1251
    cannot hold is refused naming its row and column.
    """
    codec = _OUTPUT_CODECS.get(_codec_name(encoding))
    if codec is None:
        raise ValueError(f"cannot write CSV in '{encoding}'; use utf-8-sig or windows-1251")
    if delimiter not in DELIMITERS:
        raise ValueError(f"delimiter must be one of {DELIMITERS!r}")
    table = [[neutralize(cell) for cell in row] for row in itertools.chain([header], rows)]
    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n"
    )
    writer.writerows(table)
    try:
        return buffer.getvalue().encode(codec)
    except UnicodeEncodeError:
        raise _unencodable(table, header, codec) from None


def _unencodable(table: list[list[str]], header: list[str], codec: str) -> CsvRefused:
    for row_number, row in enumerate(table, 1):
        for column, cell in enumerate(row):
            try:
                cell.encode(codec)
            except UnicodeEncodeError as error:
                char = cell[error.start]
                name = header[column] if column < len(header) else f"#{column + 1}"
                return CsvRefused(
                    N_(
                        "Row %(row)s (the header is row 1), column '%(column)s': character "
                        "'%(char)s' (U+%(code)s) cannot be written in windows-1251; use UTF-8.",
                        row=row_number,
                        column=name,
                        char=char,
                        code=f"{ord(char):04X}",
                    )
                )
    return CsvRefused(
        N_("The text cannot be written in %(codec)s.", codec=codec)
    )  # pragma: no cover
