"""The customer's import of tender positions: every problem at once, with line and column."""

import codecs
import datetime as dt
from decimal import Decimal

import pytest

from positions.csv_import import COLUMNS, PositionRow, parse_positions
from positions.csv_rules import CsvRefused, Problem, write_csv

UNITS = {"шт": "796", "шт.": "796", "м": "006", "кг": "166", "796": "796", "pcs": "796"}
CATEGORIES = {"27.32.13.154", "25.94.11.110"}


def parse(data: bytes, **options):
    options.setdefault("find_unit", UNITS.get)
    options.setdefault("known_category", CATEGORIES.__contains__)
    return parse_positions(data, **options)


def csv_bytes(lines: list[str], *, end: str = "\r\n", encoding: str = "utf-8-sig") -> bytes:
    return (end.join(lines) + end).encode(encoding)


NUMBER_RULE = "must be digits, optionally with dots for sub-items (5 or 3.1)"
DATE_RULE = "is not a valid date (write it as DD.MM.YYYY)"
FULL_HEADER = (
    "Лот;№;Наименование;Описание;ОКПД2;Количество;Ед. изм.;НМЦ за ед.;Место поставки;Срок поставки"
)


def test_full_russian_file_in_utf8_with_bom():
    data = csv_bytes(
        [
            FULL_HEADER,
            "1;1;Кабель ВВГнг-LS 3х2,5;Медный;27.32.13.154;1 000,5;м;45,50;г. Москва;01.03.2026",
            "2;2;Болт М10;;;100;шт;;;",
        ]
    )
    rows, problems = parse(data)
    assert problems == []
    assert rows == [
        PositionRow(
            line=2,
            lot="1",
            number="1",
            name="Кабель ВВГнг-LS 3х2,5",
            specification="Медный",
            category="27.32.13.154",
            quantity=Decimal("1000.5"),
            unit="006",
            max_unit_price=Decimal("45.50"),
            delivery_place="г. Москва",
            delivery_date=dt.date(2026, 3, 1),
        ),
        PositionRow(
            line=3,
            lot="2",
            number="2",
            name="Болт М10",
            specification="",
            category=None,
            quantity=Decimal("100"),
            unit="796",
            max_unit_price=None,
            delivery_place="",
            delivery_date=None,
        ),
    ]


def test_windows_1251_file_with_russian_headers_and_names():
    data = csv_bytes(
        [
            "Номер позиции;Наименование позиции;Кол-во;Единица измерения",
            "1;Щит распределительный «ЩРН-12», ёмкость 12 модулей;5;шт",
            "2;Электроды ОК-46 d=3 мм;200;кг",
        ],
        encoding="cp1251",
    )
    rows, problems = parse(data)
    assert problems == []
    assert [row.name for row in rows] == [
        "Щит распределительный «ЩРН-12», ёмкость 12 модулей",
        "Электроды ОК-46 d=3 мм",
    ]
    assert [row.unit for row in rows] == ["796", "166"]


def test_given_encoding_is_used():
    data = csv_bytes(["№;Наименование;Кол-во;Ед. изм.", "1;Болт;5;шт"], encoding="cp1251")
    rows, problems = parse(data, encoding="windows-1251")
    assert problems == [] and rows[0].name == "Болт"
    with pytest.raises(CsvRefused, match="not valid utf-8"):
        parse(data, encoding="utf-8")


def test_comma_delimited_english_file_with_decimal_points_and_quoted_commas():
    data = csv_bytes(
        [
            "Position,Name,Specification,Quantity,Unit,Max unit price,Delivery date",
            '1,"Bolt M10, zinc plated","DIN 933, ""8.8""",1500.250,pcs,"1,234.50",2026-03-01',
            "2,Nut,,2,pcs,0.5,15/04/2026",
        ],
        end="\n",
        encoding="utf-8",
    )
    rows, problems = parse(data)
    assert problems == []
    assert rows[0].name == "Bolt M10, zinc plated"
    assert rows[0].specification == 'DIN 933, "8.8"'
    assert rows[0].quantity == Decimal("1500.25")
    assert rows[0].max_unit_price == Decimal("1234.50")
    assert rows[0].delivery_date == dt.date(2026, 3, 1)
    assert rows[1].delivery_date == dt.date(2026, 4, 15)


def test_tab_delimited_file():
    data = csv_bytes(["№\tНаименование\tКол-во\tЕд. изм.", "1\tБолт; М10\t5\tшт"])
    rows, problems = parse(data)
    assert problems == [] and rows[0].name == "Болт; М10"


