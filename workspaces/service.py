"""The supplier's workspaces: "My bids" (every tender its organization bid on, as far as the
member may see those bids) and followed tenders ("Избранное"), with the same columns.

A page is a handful of queries whatever its size: the rows (tender, bid, latest revision,
customer) and their count, then for the page's rows at once the number of participants, the
standing per lot (own total, best total, own rank) where the tender's visibility lets the
bidder see it, and the published results per position (docs/workspaces.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import Select, and_, case, exists, false, func, or_, select
from sqlalchemy.orm import aliased

from accounts.models import Membership, Organization, User
from accounts.service import membership
from bids import offers
from bids.models import Bid, BidLine, BidRevision
from bids.service import visible_bids_query
from core import clock
from core.errors import Forbidden
from core.extensions import db
from notifications.models import TenderFollow
from positions.models import Position
from results.models import Award, AwardOffer
from tenders.models import Lot, Tender
from workspaces import rules

EXPORT_CHUNK = 500  # rows enriched at once by the exports


@dataclass
class Row:
    """One tender of a workspace, with the organization's bid on it (if visible)."""

    tender: Tender
    customer_name: str
    customer_inn: str
    bid: Bid | None
    revision: BidRevision | None
    following: bool = False
    participants: int = 0
    level: str = "count"
    lots: list[rules.LotStanding] = field(default_factory=list)
    results: rules.Results | None = None

    @property
    def stage(self) -> str | None:
        return rules.stage_of(self.tender.status)

    @property
    def bidding_open(self) -> bool:
        t = self.tender
        return (
            t.status == "published"
            and t.bid_deadline is not None
            and clock.now() < (t.bid_deadline)
        )


@dataclass
class Page:
    rows: list[Row]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


# -- who asks --------------------------------------------------------------------------------


def supplier_member(user: User, org: Organization | None) -> Membership:
    """The member acting for a supplier organization, or a refusal naming why."""
    if org is None:
        raise Forbidden(_("Choose an organization first."))
    member = membership(user, org.id)
    if member is None:
        raise Forbidden(_("You are not a member of this organization."))
    if not org.is_supplier:
        raise Forbidden(_("Choose an organization registered as a supplier."))
    return member


def optional_member(user: User, org: Organization | None) -> Membership | None:
    """The member acting for the organization, if any (followed tenders need none)."""
    return membership(user, org.id) if org is not None else None


# -- the rows --------------------------------------------------------------------------------


def _latest():
    return (BidRevision.bid_id == Bid.id) & (BidRevision.number == Bid.revision_count)


def my_bids_select(member: Membership) -> Select:
    """(tender id, bid id) of every tender the member's organization bid on, with a bid the
    member may see: the lean query that is filtered, sorted and counted (rows: _load)."""
    return (
        select(Tender.id, Bid.id)
        .select_from(Bid)
        .join(Tender, Tender.id == Bid.tender_id)
        .where(visible_bids_query(member).whereclause)
    )


def followed_select(user: User, member: Membership | None) -> Select:
    """(tender id, bid id or None) of the tenders the user follows, with its organization's
    bid where the member may see it."""
    visible = visible_bids_query(member).whereclause if member is not None else false()
    return (
        select(Tender.id, Bid.id)
        .select_from(TenderFollow)
        .join(Tender, Tender.id == TenderFollow.tender_id)
        .outerjoin(Bid, and_(Bid.tender_id == Tender.id, visible))
        .where(TenderFollow.user_id == user.id)
    )


