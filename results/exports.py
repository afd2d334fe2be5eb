"""The comparison table as CSV (one row per offer; UTF-8 with BOM or Windows-1251) and as an
Excel workbook (positions x participants, and the same rows as the CSV)."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from accounts.models import Organization
from bids.models import Bid
from core.extensions import db
from positions.csv_rules import write_csv
from positions.models import Position
from results.models import Award, AwardOffer
from results.xlsx_exports import comparison_workbook
from tenders.models import Tender

# The columns, headed in the language of the request (people open the file in Excel).
CSV_HEADER = [
    _l("Lot"),
    _l("Position"),
    _l("Name"),
    _l("Quantity"),
    _l("Maximum unit price"),
    _l("Participant"),
    _l("Organization"),
    _l("INN"),
    _l("Unit price"),
    _l("Total"),
    _l("Price points"),
    _l("Criteria points"),
    _l("Score"),
    _l("Rank"),
    _l("Status"),
    _l("Reason for disqualification"),
    _l("Winner"),
    _l("Savings"),
]
# The same columns by name (results.xlsx_exports reads the rows by these keys).
CSV_KEYS = [
    "lot",
    "position",
    "name",
    "quantity",
    "max_unit_price",
    "participant",
    "organization",
    "inn",
    "unit_price",
    "total",
    "price_points",
    "criteria_points",
    "score",
    "rank",
    "status",
    "disqualification_reason",
    "winner",
    "savings",
]
OFFER_STATUS = {"valid": _l("valid"), "disqualified": _l("disqualified")}


def _fmt(value) -> str:
    # Decimals as the bid templates write them (decimal comma, no grouping): Russian Excel
    # reads them as numbers.
    if value is None:
        return ""
    return str(value).replace(".", ",") if isinstance(value, Decimal) else str(value)


def _offers(tender: Tender) -> list[list]:
    """One list of typed values per offer, in CSV_HEADER's order (Decimals, ints, str)."""
    rows = db.session.execute(
        select(Award, AwardOffer, Bid.participant_number, Organization.name, Organization.inn)
        .join(AwardOffer, AwardOffer.award_id == Award.id)
        .join(Bid, Bid.id == AwardOffer.bid_id)
        .join(Organization, Organization.id == Bid.organization_id)
        .where(Award.tender_id == tender.id)
        .order_by(Award.sort_key, AwardOffer.sort_order)
    ).all()
    positions = {
        p.id: p
        for p in db.session.execute(
            select(Position.id, Position.name, Position.quantity, Position.max_unit_price).where(
                Position.tender_id == tender.id
            )
        ).all()
    }
    lot_titles = {lot.id: lot.title for lot in tender.lots}
    yes = _("yes")

    def line(a: Award, o: AwardOffer, number: int, org: str, inn: str) -> list:
        p = positions.get(a.position_id)
        criteria = sum((Decimal(c["points"]) for c in o.breakdown.get("criteria", [])), Decimal(0))
        return [
            a.lot_number,
            a.position_number or _("whole lot: %(title)s", title=lot_titles.get(a.lot_id, "")),
            p.name if p else "",
            p.quantity if p else None,
            p.max_unit_price if p else None,
            number,
            org,
            inn,
            o.unit_price,
            o.total,
            o.price_points,
            criteria,
            o.score,
            o.rank,
            str(OFFER_STATUS.get(o.status, o.status)),
            o.reason or "",
            yes if o.bid_id == a.winner_bid_id else "",  # as decided, not always rank 1
            a.savings if o.bid_id == a.winner_bid_id else None,
        ]

    return [line(*row) for row in rows]


def comparison_csv(tender: Tender, encoding: str = "utf-8-sig") -> bytes:
    """The comparison as CSV, one row per offer (formula-safe; Excel opens it directly)."""
    header = [str(column) for column in CSV_HEADER]
    return write_csv(header, ([_fmt(v) for v in row] for row in _offers(tender)), encoding=encoding)


def comparison_xlsx(tender: Tender) -> bytes:
    """The comparison as an Excel workbook (results.xlsx_exports.comparison_workbook)."""
    header = [str(column) for column in CSV_HEADER]
    return comparison_workbook(tender.number, CSV_KEYS, _offers(tender), titles=header)