def test_columns_in_any_order_with_variants_and_extra_columns():
    data = csv_bytes(
        [
            "Примечание;ЕД.ИЗМ:;Кол-во*;Лишняя колонка;  НАИМЕНОВАНИЕ ;Позиция;КАТЕГОРИЯ;"
            "Максимальная цена за единицу;Дата поставки;Место поставки;Лот",
            "что угодно;шт;3;x;Болт;7;25.94.11.110;10;31.12.2026;Склад;2",
        ]
    )
    rows, problems = parse(data)
    assert problems == []
    (row,) = rows
    assert (row.number, row.name, row.quantity, row.unit) == ("7", "Болт", Decimal(3), "796")
    assert (row.lot, row.category, row.max_unit_price) == ("2", "25.94.11.110", Decimal(10))
    assert (row.delivery_date, row.delivery_place) == (dt.date(2026, 12, 31), "Склад")


@pytest.mark.parametrize(
    "header",
    [
        "no;name;qty;unit",
        "position number;name;quantity;unit",
        "№;наименование;количество;окей",
        "номер позиции;наименование позиции;кол-во;ед. изм.",
    ],
)
def test_header_variants(header):
    rows, problems = parse(csv_bytes([header, "1;Болт;5;796"]))
    assert problems == [] and rows[0].unit == "796"


@pytest.mark.parametrize("end", ["\r\n", "\n", "\r"])
def test_spreadsheet_rows_after_multiline_quoted_cells(end):
    """Problems name the row a spreadsheet shows, not the physical line: a description of
    three lines on row 2 leaves the quantity error on row 3 and the unit error on row 4."""
    data = csv_bytes(
        [
            "№;Наименование;Описание;Кол-во;Ед. изм.",
            f'1;Болт;"строка 1{end}строка 2{end}строка 3";5;шт',
            f'2;"Гайка{end}М10";"";x;шт',
            "3;Шайба;;7;ящик",
        ],
        end=end,
    )
    rows, problems = parse(data)
    assert [(row.line, row.number) for row in rows] == [(2, "1")]
    assert rows[0].specification == f"строка 1{end}строка 2{end}строка 3"
    assert problems == [
        Problem(3, "Кол-во", "quantity 'x' is not a number"),
        Problem(4, "Ед. изм.", "unknown unit of measure 'ящик'"),
    ]


def test_name_whitespace_is_collapsed():
    data = csv_bytes(["№;Наименование;Кол-во;Ед. изм.", '1;"  Болт\nМ10   оцинк. ";5;шт'])
    rows, problems = parse(data)
    assert problems == [] and rows[0].name == "Болт М10 оцинк."


@pytest.mark.parametrize(
    ("quantity", "price", "expected_quantity", "expected_price"),
    [
        ("1 234,5", "1 234,50", "1234.5", "1234.50"),
        ("1\u00a0234,5", "1\u00a0234,50", "1234.5", "1234.50"),
        ("1\u202f234,5", "1\u202f234,50", "1234.5", "1234.50"),
        ("1'234.5", "1'234.50", "1234.5", "1234.50"),
        ("1,234.5", "1,234.50", "1234.5", "1234.50"),
        ("1.234,5", "1.234,50", "1234.5", "1234.50"),
        ("1234.5", "1234.5", "1234.5", "1234.5"),
        ("12,", "+12", "12", "12"),
        ("1,234", "0,5", "1.234", "0.5"),
    ],
)
def test_decimal_comma_and_point_with_every_thousands_separator(
    quantity, price, expected_quantity, expected_price
):
    data = csv_bytes(
        ["№;Наименование;Кол-во;Ед. изм.;НМЦ за ед.", f'1;Болт;"{quantity}";шт;{price}']
    )
    rows, problems = parse(data)
    assert problems == []
    assert rows[0].quantity == Decimal(expected_quantity)
    assert rows[0].max_unit_price == Decimal(expected_price)


def test_trailing_empty_lines_and_empty_rows_are_ignored():
    data = csv_bytes(
        ["№;Наименование;Кол-во;Ед. изм.", "1;Болт;5;шт", ";;;", "", "2;Гайка;6;шт", ";;;", "", ""]
    )
    rows, problems = parse(data)
    assert problems == [] and [(row.line, row.number) for row in rows] == [(2, "1"), (5, "2")]


