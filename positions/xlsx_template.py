"""The positions import template as an Excel workbook (pure; issue 23).

The columns positions.csv_import reads, on a sheet named as
:data:`positions.csv_import.SHEET_NAMES` says (read first on upload): header frozen, widths,
the number, lot and category columns formatted as text (so that "3.10" or the OKPD2 code
"28.10" stay as written), number formats and validations on quantity (> 0), maximum unit
price (>= 0) and delivery date, and an instructions sheet.
"""

from __future__ import annotations

import datetime as dt
import io

from positions.csv_import import SHEET_NAMES
from positions.xlsx_rules import Formats, money_format, new_workbook

__all__ = ["template"]

_COLUMNS = (  # field, English, Russian, width, kind
    ("lot", "Lot", "Лот", 6, "text"),
    ("number", "Position", "№ позиции", 11, "text"),
    ("name", "Name", "Наименование", 50, "wrap"),
    ("specification", "Specification", "Спецификация", 50, "wrap"),
    ("category", "Category", "Код ОКПД2", 14, "text"),
    ("quantity", "Quantity", "Количество", 12, "quantity"),
    ("unit", "Unit", "Ед. изм.", 10, "text"),
    ("max_price", "Max unit price", "Начальная цена за единицу", 18, "money"),
    ("delivery_place", "Delivery place", "Место поставки", 30, "wrap"),
    ("delivery_date", "Delivery date", "Срок поставки", 14, "date"),
)
_LAST_ROW = 50_000  # validations and formats reach this row (CSV_MAX_ROWS)

_INSTRUCTIONS = {
    "en": [
        "One row per position; the columns Position, Name, Quantity and Unit are required.",
        "Lot: the lot number (empty: lot 1). Position: digits with dots for sub-items (3.1).",
        "Unit: its short name (шт, кг, м) or OKEI code (796). Category: an OKPD2 code.",
        "Quantity up to 3 decimals; max unit price in the tender's currency (optional).",
        "Delivery date as a date (DD.MM.YYYY). Nothing is imported unless every row is right.",
        "Save as 'Excel Workbook (.xlsx)' (no macros, no password) and import it on the "
        "tender's editing page.",
    ],
    "ru": [
        "Одна строка на позицию; столбцы № позиции, Наименование, Количество и Ед. изм. "
        "обязательны.",
        "Лот: номер лота (пусто: лот 1). № позиции: цифры, для подпунктов через точку (3.1).",
        "Ед. изм.: краткое название (шт, кг, м) или код ОКЕИ (796). Код ОКПД2: код по ОКПД2.",
        "Количество до 3 знаков после запятой; начальная цена за единицу в валюте закупки "
        "(необязательно).",
        "Срок поставки датой (ДД.ММ.ГГГГ). Ничего не импортируется, пока все строки не верны.",
        "Сохраните как «Книга Excel (.xlsx)» (без макросов и пароля) и импортируйте на "
        "странице редактирования закупки.",
    ],
}


def template(language: str = "ru", currency_places: int = 2) -> bytes:
    """The empty positions template (header row, formats, validations, instructions)."""
    if language not in ("ru", "en"):
        raise ValueError("language must be 'ru' or 'en'")
    output = io.BytesIO()
    book = new_workbook(output)
    formats = Formats(book, currency_places)
    kinds = {
        "text": formats.text_cell,
        "wrap": book.add_format({"num_format": "@", "text_wrap": True, "valign": "top"}),
        "quantity": book.add_format({"num_format": "#,##0.###"}),
        "money": book.add_format({"num_format": money_format(currency_places)}),
        "date": book.add_format({"num_format": "dd.mm.yyyy"}),
    }
    sheet = book.add_worksheet(SHEET_NAMES[0] if language == "ru" else SHEET_NAMES[1])
    for i, (field, english, russian, width, kind) in enumerate(_COLUMNS):
        sheet.set_column(i, i, width, kinds[kind])
        sheet.write_string(0, i, russian if language == "ru" else english, formats.header)
        rule = {
            "quantity": {"validate": "decimal", "criteria": ">", "value": 0},
            "max_price": {"validate": "decimal", "criteria": ">=", "value": 0},
            "delivery_date": {
                "validate": "date",
                "criteria": "between",
                "minimum": dt.date(2000, 1, 1),
                "maximum": dt.date(2100, 12, 31),
            },
        }.get(field)
        if rule:
            sheet.data_validation(1, i, _LAST_ROW, i, rule)
    sheet.freeze_panes(1, 0)
    info = book.add_worksheet("Инструкция" if language == "ru" else "Instructions")
    info.set_column(0, 0, 100, formats.wrap)
    for row, line in enumerate(_INSTRUCTIONS[language]):
        info.write_string(row, 0, line, formats.wrap)
    book.close()
    return output.getvalue()
