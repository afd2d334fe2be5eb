"""The bid template as an Excel workbook (pure: no Flask, no database; issue 23).

Same columns and pre-filled prices as the CSV template (:func:`bids.csv_bids.template`), so
the workbook saved unchanged uploads as the same offer. On the data sheet (named
:data:`bids.csv_bids.SHEET_NAMES`, which the upload reads first): the header row frozen,
column widths, number formats for quantities and prices, the sheet protected without a
password with only the price and note columns unlocked, and a data validation on the price
column (a decimal >= 0). A second sheet explains how to fill it in. Uploads are read by
:func:`bids.csv_bids.parse_bid` like CSV files.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from bids.csv_bids import (
    SHEET_NAMES,
    CurrentLine,
    TenderSheet,
    template_columns,
)
from positions.xlsx_rules import (
    Formats,
    SharedCells,
    column_letter,
    money_format,
    new_workbook,
    number_xml,
    splice_rows,
    style_index,
    text_xml,
)

__all__ = ["template"]

_WIDTHS = {
    "tender": 16,
    "lot": 6,
    "number": 11,
    "name": 60,
    "unit": 9,
    "quantity": 12,
    "max_price": 16,
    "unit_price": 16,
    "total": 18,
    "note": 40,
}
_EDITABLE = ("unit_price", "total", "note")

_INSTRUCTIONS = {
    "en": (
        "How to fill in this bid template",
        [
            "Fill in the price column ('{price}') on the sheet '{sheet}'; the other "
            "columns are locked (the sheet is protected without a password).",
            "Prices are in the tender's currency with at most {places} decimal places; "
            "the unit price of a total is total / quantity, rounded.",
            "Leave the price empty for the positions you do not offer; an empty price "
            "of a position you bid on removes it from your bid.",
            "The file changes only the positions it holds: the other lots of your bid stay "
            "as they are.",
            "Save the workbook as 'Excel Workbook (.xlsx)' (no macros, no password) and "
            "upload it on the tender's page 'Prices from a file'.",
        ],
    ),
    "ru": (
        "Как заполнить шаблон предложения",
        [
            "Заполните столбец цены ('{price}') на листе '{sheet}'; остальные столбцы "
            "защищены (защита листа без пароля).",
            "Цены указываются в валюте закупки, не более {places} знаков после запятой; "
            "цена за единицу из стоимости = стоимость / количество с округлением.",
            "Оставьте цену пустой для позиций, которые вы не предлагаете; пустая цена "
            "позиции из вашего предложения исключает её из предложения.",
            "Файл меняет только позиции, которые в нём есть: другие лоты вашего "
            "предложения остаются без изменений.",
            "Сохраните книгу как «Книга Excel (.xlsx)» (без макросов и пароля) и "
            "загрузите её на странице закупки «Цены из файла».",
        ],
    ),
}


def template(
    sheet: TenderSheet,
    variant: str = "unit",
    *,
    lot: int | None = None,
    current: Mapping[str, CurrentLine] | None = None,
    language: str = "ru",
) -> bytes:
    """The .xlsx bid template: one row per position, pre-filled from ``current``."""
    positions, fields, header = template_columns(sheet, variant, lot, language)
    current = current or {}
    places = sheet.currency_places
    output = io.BytesIO()
    book = new_workbook(output)
    formats = Formats(book, places)
    name = SHEET_NAMES[0] if language == "ru" else SHEET_NAMES[1]
    data = book.add_worksheet(name)
    quantity_places = max((_places(p.quantity) for p in positions), default=0)
    quantity_format = book.add_format(
        {"num_format": "#,##0" + ("." + "0" * quantity_places if quantity_places else "")}
    )
    money = money_format(places)
    price_field = "unit_price" if variant == "unit" else "total"
    column_of = {f: i for i, f in enumerate(fields)}
    for i, f in enumerate(fields):
        fmt = formats.unlocked(money if f != "note" else "@") if f in _EDITABLE else None
        data.set_column(i, i, _WIDTHS[f], fmt)
    for i, title in enumerate(header):
        data.write_string(0, i, title, formats.header)
    data.freeze_panes(1, 0)
    last = len(positions)
    price_column = column_of[price_field]
    data.data_validation(
        1,
        price_column,
        max(last, 1),
        price_column,
        {
            "validate": "decimal",
            "criteria": ">=",
            "value": 0,
            "error_title": "Price" if language == "en" else "Цена",
            "error_message": "Enter a number >= 0, or leave the cell empty."
            if language == "en"
            else "Введите число >= 0 или оставьте ячейку пустой.",
        },
    )
    rows = _rows(formats, sheet, positions, fields, current, variant, quantity_format)
    data.autofilter(0, 0, last, len(fields) - 1)
    data.protect(
        "",
        {
            "autofilter": True,
            "sort": False,
            "format_columns": True,
            "select_locked_cells": True,
            "select_unlocked_cells": True,
        },
    )
    _instructions(book, formats, language, header[price_column], name, places)
    book.close()
    last_ref = f"{column_letter(len(fields) - 1)}{last + 1}"
    return splice_rows(output.getvalue(), 1, rows, last_ref)


def _rows(formats, sheet, positions, fields, current, variant, quantity_format) -> list[str]:
    """The data rows as SpreadsheetML (see positions.xlsx_rules.splice_rows).

    Kept small for a quick round trip (issue 23: a 50,000-position sheet): the cells leave
    out their references (each follows the one before; the rows keep theirs), and the texts
    every row repeats (the tender's number, the units) are shared strings, as Excel writes
    them; the names stay inline (each is written once anyway)."""
    text_style, quoted = style_index(formats.text_cell), style_index(formats.quoted)
    styles = {
        "lot": style_index(formats.integer),
        "quantity": style_index(quantity_format),
        "max_price": style_index(formats.money),
        "price": style_index(formats.unlocked(money_format(sheet.currency_places))),
        "note": style_index(formats.unlocked("@")),
    }
    shared = SharedCells(formats.book.str_table, text_style, quoted)
    tender = shared.cell(sheet.tender_number)
    out = []
    for row, p in enumerate(positions, 2):
        line = current.get(p.number)
        cells = [f'<row r="{row}">']
        for f in fields:
            if f == "tender":
                cells.append(tender)
            elif f == "unit":
                cells.append(shared.cell(p.unit))
            elif f in ("number", "name"):
                cells.append(text_xml("", getattr(p, f), text_style, quoted))
            elif f == "lot":
                cells.append(number_xml("", p.lot, styles["lot"], quoted))
            elif f == "quantity":
                cells.append(number_xml("", p.quantity, styles["quantity"], quoted))
            elif f == "max_price":
                cells.append(number_xml("", p.max_unit_price, styles["max_price"], quoted))
            elif f == "note":  # empty cells too: unlocked even where Excel ignores <col>
                note = line.note if line is not None else ""
                cells.append(text_xml("", note, styles["note"], quoted))
            else:  # the price to fill
                price = (
                    None if line is None else line.unit_price if variant == "unit" else line.total
                )
                cells.append(number_xml("", price, styles["price"], quoted))
        cells.append("</row>")
        out.append("".join(cells))
    shared.count()
    return out


def _places(value) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _instructions(book, formats, language, price_title, sheet_name, places) -> None:
    title, lines = _INSTRUCTIONS[language]
    sheet = book.add_worksheet("Инструкция" if language == "ru" else "Instructions")
    sheet.set_column(0, 0, 100, formats.wrap)
    sheet.write_string(0, 0, title, formats.header)
    for row, line in enumerate(lines, 2):
        sheet.write_string(
            row, 0, line.format(price=price_title, sheet=sheet_name, places=places), formats.wrap
        )
