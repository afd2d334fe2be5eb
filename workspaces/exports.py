"""A workspace's rows as CSV (UTF-8 with BOM, `;`, formula-safe: positions.csv_rules) and as
an Excel workbook (formula-safe: positions.xlsx_rules), headed in the reader's language."""

from __future__ import annotations

import io
from collections.abc import Iterable
from decimal import Decimal

from flask_babel import get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import formats, i18n
from positions.csv_rules import write_csv
from positions.xlsx_rules import Formats, new_workbook, write_number
from workspaces import labels, rules
from workspaces.service import Row

COLUMNS = (
    ("number", _l("Number"), 14),
    ("title", _l("Title"), 40),
    ("customer", _l("Customer"), 30),
    ("customer_inn", _l("Customer's INN"), 13),
    ("stage", _l("Stage"), 16),
    ("deadline", _l("Deadline for bids"), 20),
    ("extensions", _l("Extensions"), 8),
    ("bid_status", _l("Bid"), 10),
    ("revision", _l("Revision"), 8),
    ("submitted", _l("Submitted"), 20),
    ("total", _l("Total"), 16),
    ("currency", _l("Currency"), 8),
    ("participants", _l("Participants"), 10),
    ("standing", _l("Rank and best price per lot"), 50),
    ("results", _l("Results"), 30),
    ("won_total", _l("Won, total"), 16),
    ("following", _l("Followed"), 9),
)
_MONEY = {"total", "won_total"}
_INTEGER = {"extensions", "revision", "participants"}


class Words:
    """The export's words, looked up once in the reader's language (a lookup per cell
    through Flask-Babel made a 10,000-row export take a minute)."""

    def __init__(self) -> None:
        self.lang = i18n.language()
        self.stages = {k: str(v) for k, v in labels.STAGES.items()}
        self.bid_statuses = {k: str(v) for k, v in labels.BID_STATUSES.items()}
        self.yes = _("yes")
        self.whole = gettext_template("Lot %(lot)s: rank %(rank)s, best total %(best)s")
        self.per_position = gettext_template(
            "Lot %(lot)s: leading on %(leading)s of %(positions)s positions, best %(best)s"
        )
        self.results = gettext_template(
            "won %(won)s, lost %(lost)s, disqualified %(disqualified)s of %(total)s"
        )

    def money(self, value) -> str:
        return formats.money(value, lang=self.lang) if value is not None else "—"

    def standing(self, s: rules.LotStanding) -> str:
        """One lot's standing in words (the page lays it out as a table)."""
        if s.award_mode == "whole_lot":
            return self.whole % {
                "lot": s.lot,
                "rank": s.own_rank or "—",
                "best": self.money(s.best_total),
            }
        return self.per_position % {
            "lot": s.lot,
            "leading": s.leading,
            "positions": s.positions,
            "best": self.money(s.best_total),
        }

    def outcome(self, r: rules.Results) -> str:
        return self.results % {
            "won": r.won,
            "lost": r.lost,
            "disqualified": r.disqualified,
            "total": r.units_total,
        }


def gettext_template(message: str) -> str:
    """A message's translation with its placeholders left to fill (many rows, one lookup)."""
    return get_translations().ugettext(message)


def values(row: Row, words: Words) -> dict:
    """A row's cells by column key: typed (Decimal, int) where they are numbers."""
    t, bid, rev = row.tender, row.bid, row.revision
    lang = words.lang
    return {
        "number": t.number,
        "title": t.title,
        "customer": row.customer_name,
        "customer_inn": row.customer_inn,
        "stage": words.stages.get(row.stage, row.stage or ""),
        "deadline": formats.moment(t.bid_deadline, t.timezone, lang) if t.bid_deadline else "",
        "extensions": t.extensions_count,
        "bid_status": words.bid_statuses.get(bid.status, bid.status) if bid else "",
        "revision": rev.number if rev else None,
        "submitted": formats.moment(rev.accepted_at, t.timezone, lang) if rev else "",
        "total": rev.total if rev else None,
        "currency": t.currency,
        "participants": row.participants,
        "standing": "; ".join(words.standing(s) for s in row.lots),
        "results": words.outcome(row.results) if row.results else "",
        "won_total": row.results.won_total if row.results else None,
        "following": words.yes if row.following else "",
    }


def _csv_cell(value) -> str:
    # Decimals with a decimal comma and no grouping: Russian Excel reads them as numbers.
    if value is None:
        return ""
    return str(value).replace(".", ",") if isinstance(value, Decimal) else str(value)


def csv_file(rows: Iterable[Row]) -> bytes:
    """The rows as CSV, one line per tender."""
    header = [str(title) for _key, title, _w in COLUMNS]
    words = Words()

    def line(row: Row) -> list[str]:
        cells = values(row, words)
        return [_csv_cell(cells[key]) for key, _t, _w in COLUMNS]

    return write_csv(header, (line(r) for r in rows))


def workbook(rows: Iterable[Row]) -> bytes:
    """The rows as an Excel workbook: numbers as numbers, text formula-safe, a filter."""
    output = io.BytesIO()
    book = new_workbook(output, constant_memory=True)
    fmt = Formats(book)
    sheet = book.add_worksheet(_("Tenders"))
    for c, (_key, title, width) in enumerate(COLUMNS):
        sheet.write_string(0, c, str(title), fmt.header)
        sheet.set_column(c, c, width)
    sheet.freeze_panes(1, 0)
    words = Words()
    n = 0
    for n, row in enumerate(rows, 1):
        cells = values(row, words)
        for c, (key, _t, _w) in enumerate(COLUMNS):
            value = cells[key]
            if value is None or value == "":
                continue
            if key in _MONEY:
                write_number(sheet, n, c, value, fmt.money, fmt)
            elif key in _INTEGER:
                sheet.write_number(n, c, value, fmt.integer)
            else:
                fmt.text(sheet, n, c, str(value))
    sheet.autofilter(0, 0, max(1, n), len(COLUMNS) - 1)
    book.close()
    return output.getvalue()