def _load(pairs: list[tuple[int, int | None]]) -> list[Row]:
    """The rows of these (tender id, bid id) pairs, in their order (one query)."""
    if not pairs:
        return []
    bid_ids = [b for _, b in pairs if b is not None]
    found = db.session.execute(
        select(Tender, Bid, BidRevision, Organization.name, Organization.inn)
        .select_from(Tender)
        .join(Organization, Organization.id == Tender.customer_id)
        .outerjoin(Bid, and_(Bid.tender_id == Tender.id, Bid.id.in_(bid_ids)))
        .outerjoin(BidRevision, _latest())
        .where(Tender.id.in_([t for t, _ in pairs]))
    ).all()
    by_tender = {t.id: Row(t, name, inn, bid, rev) for t, bid, rev, name, inn in found}
    return [by_tender[t] for t, _ in pairs if t in by_tender]


def _won():
    """The bid won at least one position or lot (in the published results)."""
    return exists(
        select(AwardOffer.id)
        .join(Award, Award.id == AwardOffer.award_id)
        .where(AwardOffer.bid_id == Bid.id, Award.winner_bid_id == Bid.id)
    )


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _filtered(query: Select, q: dict) -> Select:
    if q.get("stage"):
        query = query.where(
            Tender.status.in_([s for stage in q["stage"] for s in rules.STAGES[stage]])
        )
    if q.get("customer"):
        query = query.where(Tender.customer_id == q["customer"])
    if q.get("deadline_from"):
        query = query.where(Tender.bid_deadline >= _day_start(q["deadline_from"]))
    if q.get("deadline_to"):
        end = _day_start(q["deadline_to"] + dt.timedelta(days=1))
        query = query.where(Tender.bid_deadline < end)
    if q.get("outcome"):
        published = and_(Tender.status == "results_published", Bid.id.is_not(None))
        won = _won()
        query = query.where(published, won if q["outcome"] == "won" else ~won)
    return query


_SORT_COLUMNS = {
    "deadline": lambda: Tender.bid_deadline,
    "number": lambda: Tender.number,
    "customer": lambda: Organization.name,
    "total": lambda: BidRevision.total,
    "submitted": lambda: BidRevision.accepted_at,
    "followed": lambda: TenderFollow.created_at,
}


def _sorted(query: Select, sort: str) -> Select:
    key = sort.lstrip("-")
    if key == "customer":  # join only what the order needs: the page's rows come later
        query = query.join(Organization, Organization.id == Tender.customer_id)
    elif key in ("total", "submitted"):
        query = query.outerjoin(BidRevision, _latest())
    column = _SORT_COLUMNS[key]()
    if sort.startswith("-"):
        return query.order_by(column.desc(), Tender.id.desc())
    return query.order_by(column.asc(), Tender.id.asc())


def _count(query: Select) -> int:
    return db.session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()


def page(
    query: Select, q: dict, user: User, org: Organization | None, *, followed: bool = False
) -> Page:
    """One page of a workspace (my_bids_select or followed_select), filtered and sorted: the
    lean query orders and counts, the page's 25 rows are loaded whole afterwards."""
    query = _filtered(query, q)
    # The total comes with the page (a window count): one pass over the matches, not two.
    found = db.session.execute(
        _sorted(query.add_columns(func.count().over()), q["sort"])
        .limit(q["per_page"])
        .offset((q["page"] - 1) * q["per_page"])
    ).all()
    rows = _load([(t, b) for t, b, _ in found])
    enrich(rows, user, org, following=True if followed else None)
    total = found[0][2] if found else _count(query)  # past the last page: counted alone
    return Page(rows, total, q["page"], q["per_page"])


def every_row(query: Select, q: dict, user: User, org: Organization | None) -> Iterator[Row]:
    """Every row of a workspace as filtered (the exports), enriched a chunk at a time. The
    lean query (two ids a row) runs once: paging it by OFFSET re-scanned and re-sorted every
    match before each chunk, and a row added or removed meanwhile shifted the chunks."""
    query = _sorted(_filtered(query, q), q["sort"])
    pairs = [(t, b) for t, b in db.session.execute(query).all()]
    for start in range(0, len(pairs), EXPORT_CHUNK):
        rows = _load(pairs[start : start + EXPORT_CHUNK])
        enrich(rows, user, org)
        yield from rows