def test_every_problem_is_reported_at_once_with_line_and_column():
    long_name = "Б" * 501
    data = csv_bytes(
        [
            "Лот;№;Наименование;ОКПД2;Кол-во;Ед. изм.;НМЦ за ед.;Срок поставки",
            "1;1;Болт;27.32.13.154;5;шт;10,50;01.03.2026",
            ";;Гайка;;2;шт;;",
            "x;1;;99.99;0;ящик;-3;31.02.2026",
            "1;1.2.;Шайба;;1,2345;м;1,234;2026/03/01",
            f"0;5;{long_name};;abc;;1e5;1.3.2026",
            "1;5;Дубль;;-1;шт;0;",
        ]
    )
    rows, problems = parse(data)
    assert [row.line for row in rows] == [2]
    assert problems == [
        Problem(3, "№", "position number is empty"),
        Problem(4, "Лот", f"lot number 'x' {NUMBER_RULE}"),
        Problem(4, "Наименование", "name is empty"),
        Problem(4, "ОКПД2", "unknown category '99.99'"),
        Problem(4, "Кол-во", "quantity must be greater than zero, not '0'"),
        Problem(4, "Ед. изм.", "unknown unit of measure 'ящик'"),
        Problem(4, "НМЦ за ед.", "maximum unit price must be greater than zero, not '-3'"),
        Problem(4, "Срок поставки", f"delivery date '31.02.2026' {DATE_RULE}"),
        Problem(4, "№", "duplicate position 1 (first on row 2)"),
        Problem(5, "№", f"position number '1.2.' {NUMBER_RULE}"),
        Problem(5, "Кол-во", "quantity '1,2345' has more than 3 decimal places"),
        Problem(5, "НМЦ за ед.", "maximum unit price '1,234' has more than 2 decimal places"),
        Problem(5, "Срок поставки", f"delivery date '2026/03/01' {DATE_RULE}"),
        Problem(6, "Лот", "lot number '0' must not be 0 or have a part 0"),
        Problem(6, "Наименование", "name is longer than 500 characters (501)"),
        Problem(6, "Кол-во", "quantity 'abc' is not a number"),
        Problem(6, "Ед. изм.", "unit of measure is empty"),
        Problem(6, "НМЦ за ед.", "maximum unit price '1e5' is not a number"),
        Problem(7, "Кол-во", "quantity must be greater than zero, not '-1'"),
        Problem(7, "НМЦ за ед.", "maximum unit price must be greater than zero, not '0'"),
        Problem(7, "№", "duplicate position 5 (first on row 6)"),
    ]


def test_missing_columns_are_reported_with_the_row_problems():
    data = csv_bytes(["Наименование;Наименование позиции;Кол-во", "Болт;Болт;abc", "Гайка;;5"])
    rows, problems = parse(data)
    assert rows == []
    assert problems == [
        Problem(
            1,
            "Наименование позиции",
            "column 'Наименование позиции' means the same as column 'Наименование'; "
            "keep only one of them",
        ),
        Problem(
            1,
            None,
            "required column is missing: one of 'position', 'position number', 'no', '№', "
            "'№ п/п', 'номер позиции', 'позиция', '№ позиции'",
        ),
        Problem(
            1,
            None,
            "required column is missing: one of 'unit', 'единица измерения', 'ед. изм.', "
            "'ед.изм', 'окей'",
        ),
        Problem(2, "Кол-во", "quantity 'abc' is not a number"),
    ]


def test_problem_columns_use_the_header_as_written():
    data = csv_bytes(["\ufeff  QTY*:  ;No;Name;Unit", "many;1;Bolt;шт"], encoding="utf-8")
    _rows, problems = parse(data)
    assert problems == [Problem(2, "QTY*:", "quantity 'many' is not a number")]


@pytest.mark.parametrize(
    ("written", "number"),
    [("5", "5"), ("3.1", "3.1"), ("03.01", "3.1"), ("12.3.4", "12.3.4"), ("007", "7")],
)
def test_position_numbers_with_sub_items(written, number):
    rows, problems = parse(csv_bytes(["№;Наименование;Кол-во;Ед. изм.", f"{written};Болт;1;шт"]))
    assert problems == [] and rows[0].number == number and rows[0].lot == "1"


@pytest.mark.parametrize("written", ["0", "3.0", "1.", ".1", "1..2", "a1", "-1", "1,5", "1 2"])
def test_bad_position_numbers(written):
    rows, problems = parse(csv_bytes(["№;Наименование;Кол-во;Ед. изм.", f'"{written}";Болт;1;шт']))
    assert rows == []
    assert [(problem.line, problem.column) for problem in problems] == [(2, "№")]
    assert f"position number '{written}'" in problems[0].message


