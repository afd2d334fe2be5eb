"""The table of offers (positions x participants) as each viewer may see it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from blinker import Namespace
from sqlalchemy import func, select

from accounts.models import Organization, User
from accounts.service import member_sees
from audit.models import AuditChain
from bids import rules
from bids.models import Bid, BidCriterionValue, BidLine, BidRevision
from core import clock, live
from core.chains import tender_chain
from core.extensions import db
from positions.models import Position
from tenders import closing, sockets
from tenders.models import Tender

_signals = Namespace()
# Sent by table() once a tender's results are published, with the tender and the keywords
# org, page and per_page: the results (a package above bids) answer with the offers as the
# published results let that viewer see them (names, each offer's fate), or None.
published_offers = _signals.signal("offers-after-results")
# Sent by criteria_block() after the close, with the tender and the keywords lot_ids and
# bid_ids: the results answer {(lot id, bid id): {"score": Decimal | None, "points":
# {criterion id: Decimal}}} from the evaluation (a package above bids), or None.
offer_scores = _signals.signal("offer-scores")


def _viewer(tender: Tender, org: Organization | None) -> str:
    if org is None:
        return "public"
    return "customer" if org.id == tender.customer_id else "supplier"


def _latest_revisions(tender: Tender) -> list[tuple[Bid, BidRevision]]:
    rows = db.session.execute(
        select(Bid, BidRevision)
        .join(
            BidRevision, (BidRevision.bid_id == Bid.id) & (BidRevision.number == Bid.revision_count)
        )
        .where(Bid.tender_id == tender.id, Bid.status == "active")
        .order_by(Bid.participant_number)
    ).all()
    return [(bid, revision) for bid, revision in rows]


def viewer_level(tender: Tender, org: Organization | None, has_own_bid: bool) -> str:
    """What this viewer may see of the tender's offers now (bids.rules.visibility_level)."""
    return rules.visibility_level(
        tender.visibility,
        viewer=_viewer(tender, org),
        has_own_bid=has_own_bid,
        bidding_open=tender.status == "published" and clock.now() < tender.bid_deadline,
    )


def page_positions(tender: Tender, page: int, per_page: int) -> list[Position]:
    """One page of the tender's positions in the offers tables' order (lot, then position)."""
    return list(
        db.session.execute(
            select(Position)
            .where(Position.tender_id == tender.id)
            .order_by(Position.lot_id, Position.sort_key)
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).scalars()
    )


def table(tender: Tender, org: Organization | None, page: int = 1, per_page: int = 100) -> dict:
    """The offers of one page of positions, cut to what this viewer may see. Once results
    are published the results decide (level "results" or "count", `published_offers`)."""
    if tender.status == "results_published":
        for _, answer in published_offers.send(tender, org=org, page=page, per_page=per_page):
            if answer is not None:
                return answer
    active = _latest_revisions(tender)
    mine = next((b for b, _ in active if org is not None and b.organization_id == org.id), None)
    level = viewer_level(tender, org, mine is not None)
    out = {
        "level": level,
        "participants": len(active),
        "columns": [],
        "rows": [],
        "page": page,
        "per_page": per_page,
    }
    if level == "count":
        return out
    positions = page_positions(tender, page, per_page)
    prices = _prices(active, [p.id for p in positions])
    if level == "rank":
        out["rows"] = [_rank_row(p, prices.get(p.id, {}), mine) for p in positions]
        return out
    names = {}
    if level == "named":  # one query for every participant's name
        ids = [bid.organization_id for bid, _ in active]
        names = dict(
            db.session.execute(
                select(Organization.id, Organization.name).where(Organization.id.in_(ids))
            ).all()
        )
    out["columns"] = [_column(bid, mine, names) for bid, _ in active]
    out["rows"] = [_offers_row(p, prices.get(p.id, {}), active) for p in positions]
    out["criteria"] = criteria_block(tender, {p.lot_id for p in positions}, [b for b, _ in active])
    return out


