"""The evaluation at the close: its inputs read from the bids, stored as awards and ranked
offers, recomputed in part after a disqualification. Services flush; the entrypoint commits."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, or_, select

from audit.service import record
from bids import rules as bid_rules
from bids.models import Bid, BidCriterionValue, BidLine, BidRevision
from core import bulk, clock
from core.errors import Conflict
from core.extensions import db
from core.transaction import dialect, lock
from positions.models import Position
from results import rules as ev
from results.models import Award, AwardOffer, Disqualification, ResultSet
from results.review import chain
from tenders.models import Tender


def _value(kind: str, text: str) -> object:
    if kind == "number":
        try:
            return Decimal(text)
        except InvalidOperation:
            return None
    if kind == "boolean":
        return {"true": True, "false": False}.get(text)
    return text


def lot_defs(
    tender: Tender, lot_ids: set[int] | None = None, position_ids: set[int] | None = None
) -> list[ev.LotDef]:
    """The tender's lots as the evaluation reads them: optionally only some lots, and of their
    per_position lots only some positions (whole lots always come complete)."""
    lots = [lot for lot in tender.lots if lot_ids is None or lot.id in lot_ids]
    whole = {lot.id for lot in lots if lot.award_mode == "whole_lot"}
    ids = [lot.id for lot in lots]
    rows = db.session.execute(
        select(
            Position.id,
            Position.lot_id,
            Position.number,
            Position.name,
            Position.quantity,
            Position.max_unit_price,
        )
        .where(Position.lot_id.in_(ids))
        .order_by(Position.lot_id, Position.sort_key)
    ).all()
    positions: dict[int, list[ev.PositionDef]] = defaultdict(list)
    for r in rows:
        if position_ids is not None and r.lot_id not in whole and r.id not in position_ids:
            continue
        positions[r.lot_id].append(
            ev.PositionDef(r.number, r.quantity, r.max_unit_price, r.id, r.name)
        )
    return [
        ev.LotDef(
            number=lot.number,
            award_mode=lot.award_mode,
            positions=tuple(positions[lot.id]),
            price_weight=lot.price_weight,
            criteria=tuple(
                ev.CriterionDef(
                    c.id,
                    c.name,
                    c.kind,
                    c.weight,
                    c.direction,
                    {o.label: o.score for o in c.options},
                    c.unit,
                )
                for c in lot.criteria
            ),
            id=lot.id,
        )
        for lot in lots
    ]


def standing_bids(tender: Tender) -> list[Bid]:
    """The bids standing at the close (withdrawn ones are not participants)."""
    return list(
        db.session.execute(
            select(Bid)
            .where(Bid.tender_id == tender.id, Bid.status == "active", Bid.revision_count > 0)
            .order_by(Bid.participant_number)
        ).scalars()
    )


def active_disqualifications(tender: Tender) -> list[Disqualification]:
    """Disqualifications in force (not lifted)."""
    return list(
        db.session.execute(
            select(Disqualification)
            .where(Disqualification.tender_id == tender.id, Disqualification.lifted_at.is_(None))
            .order_by(Disqualification.id)
        ).scalars()
    )


def _history_lines(bid_ids: list[int], lot_of: dict[str, int]):
    """revision id -> {position: unit price} and {position: total}, every revision."""
    prices: dict[int, dict[str, Decimal]] = defaultdict(dict)
    totals: dict[int, dict[str, Decimal]] = defaultdict(dict)
    query = (
        select(BidLine.revision_id, BidLine.position_number, BidLine.unit_price, BidLine.total)
        .join(BidRevision, BidRevision.id == BidLine.revision_id)
        .where(BidRevision.bid_id.in_(bid_ids))
    )
    if len(lot_of) <= 2000:  # a recomputation of a few positions reads only their lines
        query = query.where(BidLine.position_number.in_(list(lot_of)))
    for revision_id, number, price, total in db.session.execute(query):
        if number in lot_of:
            prices[revision_id][number] = price
            totals[revision_id][number] = total
    return prices, totals


def _history_values(bid_ids: list[int], kinds: dict[int, str]):
    """revision id -> {lot number: {criterion id: value}}, every revision."""
    values: dict[int, dict[int, dict[int, object]]] = defaultdict(lambda: defaultdict(dict))
    for revision_id, lot_number, criterion_id, text in db.session.execute(
        select(
            BidCriterionValue.revision_id,
            BidCriterionValue.lot_number,
            BidCriterionValue.criterion_id,
            BidCriterionValue.value,
        )
        .join(BidRevision, BidRevision.id == BidCriterionValue.revision_id)
        .where(BidRevision.bid_id.in_(bid_ids))
    ):
        if criterion_id in kinds:
            values[revision_id][lot_number][criterion_id] = _value(kinds[criterion_id], text)
    return values


def _exclusions(tender: Tender, lots: list[ev.LotDef]):
    """bid id -> reason (whole tender), bid id -> {lot number: reason}."""
    lot_numbers = {lot.id: lot.number for lot in lots}
    whole: dict[int, str] = {}
    by_lot: dict[int, dict[int, str]] = defaultdict(dict)
    for d in active_disqualifications(tender):
        if d.lot_id is None:
            whole[d.bid_id] = d.reason
        elif d.lot_id in lot_numbers:
            by_lot[d.bid_id][lot_numbers[d.lot_id]] = d.reason
    return whole, by_lot


def bid_inputs(
    tender: Tender, lots: list[ev.LotDef], bids: list[Bid] | None = None
) -> list[ev.BidInput]:
    """Each standing bid's final offer, when each line was first offered as it stands (from
    its revision history), and its disqualifications."""
    bids = standing_bids(tender) if bids is None else bids
    if not bids:
        return []
    lot_of = {p.number: lot.number for lot in lots for p in lot.positions}
    ids = [b.id for b in bids]
    prices, totals = _history_lines(ids, lot_of)
    values = _history_values(ids, {c.id: c.kind for lot in lots for c in lot.criteria})
    history: dict[int, list] = defaultdict(list)
    last: dict[int, int] = {}
    for revision_id, bid_id, accepted_at in db.session.execute(
        select(BidRevision.id, BidRevision.bid_id, BidRevision.accepted_at)
        .where(BidRevision.bid_id.in_(ids))
        .order_by(BidRevision.bid_id, BidRevision.number)
    ):
        history[bid_id].append((accepted_at, prices[revision_id], values[revision_id]))
        last[bid_id] = revision_id
    whole, by_lot = _exclusions(tender, lots)
    out = []
    for bid in bids:
        if bid.id not in last:
            continue
        final = last[bid.id]
        since = bid_rules.first_offered(history[bid.id], lot_of)
        out.append(
            ev.BidInput(
                bid_id=bid.id,
                participant_number=bid.participant_number,
                organization_id=bid.organization_id,
                lines={
                    n: ev.OfferedLine(p, since[n], totals[final][n])
                    for n, p in prices[final].items()
                },
                criteria={
                    (lot, cid): v for lot, vs in values[final].items() for cid, v in vs.items()
                },
                disqualified=whole.get(bid.id),
                disqualified_lots=dict(by_lot.get(bid.id, {})),
            )
        )
    return out


# -- storing the evaluation ------------------------------------------------------------------


def value_text(value: object) -> str | None:
    """A stored value as text: None stays None, booleans as true/false."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def breakdown_json(b: ev.Breakdown) -> dict:
    """A breakdown as stored and shown (decimals as strings)."""
    return {
        "price_weight": str(b.price_weight),
        "best_price": str(b.best_price),
        "price_points": str(b.price_points),
        "criteria": [
            {
                "criterion_id": p.criterion_id,
                "name": p.name,
                "value": value_text(p.value),
                "best": value_text(p.best),
                "ratio": str(p.ratio),
                "weight": str(p.weight),
                "points": str(p.points),
            }
            for p in b.criteria
        ],
    }


