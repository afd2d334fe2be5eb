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
    """The whole file is refused (size, encoding, not a CSV file, no header)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file.

    ``line`` is the row a spreadsheet shows for the record (1-based; a quoted cell spanning
    several physical lines is still one row); ``column`` is the column's header as written
    in the file, or None for the whole row.
    """

    line: int
    column: str | None
    message: str


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
            raise CsvRefused("This is a binary file, not a CSV file; save the table as CSV.")
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
            "This is an Excel workbook (.xlsx); save it as CSV (semicolon-separated) "
            "and upload that file."
        )
    if data.startswith(_XLS_SIGNATURE):
        raise CsvRefused(
            "This is an Excel 97-2003 workbook (.xls); save it as CSV "
            "(semicolon-separated) and upload that file."
        )


def _codec_name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise CsvRefused(f"Unknown encoding '{encoding}'.") from None


def _decode_strictly(data: bytes, codec: str) -> tuple[str, str]:
    if codec == "utf-8" and data.startswith(codecs.BOM_UTF8):
        codec = "utf-8-sig"
    try:
        return data.decode(codec), codec
    except UnicodeDecodeError as error:
        line = _line_of_offset(data, error.start)
        bad = data[error.start : error.start + 1].hex().upper()
        raise CsvRefused(
            f"The file is not valid {codec}: byte 0x{bad} at offset {error.start} "
            f"(line {line}) cannot be decoded. Save it as CSV in UTF-8 or windows-1251."
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
            "The file's encoding could not be recognised; save it as CSV in UTF-8 or windows-1251."
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
        raise CsvRefused("This is a binary file, not a CSV file; save the table as CSV.")
    # Past the sample too: one NUL breaks PostgreSQL, any control character the readers.
    found = _CONTROL.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        raise CsvRefused(
            f"Line {line} holds a control character (U+{ord(found[0]):04X}); only tab, line "
            "feed and carriage return are allowed. Remove it and save the table as CSV again."
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
            f"Line {next_start}: {error}; check for a quote that is never closed."
        ) from None
    if cells:
        raise CsvRefused(
            f'Line {start}: a quoted cell is never closed (a " is missing), '
            "so the rest of the file would be read into it."
        )


# --------------------------------------------------------------------------- numbers

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
                    f"column '{header_label(cell)}' means the same as column '{first}'; "
                    "keep only one of them",
                )
            )
            continue
        index[field] = position
    for field, names in columns.items():
        if field in required and field not in index:
            accepted = ", ".join(f"'{name}'" for name in names)
            problems.append(Problem(line, None, f"required column is missing: one of {accepted}"))
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
                    f"Row {row_number} (the header is row 1), column '{name}': character "
                    f"'{char}' (U+{ord(char):04X}) cannot be written in windows-1251; "
                    "use UTF-8."
                )
    return CsvRefused(f"The text cannot be written in {codec}.")  # pragma: no cover