def criteria_block(tender: Tender, lot_ids: set[int], bids: list[Bid]) -> list[dict]:
    """The criterion values of these bids' latest revisions on these lots, one column per
    bid in the order given (the offers table's), and after the close each one's points and
    score as evaluated: [{"lot", "title", "award_mode", "rows": [{"criterion", "name",
    "unit", "kind", "required", "weight", "values", "points"}], "scores", "score_kind"}]."""
    if not lot_ids or not bids:
        return []
    lots = {lot.id: lot for lot in tender.lots if lot.id in lot_ids and lot.criteria}
    if not lots:
        return []
    latest = db.session.execute(
        select(BidCriterionValue.criterion_id, Bid.id, BidCriterionValue.value)
        .join(BidRevision, BidRevision.id == BidCriterionValue.revision_id)
        .join(Bid, (Bid.id == BidRevision.bid_id) & (Bid.revision_count == BidRevision.number))
        .where(
            Bid.id.in_([b.id for b in bids]),
            BidCriterionValue.criterion_id.in_(
                [c.id for lot in lots.values() for c in lot.criteria]
            ),
        )
    ).all()
    values = {(criterion, bid): value for criterion, bid, value in latest}
    scores = _scores(tender, set(lots), [b.id for b in bids])
    out = []
    for lot in sorted(lots.values(), key=lambda x: x.number):
        scored = scores is not None and any((lot.id, b.id) in scores for b in bids)
        cells = [scores.get((lot.id, b.id)) if scored else None for b in bids]
        out.append(
            {
                "lot": lot.number,
                "title": lot.title,
                "award_mode": lot.award_mode,
                "rows": [
                    _criterion_row(c, bids, values, cells if scored else None) for c in lot.criteria
                ],
                "scores": [c["score"] if c else None for c in cells] if scored else None,
                "score_kind": ("score" if lot.award_mode == "whole_lot" else "criteria_points")
                if scored
                else None,
            }
        )
    return out


def _criterion_row(c, bids: list[Bid], values: dict, cells: list | None) -> dict:
    return {
        "criterion": c.id,
        "name": c.name,
        "unit": c.unit,
        "kind": c.kind,
        "required": c.required,
        "weight": c.weight,
        "values": [values.get((c.id, b.id)) for b in bids],
        "points": [(cell or {}).get("points", {}).get(c.id) for cell in cells]
        if cells is not None
        else None,
    }


def _scores(tender: Tender, lot_ids: set[int], bid_ids: list[int]) -> dict | None:
    """After the close, the evaluation's points and scores (results answer `offer_scores`)."""
    if tender.status == "published" and clock.now() < tender.bid_deadline:
        return None
    for _, answer in offer_scores.send(tender, lot_ids=lot_ids, bid_ids=bid_ids):
        if answer is not None:
            return answer
    return None


def unit_prices(tender: Tender, position_ids: list[int]) -> dict[int, dict[int, Decimal]]:
    """position id -> {bid id: unit price} of the active bids' latest revisions (no
    authorization: the caller decides what its viewer may see)."""
    prices = _prices(_latest_revisions(tender), position_ids)
    return {pid: {bid: price for bid, (price, _) in cells.items()} for pid, cells in prices.items()}


def standing(tender: Tender, org: Organization | None, numbers: list[str]) -> dict:
    """The bid form's view of some positions: the best current price, this organization's
    own price and its rank by price, as far as the tender's visibility lets it see them
    (level "rank", "offers" or "named"); level "count" says nothing more than the number of
    bids (sealed, or before one's own bid), "results" that the published results say it."""
    if tender.status == "results_published":
        return {"level": "results", "participants": participants(tender.id), "positions": []}
    active = _latest_revisions(tender)
    mine = next((b for b, _ in active if org is not None and b.organization_id == org.id), None)
    level = viewer_level(tender, org, mine is not None)
    out: dict = {"level": level, "participants": len(active), "positions": []}
    if level == "count" or not numbers:
        return out
    positions = (
        db.session.execute(
            select(Position)
            .where(Position.tender_id == tender.id, Position.number.in_(numbers))
            .order_by(Position.lot_id, Position.sort_key)
        )
        .scalars()
        .all()
    )
    prices = _prices(active, [p.id for p in positions])
    for p in positions:
        row = _rank_row(p, prices.get(p.id, {}), mine)
        out["positions"].append(
            {k: row[k] for k in ("position", "best_price", "own_price", "own_rank")}
        )
    return out


