"""Reading and writing the CSV files of Russian-locale Excel and LibreOffice."""

import codecs
from decimal import Decimal

import pytest

from positions.csv_rules import (
    CsvRefused,
    Problem,
    decimal_places,
    decode,
    format_decimal,
    match_header,
    neutralize,
    normalize_header,
    parse_decimal,
    read_records,
    sniff_delimiter,
    unneutralize,
    write_csv,
)

RUSSIAN = (
    "№;Наименование;Количество;Ед. изм.\r\n"
    "1;Кабель ВВГнг-LS 3х2,5 «Энергия»;1 000;м\r\n"
    "2;Щит распределительный ЩРН-12, Ёмкость 12 модулей;5;шт\r\n"
)


# --------------------------------------------------------------------------- decode


def test_utf8_without_bom():
    assert decode(RUSSIAN.encode("utf-8")) == (RUSSIAN, "utf-8")


def test_utf8_with_bom_drops_the_bom():
    text, used = decode(codecs.BOM_UTF8 + RUSSIAN.encode("utf-8"))
    assert text == RUSSIAN and used == "utf-8-sig"


def test_plain_ascii_is_utf8():
    assert decode(b"no;name\r\n1;Bolt\r\n") == ("no;name\r\n1;Bolt\r\n", "utf-8")


@pytest.mark.parametrize(
    "text",
    [
        RUSSIAN,
        "Наименование;Кол-во\r\nБолт;5\r\n",
        "name;unit\nБолт M10;шт\n",  # Latin letters next to Cyrillic ones
        "Мощность, кВт;Объём, л\n",
        "ОКПД2;ЕД. ИЗМ.\n",
        "Я",
    ],
)
def test_windows_1251_cyrillic_comes_out_right(text):
    assert decode(text.encode("cp1251")) == (text, "cp1251")


def test_large_windows_1251_file():
    text = "Позиция;Наименование\r\n" + "".join(
        f"{n};Труба стальная электросварная 57х3,5 № {n}\r\n" for n in range(1, 5000)
    )
    assert decode(text.encode("cp1251")) == (text, "cp1251")


@pytest.mark.parametrize("codec", ["koi8_r", "cp866", "mac_cyrillic"])
def test_other_cyrillic_encodings_of_real_text(codec):
    text = "Наименование;Количество;Ед. изм.\nБолт М10х50 оцинкованный;500;шт\n"
    assert decode(text.encode(codec)) == (text, codec)


def test_western_single_byte_text():
    text = "Straße;Menge;Einheit\nSchraube;5;Stück\n"
    assert decode(text.encode("cp1252")) == (text, "cp1252")


def test_utf16_with_bom_from_excel_unicode_text():
    text = "№\tНаименование\r\n1\tБолт\r\n"
    assert decode(text.encode("utf-16")) == (text, "utf-16")


@pytest.mark.parametrize("name", ["windows-1251", "cp1251", "CP1251"])
def test_given_windows_1251(name):
    assert decode(RUSSIAN.encode("cp1251"), name) == (RUSSIAN, "cp1251")


def test_given_utf8_drops_a_bom():
    assert decode(codecs.BOM_UTF8 + b"a;b\r\n", "utf-8") == ("a;b\r\n", "utf-8-sig")


def test_given_encoding_is_strict_and_names_offset_and_line():
    data = b"a;b\r\nc;d\r\n" + "Болт".encode("cp1251")
    with pytest.raises(CsvRefused) as refused:
        decode(data, "utf-8")
    message = str(refused.value)
    assert "byte 0xC1 at offset 10 (line 3)" in message and "utf-8" in message


def test_utf8_file_with_a_broken_byte_is_refused_not_guessed():
    data = "№;Наименование\n1;Болт\n".encode() + "2;Гайка\n".encode("cp1251")
    with pytest.raises(CsvRefused, match=r"not valid utf-8: byte 0xC3 at offset 42 \(line 3\)"):
        decode(data)


def test_windows_1251_bytes_that_happen_to_be_utf8_are_still_windows_1251():
    text = "Вёдра;Рёбра\n"  # "Вё" is C2 B8, a valid UTF-8 sequence
    assert decode(text.encode("cp1251")) == (text, "cp1251")


def test_line_of_a_decoding_error_with_lone_cr_line_ends():
    with pytest.raises(CsvRefused, match=r"offset 8 \(line 3\)"):
        decode(b"a;b\rc;d\r\xff", "utf-8")


def test_unknown_encoding_name_is_refused():
    with pytest.raises(CsvRefused, match="Unknown encoding 'klingon'"):
        decode(b"a;b", "klingon")


