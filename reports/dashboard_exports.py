"""The dashboard's numbers as CSV and as an Excel workbook (formula-safe, as the results'
exports: positions.csv_rules.write_csv, positions.xlsx_rules), and as the data the page's
charts draw. Words in the request's language."""

from __future__ import annotations

import io
from decimal import Decimal

from flask_babel import gettext as _

from core.i18n import label
from positions.csv_rules import write_csv
from positions.xlsx_rules import Formats, new_workbook, write_number


def _fmt(value) -> str:
    # Decimals with a decimal comma and no grouping: Russian Excel reads them as numbers.
    if value is None:
        return ""
    return str(value).replace(".", ",") if isinstance(value, Decimal) else str(value)


def sections(data: dict) -> list[tuple[str, list[str], list[list]]]:
    """The dashboard as titled tables: (title, header, rows of typed values)."""
    p, s, e = data["participation"], data["savings"], data["extensions"]
    summary = [
        [_("Organization"), data["organization"]],
        [_("Period"), f"{data['from_']:%d.%m.%Y} – {data['to']:%d.%m.%Y}"],
        [_("Tenders"), data["tenders"]],
        [_("Lots with bidding ended"), p["lots"]],
        [_("Average participants per lot"), p["average_per_lot"]],
        [_("Participations"), p["participations"]],
        [_("SME participations"), p["sme"]],
        [_("SME share, %"), p["sme_percent"]],
        [_("Tenders with published results"), s["tenders"]],
        [_("Maximum prices of awarded items, RUB"), s["reference"]],
        [_("Savings, RUB"), s["savings"]],
        [_("Savings, %"), s["percent"]],
        [_("Tenders with bidding ended"), e["tenders"]],
        [_("Extended tenders"), e["extended"]],
        [_("Extensions"), e["total"]],
        [_("Extensions per tender"), e["average"]],
        [_("Most extensions of one tender"), e["most"]],
    ]
    return [
        (_("Summary"), [_("Figure"), _("Value")], summary),
        (
            _("Tenders by stage"),
            [_("Stage"), _("Tenders")],
            [[str(label("tender_status", r["status"])), r["tenders"]] for r in data["stages"]],
        ),
        (
            _("Per month"),
            [
                _("Month"),
                _("Tenders"),
                _("Maximum prices, RUB"),
                _("Savings, RUB"),
                _("Savings, %"),
            ],
            [
                [m["month"], m["tenders"], m["reference"], m["savings"], m["percent"]]
                for m in data["months"]
            ],
        ),
        (
            _("Top categories"),
            [_("OKPD2"), _("Name"), _("Tenders"), _("Estimated value, RUB")],
            [
                [c["code"], c["name"], c["tenders"], c["estimated_value"]]
                for c in data["categories"]
            ],
        ),
    ]


def dashboard_csv(data: dict) -> bytes:
    """Every table one after the other, each under its title (UTF-8 with BOM; formula-safe)."""
    rows: list[list[str]] = []
    for title, header, body in sections(data):
        if rows:
            rows.append([])
        rows.append([title])
        rows.append(header)
        rows.extend([_fmt(v) for v in row] for row in body)
    return write_csv(rows[0], rows[1:])


def dashboard_xlsx(data: dict) -> bytes:
    """One sheet per table; numbers as numbers, text formula-safe."""
    output = io.BytesIO()
    book = new_workbook(output)
    formats = Formats(book)
    for title, header, body in sections(data):
        sheet = book.add_worksheet(title[:31])
        for col, name in enumerate(header):
            sheet.write_string(0, col, name, formats.header)
            sheet.set_column(col, col, 14 if col else 36)
        for r, row in enumerate(body, start=1):
            for col, value in enumerate(row):
                if isinstance(value, Decimal):
                    write_number(sheet, r, col, value, formats.money, formats)
                elif isinstance(value, int):
                    write_number(sheet, r, col, value, formats.integer, formats)
                elif value is not None:
                    formats.text(sheet, r, col, str(value))
    book.close()
    return output.getvalue()


def chart_data(data: dict) -> dict:
    """What the page's script draws (its numbers are in the page's tables too)."""

    def text(value):
        return None if value is None else str(value)

    return {
        "stages": [
            {"label": str(label("tender_status", r["status"])), "value": r["tenders"]}
            for r in data["stages"]
        ],
        "months": [
            {"label": m["month"], "value": text(m["savings"]), "tenders": m["tenders"]}
            for m in data["months"]
        ],
        "categories": [
            {"label": f"{c['code']} {c['name']}", "value": c["tenders"]} for c in data["categories"]
        ],
    }