def _prices(active, position_ids: list[int]) -> dict[int, dict[int, tuple[Decimal, dt.datetime]]]:
    """position id -> {bid id: (unit price, accepted_at of that revision)}."""
    by_revision = {revision.id: (bid.id, revision.accepted_at) for bid, revision in active}
    if not by_revision or not position_ids:
        return {}
    lines = db.session.execute(
        select(BidLine.revision_id, BidLine.position_id, BidLine.unit_price).where(
            BidLine.revision_id.in_(list(by_revision)), BidLine.position_id.in_(position_ids)
        )
    ).all()
    out: dict[int, dict[int, tuple[Decimal, dt.datetime]]] = {}
    for revision_id, position_id, price in lines:
        bid_id, at = by_revision[revision_id]
        out.setdefault(position_id, {})[bid_id] = (price, at)
    return out


def _column(bid: Bid, mine: Bid | None, names: dict[int, str]) -> dict:
    label = names.get(bid.organization_id) or f"Participant {bid.participant_number}"
    return {
        "participant": bid.participant_number,
        "label": label,
        "own": mine is not None and bid.id == mine.id,
    }


def _base_row(p: Position, cells: dict) -> dict:
    best = min((price for price, _ in cells.values()), default=None)
    return {"position": p.number, "name": p.name, "quantity": p.quantity, "best_price": best}


def _offers_row(p: Position, cells: dict, active) -> dict:
    row = _base_row(p, cells)
    row["prices"] = [cells.get(bid.id, (None, None))[0] for bid, _ in active]
    return row


def _rank_row(p: Position, cells: dict, mine: Bid | None) -> dict:
    row = _base_row(p, cells)
    own = cells.get(mine.id) if mine is not None else None
    row["own_price"] = own[0] if own else None
    if own:
        ahead = [c for bid_id, c in cells.items() if bid_id != mine.id and c < own]
        row["own_rank"] = len(ahead) + 1  # equal prices: the earlier offer ranks first
    else:
        row["own_rank"] = None
    return row


# -- live: who hears what while bidding is open ----------------------------------------------

# Above this many changed positions a push says only "refresh" (a CSV revision of 50,000
# lines is not sent to every watcher; their pages fetch the page of offers they show).
LIVE_DELTA_MAX = 200


def offers_room(tender_id: int) -> str:
    """Watchers who may see every offer (anonymous): level "offers" or "named"."""
    return f"tender:{tender_id}:offers"


def best_room(tender_id: int) -> str:
    """Watchers who may see only the best prices and their own rank: level "rank"."""
    return f"tender:{tender_id}:best"


def live_room(tender: Tender, org: Organization | None, user: User | None = None) -> str | None:
    """The offers room a watcher joins, by what DESIGN.md's visibility rules let it see now
    (with user: a member who does not see its organization's bid hears nothing of it)."""
    own = (
        db.session.execute(
            select(Bid.status, Bid.responsible_id).where(
                Bid.tender_id == tender.id, Bid.organization_id == org.id
            )
        ).first()
        if org is not None
        else None
    )
    if own is not None and user is not None and not member_sees(user, org.id, {own[1]}):
        return None
    has_own_bid = own is not None and own[0] == "active"
    level = viewer_level(tender, org, has_own_bid)
    if level in ("offers", "named"):
        return offers_room(tender.id)
    return best_room(tender.id) if level == "rank" else None


def _active_bids(tender_id: int):
    return (
        select(func.count())
        .select_from(Bid)
        .where(Bid.tender_id == tender_id, Bid.status == "active")
    )