def test_xlsx_workbook_is_refused():
    data = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml"
    with pytest.raises(CsvRefused) as refused:
        decode(data)
    assert str(refused.value).startswith("This is an Excel workbook (.xlsx); save it as CSV")
    with pytest.raises(CsvRefused, match=r"\.xlsx"):
        decode(data, "utf-8")


def test_xls_workbook_is_refused():
    with pytest.raises(CsvRefused, match=r"\(\.xls\); save it as CSV"):
        decode(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100))


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"%PDF-1.7\n" + bytes(range(1, 32)) * 10,
        b"a;b\x01\x02\x03\x04",
    ],
)
def test_binary_content_is_refused(data):
    with pytest.raises(CsvRefused, match="binary file"):
        decode(data)


# --------------------------------------------------------------------------- records


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("№;Наименование;Кол-во", ";"),
        ("no,name,qty", ","),
        ("no\tname\tqty", "\t"),
        ('"Цена, руб.";"Кол-во, шт"', ";"),
        ('no,"name; full",qty', ","),
        ('"a""b,c"\tqty\tunit', "\t"),
        ("Наименование", ";"),
        ("a;b,c", ";"),
        ("a\tb,c", "\t"),
    ],
)
def test_sniff_delimiter(line, expected):
    assert sniff_delimiter(line) == expected


@pytest.mark.parametrize("end", ["\r\n", "\n", "\r"])
def test_quoted_fields_and_spreadsheet_rows_with_every_line_end(end):
    """A record is one spreadsheet row however many physical lines its quoted cells span."""
    text = end.join(
        [
            "no;name;note",
            '1;"Болт; М10";"a ""quoted"" word"',
            f'2;"two{end}lines";x',
            f'3;"three{end}{end}lines";"y"',
            "4;last;z",
        ]
    )
    records = list(read_records(text + end, ";"))
    assert records == [
        (1, ["no", "name", "note"]),
        (2, ["1", "Болт; М10", 'a "quoted" word']),
        (3, ["2", f"two{end}lines", "x"]),
        (4, ["3", f"three{end}{end}lines", "y"]),
        (5, ["4", "last", "z"]),
    ]


def test_last_line_without_line_end():
    assert list(read_records("a,b\n1,2", ",")) == [(1, ["a", "b"]), (2, ["1", "2"])]


def test_blank_records_are_skipped_but_rows_still_count():
    text = "a;b\r\n\r\n1;2\r\n;;\r\n  ;\t\r\n3;4\r\n\r\n;;;\r\n\r\n"
    assert list(read_records(text, ";")) == [(1, ["a", "b"]), (3, ["1", "2"]), (6, ["3", "4"])]


def test_cells_are_returned_as_written():
    assert list(read_records(" a ; b\t\n", ";")) == [(1, [" a ", " b\t"])]


def test_empty_text_has_no_records():
    assert list(read_records("", ";")) == []
    assert list(read_records("\r\n\r\n", ";")) == []


def test_tab_delimited_records():
    text = 'no\tname\n1\t"a\tb"\n'
    assert list(read_records(text, "\t")) == [(1, ["no", "name"]), (2, ["1", "a\tb"])]


def test_quote_never_closed_is_refused_with_its_line():
    text = 'no;name\n1;ok\n2;"Болт М10\n3;x\n4;y\n'
    records = read_records(text, ";")
    assert next(records) == (1, ["no", "name"])
    assert next(records) == (2, ["1", "ok"])
    with pytest.raises(CsvRefused, match=r"^Line 3: a quoted cell is never closed"):
        next(records)


def test_quote_inside_an_unquoted_cell_is_kept():
    assert list(read_records('1;Труба 3/4" стальная;2\n', ";")) == [
        (1, ["1", 'Труба 3/4" стальная', "2"])
    ]


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234,50", "1234.50"),
        ("1\u00a0234,50", "1234.50"),
        ("1\u202f234,50", "1234.50"),
        ("1\u2009234,50", "1234.50"),
        ("1'234.50", "1234.50"),
        ("1'234,50", "1234.50"),
        ("1 234.50", "1234.50"),
        ("1 234 567", "1234567"),
        ("1234.5", "1234.5"),
        ("1234,5", "1234.5"),
        ("1,234.50", "1234.50"),
        ("1.234,50", "1234.50"),
        ("1,234,567.25", "1234567.25"),
        ("1.234.567", "1234567"),
        ("1,234", "1.234"),  # a single comma is the decimal separator (Russian locale)
        ("1.234", "1.234"),
        ("-5", "-5"),
        ("+5", "5"),
        ("\u22125", "-5"),
        ("12,", "12"),
        (",5", "0.5"),
        ("  42  ", "42"),
        ("\u00a07,25\u00a0", "7.25"),
        ("007", "7"),
        ("0", "0"),
    ],
)
def test_parse_decimal_accepts(text, expected):
    value = parse_decimal(text)
    assert isinstance(value, Decimal)
    assert value == Decimal(expected)


