"""The comparison and the published results as Excel workbooks (no database; the words
in the request's language through flask_babel; issue 23). The results: a summary sheet,
then every award and every offer.

Sheet "Comparison": one row per position (or whole lot) and, for each participant, four
columns (unit price, total, score, rank); the best offer (rank 1) of each row is highlighted.
Sheet "Offers": the CSV export's rows (one per offer) with numbers as numbers. Text is
written formula-safe (positions.xlsx_rules: never a formula, a quote prefix before "=").
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext

from positions.xlsx_rules import Formats, new_workbook, write_number

__all__ = ["comparison_workbook", "results_workbook"]

_PER_PARTICIPANT = (_l("unit price"), _l("total"), _l("score"), _l("rank"))
_NUMERIC = {
    "lot",
    "quantity",
    "max_unit_price",
    "participant",
    "unit_price",
    "total",
    "price_points",
    "criteria_points",
    "score",
    "rank",
    "savings",
}


def comparison_workbook(
    tender_number: str,
    header: Sequence[str],
    offers: list[list],
    titles: Sequence[str] | None = None,
) -> bytes:
    """``offers``: rows in ``header``'s order (the keys results.exports.CSV_KEYS), typed
    values; ``titles`` head the offers sheet's columns (the reader's language)."""
    col = {name: i for i, name in enumerate(header)}
    output = io.BytesIO()
    book = new_workbook(output)
    formats = Formats(book)
    best = book.add_format({"bg_color": "#C6EFCE", "bold": True, "num_format": "#,##0.00"})
    best_int = book.add_format({"bg_color": "#C6EFCE", "bold": True, "num_format": "0"})
    points = book.add_format({"num_format": "0.00"})
    _matrix(book, formats, tender_number, offers, col, best, best_int, points)
    _offers_sheet(book, formats, header, titles or header, offers, points)
    book.close()
    return output.getvalue()


def _matrix(book, formats, tender_number, offers, col, best, best_int, points) -> None:
    sheet = book.add_worksheet(_("Comparison"))
    participants: dict[int, str] = {}
    rows: dict[tuple, dict[int, list]] = {}
    for offer in offers:
        number = offer[col["participant"]]
        participants.setdefault(
            number, _("No. %(number)s: %(name)s", number=number, name=offer[col["organization"]])
        )
        key = (offer[col["lot"]], offer[col["position"]])
        rows.setdefault(key, {"_": offer})[number] = offer
    order = sorted(participants)
    fixed = (_("Lot"), _("Position"), _("Name"), _("Quantity"), _("Max unit price"))
    sheet.write_string(
        0, 0, _("Comparison of offers: %(number)s", number=tender_number), formats.header
    )
    for i, title in enumerate(fixed):
        sheet.write_string(2, i, title, formats.header)
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 1, 12)
    sheet.set_column(2, 2, 40)
    sheet.set_column(3, 4, 14)
    for j, number in enumerate(order):
        first = len(fixed) + 4 * j
        sheet.merge_range(1, first, 1, first + 3, "", formats.header)
        formats.text(sheet, 1, first, participants[number], formats.header)
        for k, title in enumerate(_PER_PARTICIPANT):
            sheet.write_string(2, first + k, str(title), formats.header)
        sheet.set_column(first, first + 1, 14)
        sheet.set_column(first + 2, first + 3, 8)
    sheet.freeze_panes(3, len(fixed))
    for r, cells in enumerate(rows.values(), 3):
        any_offer = cells["_"]
        sheet.write_number(r, 0, any_offer[col["lot"]], formats.integer)
        formats.text(sheet, r, 1, str(any_offer[col["position"]]))
        formats.text(sheet, r, 2, any_offer[col["name"]] or "")
        write_number(sheet, r, 3, any_offer[col["quantity"]], None, formats)
        write_number(sheet, r, 4, any_offer[col["max_unit_price"]], formats.money, formats)
        for j, number in enumerate(order):
            offer = cells.get(number)
            if offer is None:
                continue
            first = len(fixed) + 4 * j
            top = offer[col["rank"]] == 1
            write_number(sheet, r, first, offer[col["unit_price"]], best if top else None, formats)
            write_number(sheet, r, first + 1, offer[col["total"]], best if top else None, formats)
            write_number(sheet, r, first + 2, offer[col["score"]], best if top else points, formats)
            rank = offer[col["rank"]]
            if rank is not None:
                sheet.write_number(r, first + 3, rank, best_int if top else formats.integer)
            else:
                formats.text(sheet, r, first + 3, str(offer[col["status"]]))
    last_column = len(fixed) + 4 * len(order) - 1
    sheet.autofilter(2, 0, max(2, 2 + len(rows)), max(last_column, len(fixed) - 1))
    sheet.write_string(
        len(rows) + 4, 0, _("Highlighted: the best offer (rank 1) of each row."), formats.wrap
    )


def _offers_sheet(book, formats, header, titles, offers, points) -> None:
    sheet = book.add_worksheet(pgettext("sheet", "Offers"))
    for i, title in enumerate(titles):
        sheet.write_string(0, i, title, formats.header)
    sheet.freeze_panes(1, 0)
    sheet.set_column(0, len(header) - 1, 14)
    for r, offer in enumerate(offers, 1):
        for c, (name, value) in enumerate(zip(header, offer)):
            if value is None or value == "":
                continue
            if name in _NUMERIC and not isinstance(value, str):
                fmt = formats.integer if isinstance(value, int) else None
                if name in ("unit_price", "total", "savings", "max_unit_price"):
                    fmt = formats.money
                elif name in ("price_points", "criteria_points", "score"):
                    fmt = points
                write_number(sheet, r, c, value, fmt, formats)
            else:
                formats.text(sheet, r, c, str(value))
    sheet.autofilter(0, 0, max(1, len(offers)), len(header) - 1)


_AWARD_COLUMNS = (
    (_l("Lot"), 6),
    (_l("Position"), 11),
    (_l("Name"), 40),
    (_l("Quantity"), 12),
    (_l("Max unit price"), 16),
    (_l("Status"), 13),
    (_l("Winner"), 40),
    (_l("Winner's INN"), 13),
    (_l("Price"), 16),
    (_l("Total"), 18),
    (_l("Score"), 9),
    (_l("Reference total"), 18),
    (_l("Savings"), 16),
)
_OFFER_COLUMNS = (
    (_l("Lot"), 6),
    (_l("Position"), 11),
    (_l("Participant"), 11),
    (_l("Organization"), 40),
    (_l("INN"), 13),
    (_l("Rank"), 6),
    (_l("Status"), 13),
    (_l("Reason"), 40),
    (_l("Unit price"), 16),
    (_l("Total"), 18),
    (_l("Score"), 9),
)


def results_workbook(summary, awards: Sequence, detail: bool) -> bytes:
    """The published results: a summary sheet (figures and winners) and, for those who may
    see the detail, every award (winner, price, savings) and every ranked offer."""
    output = io.BytesIO()
    book = new_workbook(output)
    formats = Formats(book)
    _summary_sheet(book, formats, summary)
    if detail:
        _awards_sheet(book, formats, awards)
    book.close()
    return output.getvalue()


def _summary_sheet(book, formats, summary) -> None:
    sheet = book.add_worksheet(_("Summary"))
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 3, 20)
    sheet.write_string(0, 0, _("Results of %(number)s", number=summary.number), formats.header)
    figures = (
        (_("Participants"), summary.participants, formats.integer),
        (pgettext("results figure", "Awarded"), summary.awarded, formats.integer),
        (pgettext("results figure", "Unsuccessful"), summary.unsuccessful, formats.integer),
        (_("Awarded total"), summary.awarded_total, formats.money),
        (_("Reference total"), summary.reference_total, formats.money),
        (_("Savings"), summary.savings, formats.money),
    )
    for row, (label, value, fmt) in enumerate(figures, 2):
        sheet.write_string(row, 0, str(label))
        write_number(sheet, row, 1, value, fmt, formats)
    row = len(figures) + 3
    for c, title in enumerate((_("Winner"), _("INN"), _("Awards"), _("Total"))):
        sheet.write_string(row, c, title, formats.header)
    for r, winner in enumerate(summary.winners, row + 1):
        formats.text(sheet, r, 0, winner.name)
        formats.text(sheet, r, 1, winner.inn or "")
        sheet.write_number(r, 2, winner.awards, formats.integer)
        write_number(sheet, r, 3, winner.total, formats.money, formats)


def _header(sheet, formats, columns) -> None:
    for i, (title, width) in enumerate(columns):
        sheet.write_string(0, i, str(title), formats.header)
        sheet.set_column(i, i, width)
    sheet.freeze_panes(1, 0)


def _awards_sheet(book, formats, awards) -> None:
    sheet = book.add_worksheet(_("Awards"))
    offers = book.add_worksheet(pgettext("sheet", "Offers"))
    _header(sheet, formats, _AWARD_COLUMNS)
    _header(offers, formats, _OFFER_COLUMNS)
    points = book.add_format({"num_format": "0.00"})
    best = book.add_format({"bg_color": "#C6EFCE", "bold": True})
    o = 0
    for r, a in enumerate(awards, 1):
        position = a.position_number or _("whole lot: %(title)s", title=a.lot_title)
        sheet.write_number(r, 0, a.lot_number, formats.integer)
        formats.text(sheet, r, 1, position)
        formats.text(sheet, r, 2, a.position_name or "")
        write_number(sheet, r, 3, a.quantity, None, formats)
        write_number(sheet, r, 4, a.max_unit_price, formats.money, formats)
        formats.text(sheet, r, 5, a.status)
        winner = a.winner
        if winner is not None:
            formats.text(
                sheet,
                r,
                6,
                _(
                    "No. %(number)s: %(name)s",
                    number=winner.participant_number,
                    name=winner.organization_name,
                ),
            )
            formats.text(sheet, r, 7, winner.inn or "")
        write_number(sheet, r, 8, a.price, formats.money, formats)
        write_number(sheet, r, 9, a.total, formats.money, formats)
        write_number(sheet, r, 10, a.score, points, formats)
        write_number(sheet, r, 11, a.reference_total, formats.money, formats)
        write_number(sheet, r, 12, a.savings, formats.money, formats)
        for offer in a.offers:
            o += 1
            offers.write_number(o, 0, a.lot_number, formats.integer)
            formats.text(offers, o, 1, position)
            offers.write_number(o, 2, offer.participant_number, formats.integer)
            formats.text(offers, o, 3, offer.organization_name)
            formats.text(offers, o, 4, offer.inn or "")
            if offer.rank is not None:
                offers.write_number(o, 5, offer.rank, best if offer.won else None)
            formats.text(offers, o, 6, offer.status)
            formats.text(offers, o, 7, offer.reason or "")
            write_number(offers, o, 8, offer.unit_price, formats.money, formats)
            write_number(offers, o, 9, offer.total, formats.money, formats)
            write_number(offers, o, 10, offer.score, points, formats)
    sheet.autofilter(0, 0, max(1, len(awards)), len(_AWARD_COLUMNS) - 1)
    offers.autofilter(0, 0, max(1, o), len(_OFFER_COLUMNS) - 1)