def participants(tender_id: int) -> int:
    """The number of active bids on a tender (what watchers are told)."""
    return db.session.execute(_active_bids(tender_id)).scalar_one()


def best_prices(tender_id: int, numbers: list[str]) -> tuple[dict[str, Decimal | None], int]:
    """The best current unit price of each position among the active bids, and the number of
    active bids (one query)."""
    active = _active_bids(tender_id).scalar_subquery()
    rows = db.session.execute(
        select(BidLine.position_number, func.min(BidLine.unit_price), active)
        .join(BidRevision, BidRevision.id == BidLine.revision_id)
        .join(Bid, (Bid.id == BidRevision.bid_id) & (Bid.revision_count == BidRevision.number))
        .where(
            Bid.tender_id == tender_id,
            Bid.status == "active",
            BidLine.position_number.in_(numbers),
        )
        .group_by(BidLine.position_number)
    ).all()
    best: dict[str, Decimal | None] = dict.fromkeys(numbers)
    best.update({number: price for number, price, _ in rows})
    return best, (rows[0][2] if rows else participants(tender_id))


def live_delta(visibility: str, prices: dict) -> bool:
    """Whether a change's push names the best price of each changed position (else it asks
    the watchers to refresh, or, sealed, there is no push)."""
    return visibility != "sealed" and len(prices) <= LIVE_DELTA_MAX


def push_changes(
    tender_id: int,
    visibility: str,
    participant: int,
    prices: dict[str, Decimal | None],
    seen: tuple[dict[str, Decimal | None], int] | None = None,
    version: int | None = None,
) -> None:
    """After a revision or a withdrawal has committed: tell each audience what it may see.
    prices: the bidder's new unit price per changed position (None: no longer offered);
    seen: the best prices of those positions and the number of active bids, if the
    transaction that stored the change read them already (else they are read now);
    version: the change's place in the tender's order (tender_version), sent along so that
    a watcher ignores a push older than what it shows."""
    if visibility == "sealed":
        return  # nobody sees offer content before the deadline
    now = clock.now().isoformat()
    small = live_delta(visibility, prices)
    if seen is not None:
        best, count = seen
    elif small:
        best, count = best_prices(tender_id, list(prices))
    else:
        best, count = {}, participants(tender_id)
    common = {"tender_id": tender_id, "participants": count, "server_time": now}
    if version is not None:
        common["version"] = version
    if small:
        common["best"] = _texts(best)
    else:
        common["refresh"] = True
    change = {**common, "participant": participant}
    if small:
        change["prices"] = _texts(prices)
    live.emit_now("offers_changed", change, offers_room(tender_id))
    if visibility == "rank_only":  # the only mode in which anyone watches the best prices only
        live.emit_now("best_prices", common, best_room(tender_id))


def tender_version(tender_id: int) -> int:
    """Where the tender's audit chain stands in this transaction: every accepted revision
    and withdrawal appends to it under the chain head's lock, so this orders the offer
    changes of one tender as they committed."""
    head = db.session.get(AuditChain, tender_chain(tender_id))
    return head.last_seq if head is not None else 0


def _texts(prices: dict[str, Decimal | None]) -> dict[str, str | None]:
    return {n: (f"{p:.2f}" if p is not None else None) for n, p in prices.items()}


@closing.counting_bids.connect
def standing_bids(tender_id: int) -> int:
    """Bids standing at the close: not withdrawn, with at least one accepted revision."""
    return db.session.execute(
        select(func.count())
        .select_from(Bid)
        .where(Bid.tender_id == tender_id, Bid.status == "active", Bid.revision_count > 0)
    ).scalar_one()


@sockets.watching.connect
def watched_room(
    tender: Tender, org: Organization | None = None, user: User | None = None
) -> str | None:
    """The offers room of a watcher of the tender (None: anonymous, or nothing to hear)."""
    return live_room(tender, org, user) if org is not None else None
