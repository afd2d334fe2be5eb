"""The registry's search results as an Excel workbook (issue 23); formula-safe."""

from __future__ import annotations

import io
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from positions.xlsx_rules import Formats, new_workbook, write_number
from tenders.models import Tender

__all__ = ["EXPORT_LIMIT", "registry_workbook"]

EXPORT_LIMIT = 5_000  # rows of one export (the first ones in the chosen order)
_COLUMNS = (
    ("Number", 16),
    ("Title", 60),
    ("Customer", 40),
    ("INN", 13),
    ("Region", 8),
    ("Status", 18),
    ("Published (UTC)", 18),
    ("Bid deadline (UTC)", 18),
    ("Estimated value", 18),
    ("Currency", 9),
    ("Lots", 6),
    ("Link", 40),
)
_UTC = ZoneInfo("UTC")


def registry_workbook(tenders: Sequence[Tender], total: int, base_url: str, query: str) -> bytes:
    """One row per tender of the search, in its order; a note when ``total`` is larger."""
    output = io.BytesIO()
    book = new_workbook(output)
    formats = Formats(book)
    when = book.add_format({"num_format": "dd.mm.yyyy hh:mm"})
    sheet = book.add_worksheet("Tenders")
    for i, (title, width) in enumerate(_COLUMNS):
        sheet.write_string(0, i, title, formats.header)
        sheet.set_column(i, i, width)
    sheet.freeze_panes(1, 0)
    for r, t in enumerate(tenders, 1):
        customer = t.customer
        formats.text(sheet, r, 0, t.number)
        formats.text(sheet, r, 1, t.title)
        formats.text(sheet, r, 2, customer.name if customer else "")
        formats.text(sheet, r, 3, (customer.inn or "") if customer else "")
        formats.text(sheet, r, 4, t.region_code)
        formats.text(sheet, r, 5, t.status)
        for c, moment in ((6, t.published_at), (7, t.bid_deadline)):
            if moment is not None:
                sheet.write_datetime(r, c, moment.astimezone(_UTC).replace(tzinfo=None), when)
        write_number(sheet, r, 8, t.estimated_value, formats.money, formats)
        formats.text(sheet, r, 9, t.currency)
        sheet.write_number(r, 10, len(t.lots), formats.integer)
        formats.text(sheet, r, 11, f"{base_url}/tenders/{t.number}")
    sheet.autofilter(0, 0, max(1, len(tenders)), len(_COLUMNS) - 1)
    info = book.add_worksheet("Search")
    info.set_column(0, 0, 100, formats.wrap)
    info.write_string(0, 0, "Tender registry: search results", formats.header)
    formats.text(info, 1, 0, f"Query: {query or '(all tenders)'}")
    shown = f"{len(tenders)} of {total} tender(s)"
    if total > len(tenders):
        shown += f"; an export holds at most {EXPORT_LIMIT}: narrow the search for the rest"
    info.write_string(2, 0, shown, formats.wrap)
    book.close()
    return output.getvalue()