def customers(member: Membership) -> list[tuple[int, str]]:
    """The customers of the tenders the member's visible bids are on (the filter's choices)."""
    rows = db.session.execute(
        select(Organization.id, Organization.name)
        .where(
            Organization.id.in_(
                select(Tender.customer_id)
                .join(Bid, Bid.tender_id == Tender.id)
                .where(visible_bids_query(member).whereclause)
            )
        )
        .order_by(Organization.name)
    ).all()
    return [(i, n) for i, n in rows]


# -- what each row shows ---------------------------------------------------------------------


def enrich(
    rows: list[Row], user: User, org: Organization | None, following: bool | None = None
) -> None:
    """Participants, visibility level, standing per lot and results of a page of rows."""
    if not rows:
        return
    tender_ids = list({r.tender.id for r in rows})
    counts = _participants(tender_ids)
    follows = followed_ids(user.id, tender_ids) if following is None else None
    for r in rows:
        r.participants = counts.get(r.tender.id, 0)
        r.following = following if following is not None else r.tender.id in follows
        r.level = _level(r, org)
    standing = [r for r in rows if rules.shows_standing(r.level) and _active(r)]
    if standing:
        _standings(standing)
    published = [r for r in rows if r.level == "results" and r.bid is not None]
    if published:
        _results(published)


def _active(r: Row) -> bool:
    return r.bid is not None and r.bid.status == "active" and r.bid.revision_count > 0


def _level(r: Row, org: Organization | None) -> str:
    """As the notice's offers table would show it (bids.offers.viewer_level); once results
    are published a participant sees its own results."""
    if r.tender.status == "results_published":
        return "results" if _active(r) else "count"
    if r.tender.status in ("draft", "cancelled"):
        return "count"
    return offers.viewer_level(r.tender, org, _active(r))


def _participants(tender_ids: list[int]) -> dict[int, int]:
    return dict(
        db.session.execute(
            select(Bid.tender_id, func.count())
            .where(Bid.tender_id.in_(tender_ids), Bid.status == "active")
            .group_by(Bid.tender_id)
        ).all()
    )


def followed_ids(user_id: int, tender_ids: list[int]) -> set[int]:
    return set(
        db.session.execute(
            select(TenderFollow.tender_id).where(
                TenderFollow.user_id == user_id, TenderFollow.tender_id.in_(tender_ids)
            )
        ).scalars()
    )


def _per_lot(bid_ids: list[int]):
    """Per bid and lot: positions priced, own total, the sum of the best offers on those
    positions, and on how many it leads (ties: the earlier revision first)."""
    own_rev, own_line = aliased(BidRevision), aliased(BidLine)
    rival, rival_rev, rival_line = aliased(Bid), aliased(BidRevision), aliased(BidLine)
    better = or_(
        rival_line.unit_price < own_line.unit_price,
        and_(
            rival_line.unit_price == own_line.unit_price,
            rival_rev.accepted_at < own_rev.accepted_at,
        ),
    )
    per_position = (
        select(
            Bid.id.label("bid_id"),
            Position.lot_id.label("lot_id"),
            own_line.total.label("own_total"),
            func.min(rival_line.total).label("best_total"),
            func.sum(case((better, 1), else_=0)).label("ahead"),
        )
        .select_from(Bid)
        .join(own_rev, (own_rev.bid_id == Bid.id) & (own_rev.number == Bid.revision_count))
        .join(own_line, own_line.revision_id == own_rev.id)
        .join(Position, Position.id == own_line.position_id)
        .join(rival, (rival.tender_id == Bid.tender_id) & (rival.status == "active"))
        .join(
            rival_rev,
            (rival_rev.bid_id == rival.id) & (rival_rev.number == rival.revision_count),
        )
        .join(
            rival_line,
            (rival_line.revision_id == rival_rev.id)
            & (rival_line.position_id == own_line.position_id),
        )
        .where(Bid.id.in_(bid_ids))
        .group_by(Bid.id, Position.lot_id, own_line.id, own_line.total)
        .subquery()
    )
    return db.session.execute(
        select(
            per_position.c.bid_id,
            per_position.c.lot_id,
            func.count(),
            func.sum(per_position.c.own_total),
            func.sum(per_position.c.best_total),
            func.sum(case((per_position.c.ahead == 0, 1), else_=0)),
        ).group_by(per_position.c.bid_id, per_position.c.lot_id)
    ).all()