def test_parse_decimal_keeps_written_places():
    assert str(parse_decimal("1 234,50")) == "1234.50"
    assert str(parse_decimal("0,10")) == "0.10"


@pytest.mark.parametrize("text", ["", "   ", "\u00a0", "\t"])
def test_parse_decimal_empty_is_none(text):
    assert parse_decimal(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "1,2,3",
        "12a",
        "1e5",
        "1E5",
        "∞",
        "NaN",
        "nan",
        "Infinity",
        "-",
        "+",
        ",",
        ".",
        "1.2,3",
        "1 234,567.5",
        "12 34",
        "1 2345",
        "1 234'567",
        "+-5",
        "5-",
        "1_000",
        "0x10",
        "5%",
        "10 руб.",
        "١٢",
        "１２",
        "1,234,56",
    ],
)
def test_parse_decimal_refuses(text):
    with pytest.raises(ValueError, match="^not a number$"):
        parse_decimal(text)


@pytest.mark.parametrize(
    ("value", "places"),
    [
        ("1", 0),
        ("100", 0),
        ("1E+2", 0),
        ("1.5", 1),
        ("1.50", 1),
        ("12.345", 3),
        ("0.001", 3),
        ("0.000", 0),
        ("-0.05", 2),
        ("1234.5600", 2),
    ],
)
def test_decimal_places(value, places):
    assert decimal_places(Decimal(value)) == places


def test_decimal_places_of_nan_is_refused():
    with pytest.raises(ValueError):
        decimal_places(Decimal("NaN"))


@pytest.mark.parametrize(
    ("value", "places", "comma", "expected"),
    [
        (Decimal("1234.5"), 2, True, "1234,50"),
        (Decimal("1234.5"), 2, False, "1234.50"),
        (Decimal("2.345"), 2, True, "2,35"),  # half up
        (Decimal("2.344"), 2, True, "2,34"),
        (Decimal("1234567.891"), 0, True, "1234568"),
        (Decimal("-0.001"), 2, True, "0,00"),
        (Decimal("1E+3"), 2, True, "1000,00"),
        (None, 2, True, ""),
    ],
)
def test_format_decimal(value, places, comma, expected):
    assert format_decimal(value, places, comma) == expected


@pytest.mark.parametrize("value", ["1234567.89", "0.5", "7", "1000000000000.01"])
def test_format_decimal_reads_back(value):
    assert parse_decimal(format_decimal(Decimal(value), 2)) == Decimal(value)
    assert parse_decimal(format_decimal(Decimal(value), 2, decimal_comma=False)) == Decimal(value)


# --------------------------------------------------------------------------- headers

COLUMNS = {
    "number": ("no", "№", "номер позиции"),
    "name": ("name", "наименование"),
    "quantity": ("quantity", "количество", "кол-во"),
    "unit": ("unit", "ед. изм."),
    "note": ("note", "примечание"),
}
REQUIRED = {"number", "name", "quantity", "unit"}


@pytest.mark.parametrize(
    ("cell", "normal"),
    [
        ("\ufeffНаименование", "наименование"),
        ("п»їНаименование", "наименование"),
        ("  Количество*  ", "количество"),
        ("* Количество:", "количество"),
        ("Номер   позиции", "номер позиции"),
        ("Ед. изм.", "ед. изм"),
        ("ЁМКОСТЬ", "емкость"),
        ("No.", "no"),
    ],
)
def test_normalize_header(cell, normal):
    assert normalize_header(cell) == normal


def test_match_header_in_any_order_with_variants_and_extra_columns():
    cells = ["Примечание:", "Extra", "\ufeffКол-во*", "ЕД. ИЗМ.", " Наименование ", "№", ""]
    index, problems = match_header(cells, COLUMNS, REQUIRED)
    assert index == {"note": 0, "quantity": 2, "unit": 3, "name": 4, "number": 5}
    assert problems == []


def test_match_header_english():
    index, problems = match_header(["Name", "QUANTITY", "Unit", "No"], COLUMNS, REQUIRED)
    assert index == {"name": 0, "quantity": 1, "unit": 2, "number": 3}
    assert problems == []


