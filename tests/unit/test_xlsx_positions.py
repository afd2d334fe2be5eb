"""Positions import from Excel workbooks (issue 23): the .xlsx template filled by openpyxl,
every problem with its cell, refusals."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from positions.csv_rules import CsvRefused
from positions.xlsx_template import template
from tests.unit.test_csv_import import parse


def filled(rows: list[list], language: str = "ru") -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(template(language)))
    sheet = book.worksheets[0]
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_template_layout():
    book = openpyxl.load_workbook(io.BytesIO(template()))
    assert book.sheetnames == ["Позиции", "Инструкция"]
    sheet = book["Позиции"]
    assert [c.value for c in sheet[1]] == [
        "Лот",
        "№ позиции",
        "Наименование",
        "Спецификация",
        "Код ОКПД2",
        "Количество",
        "Ед. изм.",
        "Начальная цена за единицу",
        "Место поставки",
        "Срок поставки",
    ]
    assert sheet.freeze_panes == "A2"
    assert {str(v.sqref): (v.type, v.operator) for v in sheet.data_validations.dataValidation} == {
        "F2:F50001": ("decimal", "greaterThan"),
        "H2:H50001": ("decimal", "greaterThanOrEqual"),
        "J2:J50001": ("date", None),  # "between" is the default operator
    }
    assert book_of_en_sheetnames() == ["Positions", "Instructions"]


def book_of_en_sheetnames() -> list[str]:
    return openpyxl.load_workbook(io.BytesIO(template("en"))).sheetnames


def test_filled_template_imports_with_numbers_texts_and_dates():
    data = filled(
        [
            [
                "1",
                "1",
                "Кабель ВВГ",
                "",
                "27.32.13.154",
                1500,
                "м",
                95.5,
                "Москва",
                dt.date(2027, 3, 1),
            ],
            [2, "3.10", "Щит", "", "", "2,5", "шт", "1 000,00", "", "15.04.2027"],
        ]
    )
    rows, problems = parse(data)
    assert problems == []
    assert [(r.lot, r.number, r.quantity, r.max_unit_price, r.delivery_date) for r in rows] == [
        ("1", "1", Decimal("1500"), Decimal("95.5"), dt.date(2027, 3, 1)),
        ("2", "3.10", Decimal("2.5"), Decimal("1000.00"), dt.date(2027, 4, 15)),
    ]


def test_problems_name_their_cells():
    data = filled(
        [
            ["1", "1", "", "", "", 0, "шт", "", "", ""],
            ["1", "2", "Муфта", "", "", 3, "ведро", dt.date(2027, 1, 1), "", "32.13.2027"],
        ]
    )
    rows, problems = parse(data)
    cells = {p.cell: p.message for p in problems}
    assert set(cells) == {"Позиции!C2", "Позиции!F2", "Позиции!G3", "Позиции!H3", "Позиции!J3"}
    assert "holds a date" in cells["Позиции!H3"] and rows == []


def test_xls_is_refused_like_for_bids():
    with pytest.raises(CsvRefused, match=r"\.xls"):
        parse(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