def test_duplicate_after_normalising():
    data = csv_bytes(["№;Наименование;Кол-во;Ед. изм.", "3.1;Болт;1;шт", "03.01;Гайка;1;шт"])
    rows, problems = parse(data)
    assert [row.number for row in rows] == ["3.1"]
    assert problems == [Problem(3, "№", "duplicate position 3.1 (first on row 2)")]


def test_currency_places_option():
    data = csv_bytes(["№;Наименование;Кол-во;Ед. изм.;НМЦ за ед.", "1;Болт;1;шт;10,5"])
    _rows, problems = parse(data, currency_places=0)
    assert problems == [
        Problem(2, "НМЦ за ед.", "maximum unit price '10,5' has more than 0 decimal places")
    ]
    rows, problems = parse(data, currency_places=2)
    assert problems == [] and rows[0].max_unit_price == Decimal("10.5")


def test_callbacks_are_called_once_per_distinct_value():
    calls: list[str] = []

    def find_unit(text):
        calls.append(text)
        return UNITS.get(text)

    lines = ["№;Наименование;Кол-во;Ед. изм."] + [
        f"{n};Болт;1;{'шт' if n % 2 else 'м'}" for n in range(1, 101)
    ]
    rows, problems = parse(csv_bytes(lines), find_unit=find_unit)
    assert problems == [] and len(rows) == 100
    assert sorted(calls) == ["м", "шт"]


def test_neutralized_export_reads_back_as_written():
    header = ["№", "Наименование", "Кол-во", "Ед. изм."]
    names = ["-40°C кабель", "=HYPERLINK()", "+ болт", "@гайка"]
    data = write_csv(header, [[str(n), name, "1", "шт"] for n, name in enumerate(names, 1)])
    rows, problems = parse(data)
    assert problems == [] and [row.name for row in rows] == names


def test_size_limit_is_checked_before_decoding():
    data = b"PK\x03\x04" + bytes(2000)
    with pytest.raises(CsvRefused, match=r"limit is .*\(1024 bytes\)"):
        parse(data, max_bytes=1024)
    rows, problems = parse(
        csv_bytes(["№;Наименование;Кол-во;Ед. изм.", "1;Болт;1;шт"]), max_bytes=1024
    )
    assert problems == [] and len(rows) == 1


def test_row_limit():
    lines = ["№;Наименование;Кол-во;Ед. изм."] + [f"{n};Болт;1;шт" for n in range(1, 4)]
    rows, problems = parse(csv_bytes(lines + ["", ";;;"]), max_rows=3)
    assert problems == [] and len(rows) == 3
    with pytest.raises(CsvRefused, match="more than 3 position rows"):
        parse(csv_bytes([*lines, "4;Болт;1;шт"]), max_rows=3)


def test_a_damaged_xlsx_is_refused():
    # Workbooks are read since issue 23 (tests/unit/test_xlsx_positions.py); a ZIP that is
    # not one is refused.
    with pytest.raises(CsvRefused, match=r"damaged ZIP archive, not a readable Excel workbook"):
        parse(b"PK\x03\x04\x14\x00\x06\x00" + bytes(200))


@pytest.mark.parametrize("data", [b"", codecs.BOM_UTF8, b"\r\n\r\n", b";;;\r\n"])
def test_empty_file_is_refused(data):
    with pytest.raises(CsvRefused, match="empty"):
        parse(data)


def test_header_without_rows_is_refused():
    with pytest.raises(CsvRefused, match="no positions"):
        parse(csv_bytes(["№;Наименование;Кол-во;Ед. изм.", ";;;"]))


def test_file_without_header_is_refused():
    with pytest.raises(CsvRefused, match="Row 1 holds no known column headers"):
        parse(csv_bytes(["1;Болт;5;шт", "2;Гайка;6;шт"]))


def test_all_accepted_headers_are_distinct():
    seen = [name for names in COLUMNS.values() for name in names]
    assert len(seen) == len(set(seen))


def test_fifty_thousand_rows():
    lines = [FULL_HEADER] + [
        f'{n % 5 + 1};{n};"Кабель ВВГнг-LS 3х2,5 ""тип {n}""";Медный;27.32.13.154;'
        f"{n % 100 + 1} 000,5;м;1 234,50;г. Москва, ул. Ленина, д. 1;01.03.2026"
        for n in range(1, 50_001)
    ]
    rows, problems = parse(csv_bytes(lines, encoding="cp1251"))
    assert problems == []
    assert len(rows) == 50_000
    assert rows[-1].line == 50_001 and rows[-1].number == "50000"
    assert rows[-1].name == 'Кабель ВВГнг-LS 3х2,5 "тип 50000"'
