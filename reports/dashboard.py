"""The customer dashboard: one organization's tenders published in a period, aggregated in
SQL (the same statements on SQLite and PostgreSQL); the shares and averages are computed by
reports.rules (docs/dashboard.md).

Every figure is about the same tenders: the customer's tenders published in the period
(drafts: created in it). Participation, SME share and extensions count only tenders whose
bidding has ended (the number of bids of a sealed tender is public, who bid is not);
savings only those with published results."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import and_, case, distinct, extract, func, or_, select, type_coerce

from accounts.models import Organization, User
from accounts.service import require_right
from bids.models import Bid, BidLine, BidRevision
from core import clock
from core.errors import Forbidden, NotFound
from core.extensions import db
from core.types import ExactDecimal
from positions.models import Position
from reports import rules
from results.models import ResultSet
from tenders.models import STATUSES, Lot, Tender, TenderCategory
from tenders.schemas import category_name

ENDED = ("closed", "results_published", "unsuccessful")
TOP_CATEGORIES = 10
# Sums of money are of the tenders in roubles (a sum across currencies means nothing).
CURRENCY = "RUB"


def authorize(user: User, org_id: int) -> Organization:
    """Who may read an organization's dashboard: the members who see all its procedures
    (administrators, managers, observers), if it is a customer."""
    org = db.session.get(Organization, org_id)
    if org is None:
        raise NotFound(_("No such organization."))
    require_right(user, org.id, "see_all")
    if not org.is_customer:
        raise Forbidden(_("%(org)s does not buy: it has no dashboard.", org=org.name))
    return org


def period(first: dt.date | None, last: dt.date | None) -> tuple[dt.date, dt.date]:
    """The period asked for, the last 12 months by default (either end may be given)."""
    today = clock.now().date()
    default_first, default_last = rules.default_period(last or today)
    return first or default_first, last or (today if first is None else max(first, today))


def _in_period(org_id: int, first: dt.date, last: dt.date):
    """The condition on Tender of the organization's tenders of the period (published in
    it; drafts: created in it), applied to each statement's own scan of the tenders (an
    IN (subquery of ids) made PostgreSQL join the tenders with themselves). Written as two
    ranges of ix_tenders_customer_published (the published ones, and the unpublished under
    NULL), not as a range of coalesce(), which no index serves."""
    start = dt.datetime.combine(first, dt.time(), dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC)
    published = and_(Tender.published_at >= start, Tender.published_at < end)
    draft = and_(Tender.published_at.is_(None), Tender.created_at >= start, Tender.created_at < end)
    return and_(Tender.customer_id == org_id, or_(published, draft))


def dashboard(org: Organization, first: dt.date, last: dt.date) -> dict:
    """Every figure of the dashboard for one organization and period: one pass over the
    period's tenders (stages, extensions, savings, months), one over their standing bids
    and one over their categories."""
    ids = _in_period(org.id, first, last)
    found = rules.tender_figures(_groups(ids), ENDED)
    return {
        "organization_id": org.id,
        "organization": org.name,
        "currency": CURRENCY,
        "from_": first,
        "to": last,
        "tenders": found.tenders,
        "stages": [{"status": s, "tenders": found.stages.get(s, 0)} for s in STATUSES],
        "participation": _participation(ids),
        "savings": _savings(found),
        "months": _months(found, first, last),
        "extensions": _extensions(found),
        "categories": _categories(ids),
    }


def _money(value):
    return type_coerce(value, ExactDecimal(18, 2))


def _groups(ids) -> list[rules.TenderGroup]:
    """The period's tenders grouped by month of publication (UTC) and stage: how many,
    their extensions, and the savings of those whose results are published (one statement,
    CASE sums: the same on SQLite and PostgreSQL)."""
    moment = func.coalesce(Tender.published_at, Tender.created_at)
    year, month = extract("year", moment), extract("month", moment)
    # A tender has at most one result set (its primary key): the outer join adds no rows.
    counted = and_(ResultSet.published_at.is_not(None), Tender.currency == CURRENCY)
    rows = db.session.execute(
        select(
            year,
            month,
            Tender.status,
            func.count(),
            func.coalesce(func.sum(Tender.extensions_count), 0),
            func.coalesce(func.sum(case((Tender.extensions_count > 0, 1), else_=0)), 0),
            func.coalesce(func.max(Tender.extensions_count), 0),
            func.coalesce(func.sum(case((counted, 1), else_=0)), 0),
            func.sum(_money(case((counted, ResultSet.reference_total)))),
            func.sum(_money(case((counted, ResultSet.savings)))),
        )
        .select_from(Tender)
        .outerjoin(ResultSet, ResultSet.tender_id == Tender.id)
        .where(ids)
        .group_by(year, month, Tender.status)
    ).all()
    return [
        rules.TenderGroup(
            f"{int(y):04d}-{int(m):02d}",
            status,
            n,
            int(total),
            int(extended),
            int(most),
            int(results),
            reference,
            saved,
        )
        for y, m, status, n, total, extended, most, results, reference, saved in rows
    ]


def _participation(ids) -> dict:
    """Lots, offers per lot and SME share of the period's ended tenders, in one statement:
    the lots per ended tender once (a CTE), then the standing bids over it."""
    lots_of = (
        select(Lot.tender_id, func.count().label("lots"))
        .join(Tender, Tender.id == Lot.tender_id)
        .where(ids, Tender.status.in_(ENDED))
        .group_by(Lot.tender_id)
        .cte("lots_of")
    )
    # One pass over the standing bids: how many, how many SME, and how many on tenders of
    # one lot (each of those takes part in that lot: a revision prices at least a line).
    one_lot = case((lots_of.c.lots == 1, 1), else_=0)
    standing = (
        select(
            func.count().label("bids"),
            func.coalesce(func.sum(case((Organization.is_sme, 1), else_=0)), 0).label("sme"),
            func.coalesce(func.sum(one_lot), 0).label("single"),
        )
        .select_from(Bid)
        .join(lots_of, lots_of.c.tender_id == Bid.tender_id)
        .join(Organization, Organization.id == Bid.organization_id)
        .where(Bid.status == "active", Bid.revision_count > 0)
        .subquery()
    )
    # Tenders of several lots: a participant of a lot is a standing bid whose latest
    # revision prices a position of it.
    several = select(lots_of.c.tender_id).where(lots_of.c.lots > 1)
    per_lot = (
        select(Bid.id, Position.lot_id)
        .join(
            BidRevision,
            and_(BidRevision.bid_id == Bid.id, BidRevision.number == Bid.revision_count),
        )
        .join(BidLine, BidLine.revision_id == BidRevision.id)
        .join(Position, Position.id == BidLine.position_id)
        .where(Bid.tender_id.in_(several), Bid.status == "active")
        .distinct()
        .subquery()
    )
    lots, bids, sme, single, multi = db.session.execute(
        select(
            select(func.coalesce(func.sum(lots_of.c.lots), 0)).scalar_subquery(),
            standing.c.bids,
            standing.c.sme,
            standing.c.single,
            select(func.count()).select_from(per_lot).scalar_subquery(),
        )
    ).one()
    offers = int(single) + int(multi)
    return {
        "lots": int(lots),
        "offers": offers,
        "average_per_lot": rules.average(offers, int(lots)),
        "participations": bids,
        "sme": int(sme),
        "sme_percent": rules.share(int(sme), bids),
    }


def _savings(found: rules.TenderFigures) -> dict:
    s = rules.savings(found.reference, found.saved)
    return {
        "tenders": found.results,
        "reference": s.reference,
        "savings": s.savings,
        "percent": s.percent,
    }


def _months(found: rules.TenderFigures, first: dt.date, last: dt.date) -> list[dict]:
    """Per month of publication (UTC): tenders published, and the savings of those whose
    results are published; every month of the period, empty ones as zero."""
    out = []
    for key in rules.months(first, last):
        n, reference, saved = found.months.get(key, (0, None, None))
        s = rules.savings(reference, saved)
        out.append(
            {
                "month": key,
                "tenders": n,
                "reference": s.reference,
                "savings": s.savings,
                "percent": s.percent,
            }
        )
    return out


def _extensions(found: rules.TenderFigures) -> dict:
    return {
        "tenders": found.ended,
        "extended": found.extended,
        "total": found.extensions,
        "average": rules.average(found.extensions, found.ended),
        "most": found.most,
    }


def _categories(ids) -> list[dict]:
    tenders = func.count(distinct(TenderCategory.tender_id))
    in_roubles = type_coerce(
        case((Tender.currency == CURRENCY, Tender.estimated_value)), ExactDecimal(18, 2)
    )
    rows = db.session.execute(
        select(TenderCategory.code, tenders, func.sum(in_roubles))
        .join(Tender, Tender.id == TenderCategory.tender_id)
        .where(ids)
        .group_by(TenderCategory.code)
        .order_by(tenders.desc(), TenderCategory.code)
        .limit(TOP_CATEGORIES)
    ).all()
    return [
        {
            "code": code,
            "name": category_name(code),
            "tenders": n,
            "estimated_value": value or Decimal(0),
        }
        for code, n, value in rows
    ]