def test_match_header_reports_missing_required_and_duplicates():
    cells = ["Наименование", "Name", "Количество", "Примечание"]
    index, problems = match_header(cells, COLUMNS, REQUIRED)
    assert index == {"name": 0, "quantity": 2, "note": 3}
    assert problems == [
        Problem(
            1,
            "Name",
            "column 'Name' means the same as column 'Наименование'; keep only one of them",
        ),
        Problem(1, None, "required column is missing: one of 'no', '№', 'номер позиции'"),
        Problem(1, None, "required column is missing: one of 'unit', 'ед. изм.'"),
    ]


def test_match_header_optional_column_may_be_missing():
    index, problems = match_header(["no", "name", "qty", "quantity", "unit"], COLUMNS, REQUIRED)
    assert "note" not in index and index["quantity"] == 3 and problems == []


def test_match_header_reports_on_the_given_line():
    _index, problems = match_header(["name"], COLUMNS, {"name", "unit"}, line=3)
    assert [problem.line for problem in problems] == [3]


def test_a_header_accepted_for_two_fields_is_a_programming_error():
    with pytest.raises(ValueError, match="two fields"):
        match_header(["a"], {"x": ("Qty",), "y": ("qty:",)}, set())


# --------------------------------------------------------------------------- writing


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+7 495 123-45-67", "'+7 495 123-45-67"),
        ("-40°C", "'-40°C"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Болт = М10", "Болт = М10"),
        ("1234,50", "1234,50"),
        ("", ""),
        ("'quoted", "'quoted"),
    ],
)
def test_neutralize(cell, written):
    assert neutralize(cell) == written
    assert unneutralize(neutralize(cell)) == cell


def test_unneutralize_keeps_other_apostrophes():
    assert unneutralize("'quoted'") == "'quoted'"
    assert unneutralize("'") == "'"


TABLE_HEADER = ["№", "Наименование", "Цена"]
TABLE_ROWS = [
    ["1", "Болт; М10 «оцинк.»", "1234,50"],
    ["2", 'Кабель "ВВГ", 3х2,5', ""],
    ["3", "две\nстроки", "7"],
    ["4", "=1+2", "-5"],
    ["5", "@cmd", "+1"],
]


def test_write_csv_utf8_with_bom_and_crlf():
    data = write_csv(TABLE_HEADER, TABLE_ROWS)
    assert data.startswith(codecs.BOM_UTF8)
    text = data.decode("utf-8-sig")
    assert text.split("\r\n")[:3] == [
        "№;Наименование;Цена",
        '1;"Болт; М10 «оцинк.»";1234,50',
        '2;"Кабель ""ВВГ"", 3х2,5";',
    ]
    assert '3;"две\nстроки";7\r\n' in text
    assert "4;'=1+2;'-5\r\n5;'@cmd;'+1\r\n" in text
    assert text.endswith("\r\n")


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_write_then_read_gives_the_same_cells(delimiter):
    data = write_csv(TABLE_HEADER, iter(TABLE_ROWS), delimiter=delimiter)
    text, used = decode(data)
    assert used == "utf-8-sig"
    assert sniff_delimiter(text.splitlines()[0]) == delimiter
    records = list(read_records(text, delimiter))
    assert [row for row, _ in records] == [1, 2, 3, 4, 5, 6]  # a spreadsheet's rows
    cells = [[unneutralize(cell) for cell in row] for _, row in records]
    assert cells == [TABLE_HEADER, *TABLE_ROWS]


def test_write_csv_windows_1251():
    data = write_csv(TABLE_HEADER, TABLE_ROWS, encoding="windows-1251")
    assert not data.startswith(codecs.BOM_UTF8)
    assert data.startswith("№;Наименование;Цена\r\n".encode("cp1251"))
    text, used = decode(data)
    assert used == "cp1251"
    cells = [[unneutralize(cell) for cell in row] for _, row in read_records(text, ";")]
    assert cells == [TABLE_HEADER, *TABLE_ROWS]


def test_write_csv_windows_1251_refuses_characters_it_cannot_hold():
    rows = [["1", "Болт", "5"], ["2", "Клапан ✓ DN50", "7"]]
    with pytest.raises(CsvRefused) as refused:
        write_csv(TABLE_HEADER, rows, encoding="cp1251")
    message = str(refused.value)
    assert "Row 3" in message and "'Наименование'" in message and "U+2713" in message


def test_write_csv_refuses_other_encodings_and_delimiters():
    with pytest.raises(ValueError, match="utf-8-sig or windows-1251"):
        write_csv(["a"], [], encoding="koi8-r")
    with pytest.raises(ValueError, match="delimiter"):
        write_csv(["a"], [], delimiter="|")