def _store(tender: Tender, lots: list[ev.LotDef], evaluation: ev.Evaluation) -> None:
    lot_ids = {lot.number: lot.id for lot in lots}
    positions = {(lot.number, p.number): p.id for lot in lots for p in lot.positions}
    sort_keys = dict(
        db.session.execute(
            select(Position.id, Position.sort_key).where(Position.tender_id == tender.id)
        ).all()
    )
    rows = []
    for result in evaluation.results:
        position_id = positions.get((result.lot_number, result.position_number))
        winner = result.winner
        rows.append(
            {
                "tender_id": tender.id,
                "lot_id": lot_ids[result.lot_number],
                "position_id": position_id,
                "lot_number": result.lot_number,
                "position_number": result.position_number,
                "sort_key": f"{result.lot_number:06d}/{sort_keys.get(position_id, '')}",
                "award_mode": result.award_mode,
                "status": result.status,
                "winner_bid_id": winner.bid_id if winner else None,
                "price": winner.price if winner else None,
                "total": winner.total if winner else None,
                "score": winner.score if winner else None,
                "reference_total": result.reference_total,
                "savings": result.savings,
                "offers_count": len(result.offers),
            }
        )
    if not rows:
        return
    # One multi-row INSERT ... RETURNING per batch, ids in the order of the rows.
    award_ids = (
        db.session.execute(insert(Award).returning(Award.id, sort_by_parameter_order=True), rows)
        .scalars()
        .all()
    )
    copy = dialect() == "postgresql"
    batch: list[tuple] = []
    for row in _offer_rows(award_ids, evaluation, as_text=copy):
        batch.append(row)
        if len(batch) >= 20_000:
            _insert_offers(batch, copy)
            batch = []
    if batch:
        _insert_offers(batch, copy)