def _whole_lot_offers(tender_ids: list[int]) -> dict[int, list[rules.Offer]]:
    """lot id -> every active bid's total on that whole lot."""
    rows = db.session.execute(
        select(Bid.id, Position.lot_id, func.sum(BidLine.total), BidRevision.accepted_at)
        .join(BidRevision, _latest())
        .join(BidLine, BidLine.revision_id == BidRevision.id)
        .join(Position, Position.id == BidLine.position_id)
        .join(Lot, Lot.id == Position.lot_id)
        .where(Bid.tender_id.in_(tender_ids), Bid.status == "active", Lot.award_mode == "whole_lot")
        .group_by(Bid.id, Position.lot_id, BidRevision.accepted_at)
    ).all()
    out: dict[int, list[rules.Offer]] = {}
    for bid_id, lot_id, total, at in rows:
        out.setdefault(lot_id, []).append(rules.Offer(bid_id, Decimal(total), at))
    return out


def _standings(rows: list[Row]) -> None:
    by_bid = {r.bid.id: r for r in rows}
    lots = {
        lot.id: lot
        for lot in db.session.execute(
            select(Lot.id, Lot.number, Lot.title, Lot.award_mode).where(
                Lot.tender_id.in_({r.tender.id for r in rows})
            )
        ).all()
    }
    whole_tenders = {r.tender.id for r in rows}
    whole = (
        _whole_lot_offers(list(whole_tenders))
        if any(lot.award_mode == "whole_lot" for lot in lots.values())
        else {}
    )
    for bid_id, lot_id, count, own_total, best_total, leading in _per_lot(list(by_bid)):
        lot = lots[lot_id]
        ranked = rules.lot_rank(bid_id, whole[lot_id]) if lot_id in whole else None
        by_bid[bid_id].lots.append(
            rules.lot_standing(
                lot.number,
                lot.title,
                lot.award_mode,
                count,
                Decimal(own_total),
                Decimal(best_total),
                int(leading),
                ranked,
            )
        )
    for r in rows:
        r.lots.sort(key=lambda s: s.lot)


def _results(rows: list[Row]) -> None:
    by_bid = {r.bid.id: r for r in rows}
    found = db.session.execute(
        select(
            AwardOffer.bid_id,
            Award.lot_number,
            Award.position_number,
            Award.award_mode,
            Award.status,
            Award.winner_bid_id,
            Award.price,
            AwardOffer.status,
            AwardOffer.rank,
            AwardOffer.unit_price,
            AwardOffer.total,
        )
        .join(Award, Award.id == AwardOffer.award_id)
        .where(AwardOffer.bid_id.in_(list(by_bid)))
        .order_by(AwardOffer.bid_id, Award.sort_key)
    ).all()
    units: dict[int, list[rules.Unit]] = {}
    won_totals: dict[int, list[Decimal]] = {}
    for bid_id, lot, position, mode, status, winner, price, o_status, rank, unit, total in found:
        outcome = rules.unit_outcome(bid_id, winner, o_status, status)
        own_price = unit if unit is not None else total
        units.setdefault(bid_id, []).append(
            rules.Unit(lot, position, mode, outcome, rank, own_price, price)
        )
        if outcome == "won":
            won_totals.setdefault(bid_id, []).append(total)
    for bid_id, r in by_bid.items():
        r.results = rules.summarize(units.get(bid_id, []), won_totals.get(bid_id, []))