_OFFER_COLUMNS = (
    "award_id",
    "bid_id",
    "sort_order",
    "rank",
    "status",
    "reason",
    "unit_price",
    "total",
    "score",
    "price_points",
    "breakdown",
    "first_offered_at",
)


def _offer_rows(award_ids: list[int], evaluation: ev.Evaluation, as_text: bool):
    """award_offers rows in column order. The criteria parts of breakdowns are shared objects
    (see results.rules), so their JSON is made once per distinct combination."""
    fragments: dict[tuple[int, ...], object] = {}
    for award_id, result in zip(award_ids, evaluation.results, strict=True):
        for order, offer in enumerate(result.offers + result.excluded):
            b = offer.breakdown
            key = tuple(map(id, b.criteria))
            criteria = fragments.get(key)
            if criteria is None:
                criteria = breakdown_json(b)["criteria"]
                if as_text:
                    criteria = json.dumps(criteria, ensure_ascii=False)
                fragments[key] = criteria
            if as_text:
                breakdown: object = (
                    f'{{"price_weight": "{b.price_weight}", "best_price": "{b.best_price}", '
                    f'"price_points": "{b.price_points}", "criteria": {criteria}}}'
                )
            else:
                breakdown = {
                    "price_weight": str(b.price_weight),
                    "best_price": str(b.best_price),
                    "price_points": str(b.price_points),
                    "criteria": criteria,
                }
            yield (
                award_id,
                offer.bid_id,
                order,
                offer.rank,
                offer.status,
                offer.reason,
                offer.unit_price,
                offer.total,
                offer.score,
                b.price_points,
                breakdown,
                offer.first_offered_at,
            )


def _insert_offers(rows: list[tuple], copy: bool) -> None:
    """Store ranked offers: COPY on PostgreSQL (a 10,000 x 30 tender is 300,000 rows; per-row
    parameter binding made that take a minute), a multi-row insert elsewhere."""
    if copy and bulk.copy_csv("award_offers", _OFFER_COLUMNS, rows):  # None -> empty -> NULL
        return
    if copy:  # the COPY waited for a lock too long: the JSON breakdowns are text by now
        rows = [r[:10] + (json.loads(r[10]),) + r[11:] for r in rows]
    db.session.execute(
        AwardOffer.__table__.insert(), [dict(zip(_OFFER_COLUMNS, r, strict=True)) for r in rows]
    )


def _summarize(tender: Tender, result_set: ResultSet) -> None:
    row = db.session.execute(
        select(
            func.count().filter(Award.status == "awarded"),
            func.count().filter(Award.status == "unsuccessful"),
        ).where(Award.tender_id == tender.id)
    ).one()
    savings = db.session.execute(
        select(func.sum(Award.reference_total), func.sum(Award.savings)).where(
            Award.tender_id == tender.id, Award.savings.is_not(None)
        )
    ).one()
    result_set.awarded, result_set.unsuccessful = row[0], row[1]
    result_set.reference_total = savings[0] or Decimal(0)
    result_set.savings = savings[1] or Decimal(0)
    result_set.participants = len(standing_bids(tender))
    result_set.version += 1
    result_set.evaluated_at = clock.now()


# What to recompute: (lot ids, position ids). Whole lots among the lots are recomputed whole;
# of per_position lots only the positions given (None: all their positions).
Scope = tuple[set[int], set[int] | None]


def recompute(tender: Tender, scope: Scope | None = None) -> ResultSet:
    """(Re)compute awards (all, or a scope) and store them in place of the old ones."""
    result_set = db.session.get(ResultSet, tender.id)
    if result_set is None:  # never evaluated: everything, not only the scope asked for
        result_set = ResultSet(tender_id=tender.id, version=0)
        db.session.add(result_set)
        scope = None
    condition = [Award.tender_id == tender.id]
    if scope is None:
        lots = lot_defs(tender)
    else:
        lot_ids, position_ids = scope
        lots = lot_defs(tender, lot_ids, position_ids)
        if position_ids is None:
            condition.append(Award.lot_id.in_(list(lot_ids)))
        else:
            condition.append(
                or_(
                    Award.position_id.in_(list(position_ids)),
                    Award.position_id.is_(None) & Award.lot_id.in_(list(lot_ids)),
                )
            )
    stale = select(Award.id).where(*condition)
    db.session.execute(delete(AwardOffer).where(AwardOffer.award_id.in_(stale)))
    db.session.execute(delete(Award).where(*condition))
    _store(tender, lots, ev.evaluate(lots, bid_inputs(tender, lots)))
    db.session.flush()
    _summarize(tender, result_set)
    db.session.flush()
    return result_set


def bid_lot_ids(bid: Bid) -> set[int]:
    """The lots of a bid's latest revision."""
    return set(
        db.session.execute(
            select(Position.lot_id)
            .join(BidLine, BidLine.position_id == Position.id)
            .join(BidRevision, BidRevision.id == BidLine.revision_id)
            .where(BidRevision.bid_id == bid.id, BidRevision.number == bid.revision_count)
            .distinct()
        ).scalars()
    )


def scope_of(tender: Tender, bid: Bid, lot_id: int | None = None) -> Scope:
    """The awards a bid takes part in (optionally in one lot): only their rankings can change
    when it is disqualified or reinstated (a best value is taken among a unit's offers)."""
    query = (
        select(Award.lot_id, Award.position_id)
        .join(AwardOffer, AwardOffer.award_id == Award.id)
        .where(Award.tender_id == tender.id, AwardOffer.bid_id == bid.id)
    )
    if lot_id is not None:
        query = query.where(Award.lot_id == lot_id)
    rows = db.session.execute(query).all()
    if not rows:  # nothing stored for it (yet): its lots, whole
        lots = bid_lot_ids(bid)
        return ({lot_id} & lots if lot_id is not None else lots), None
    return {r.lot_id for r in rows}, {r.position_id for r in rows if r.position_id is not None}


def evaluate_tender(tender_id: int) -> bool:
    """The evaluation after the close (job): stores the proposed results once."""
    tender = lock(Tender, tender_id)
    if tender is None or tender.status != "closed":
        return False
    if db.session.get(ResultSet, tender.id) is not None:
        return False  # already evaluated (recomputed by disqualifications since)
    result_set = recompute(tender)
    record(
        "tender.evaluated",
        "tender",
        tender.id,
        {
            "version": result_set.version,
            "awarded": result_set.awarded,
            "unsuccessful": result_set.unsuccessful,
        },
        chain=chain(tender),
    )
    return True


class EvaluationPending(Conflict):
    """The evaluation after the close has not been stored yet (its job runs, or the sweeper
    will run it again): nothing to show or publish yet."""

    code = "evaluation_pending"


def require_evaluated(tender: Tender) -> ResultSet:
    """The stored result set of a closed tender, or EvaluationPending. Requests never compute
    it: that is the job's (results.jobs.evaluate_missing re-runs a lost one)."""
    result_set = db.session.get(ResultSet, tender.id)
    if result_set is None:
        raise EvaluationPending(
            _(
                "The offers of tender %(number)s are being evaluated. Try again in a minute.",
                number=tender.number,
            )
        )
    return result_set
