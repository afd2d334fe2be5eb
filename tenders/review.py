"""The customer's review after the close: evaluation stored as awards, the comparison table,
its CSV export, disqualification (and lifting it) with a reason, publication of the results.
Services flush; the entrypoint commits once."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, func, insert, or_, select

from accounts.models import Organization, User
from audit.service import record
from bids.models import Bid, BidCriterionValue, BidLine, BidRevision
from core import bulk, clock, jobs, live
from core.errors import Conflict, Invalid, NotFound
from core.extensions import db
from core.transaction import dialect, lock
from notifications.service import record_event
from positions import evaluation as ev
from positions.csv_rules import write_csv
from positions.models import Position
from tenders import rules
from tenders.models import Lot, Tender
from tenders.result_models import Award, AwardOffer, Disqualification, ResultSet
from tenders.service import own_tender
from tenders.sockets import tender_room

REASON_MAX = 2000
MAX_PER_PAGE = 200


def _chain(tender: Tender) -> str:
    return f"tender:{tender.id}"


def _own(user: User, org: Organization | None, tender_id: int, for_update: bool) -> Tender:
    return own_tender(user, org, tender_id, for_update=for_update)


def _require_closed(tender: Tender, action: str) -> None:
    if tender.status == "results_published":
        raise Conflict(
            f"The results of {tender.number} are published and final: they cannot be {action}."
        )
    if tender.status != "closed":
        raise Conflict(
            f"Tender {tender.number} is {tender.status}: {action} needs a closed tender."
        )


# -- the evaluation's inputs -----------------------------------------------------------------


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
        since = ev.first_offered(history[bid.id], lot_of)
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


def _text(value: object) -> str | None:
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
                "value": _text(p.value),
                "best": _text(p.best),
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
    (see positions.evaluation), so their JSON is made once per distinct combination."""
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


def _evaluate(tender: Tender, scope: Scope | None = None) -> ResultSet:
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


def _scope_of(tender: Tender, bid: Bid, lot_id: int | None = None) -> Scope:
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
        lots = _bid_lot_ids(bid)
        return ({lot_id} & lots if lot_id is not None else lots), None
    return {r.lot_id for r in rows}, {r.position_id for r in rows if r.position_id is not None}


def evaluate_tender(tender_id: int) -> bool:
    """The evaluation after the close (job): stores the proposed results once."""
    tender = lock(Tender, tender_id)
    if tender is None or tender.status != "closed":
        return False
    if db.session.get(ResultSet, tender.id) is not None:
        return False  # already evaluated (recomputed by disqualifications since)
    result_set = _evaluate(tender)
    record(
        "tender.evaluated",
        "tender",
        tender.id,
        {
            "version": result_set.version,
            "awarded": result_set.awarded,
            "unsuccessful": result_set.unsuccessful,
        },
        chain=_chain(tender),
    )
    return True


class EvaluationPending(Conflict):
    """The evaluation after the close has not been stored yet (its job runs, or the sweeper
    will run it again): nothing to show or publish yet."""

    code = "evaluation_pending"


def require_evaluated(tender: Tender) -> ResultSet:
    """The stored result set of a closed tender, or EvaluationPending. Requests never compute
    it: that is the job's (tenders.jobs.evaluate_missing re-runs a lost one)."""
    result_set = db.session.get(ResultSet, tender.id)
    if result_set is None:
        raise EvaluationPending(
            f"The offers of tender {tender.number} are being evaluated. Try again in a minute."
        )
    return result_set


# -- disqualification ------------------------------------------------------------------------


def _bid_by_participant(tender: Tender, participant: int) -> Bid:
    bid = db.session.execute(
        select(Bid).where(Bid.tender_id == tender.id, Bid.participant_number == participant)
    ).scalar_one_or_none()
    if bid is None or bid.status != "active" or bid.revision_count == 0:
        raise Invalid(
            f"Participant {participant} has no standing bid on {tender.number}.",
            {"participant": [f"No standing bid of participant {participant}."]},
        )
    return bid


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Give the reason.", {"reason": ["A reason is required."]})
    if len(reason) > REASON_MAX:
        raise Invalid("The reason is too long.", {"reason": [f"At most {REASON_MAX} characters."]})
    return reason


def _bid_lot_ids(bid: Bid) -> set[int]:
    return set(
        db.session.execute(
            select(Position.lot_id)
            .join(BidLine, BidLine.position_id == Position.id)
            .join(BidRevision, BidRevision.id == BidLine.revision_id)
            .where(BidRevision.bid_id == bid.id, BidRevision.number == bid.revision_count)
            .distinct()
        ).scalars()
    )


def disqualify(
    user: User,
    org: Organization | None,
    tender_id: int,
    participant: int,
    lot_number: int | None,
    reason: str,
) -> Disqualification:
    """Disqualify a bid for the whole tender (lot None) or one lot; the ranking recomputes."""
    tender = _own(user, org, tender_id, for_update=True)
    _require_closed(tender, "disqualified")
    reason = _clean_reason(reason)
    bid = _bid_by_participant(tender, participant)
    lot = None
    if lot_number is not None:
        lot = next((x for x in tender.lots if x.number == lot_number), None)
        if lot is None:
            raise Invalid(
                f"No lot {lot_number}.", {"lot": [f"{tender.number} has no lot {lot_number}."]}
            )
    current = [d for d in active_disqualifications(tender) if d.bid_id == bid.id]
    if any(d.lot_id is None for d in current):
        raise Conflict(f"Participant {participant} is already disqualified for the whole tender.")
    if lot is not None and any(d.lot_id == lot.id for d in current):
        raise Conflict(f"Participant {participant} is already disqualified for lot {lot.number}.")
    bid_lots = _bid_lot_ids(bid)
    if lot is not None and lot.id not in bid_lots:
        raise Invalid(
            f"Participant {participant} did not bid on lot {lot.number}.",
            {"lot": [f"No offer of participant {participant} in lot {lot.number}."]},
        )
    d, payload = add_disqualification(tender, user, bid, lot, reason)
    record_event("bid.disqualified", tender.id, {"number": tender.number, **payload})
    _evaluate(tender, _scope_of(tender, bid, lot.id if lot else None))
    return d


def add_disqualification(
    tender: Tender, user: User, bid: Bid, lot: Lot | None, reason: str, **audit_extra
) -> tuple[Disqualification, dict]:
    """Store a checked disqualification and audit it; returns it with the audit payload."""
    d = Disqualification(
        tender_id=tender.id,
        bid_id=bid.id,
        lot_id=lot.id if lot else None,
        reason=reason,
        created_by_id=user.id,
        created_at=clock.now(),
    )
    db.session.add(d)
    db.session.flush()
    payload = {
        "disqualification": d.id,
        "participant": bid.participant_number,
        "bid_id": bid.id,
        "organization_id": bid.organization_id,
        "lot": lot.number if lot else None,
        "reason": reason,
        **audit_extra,
    }
    record(
        "bid.disqualified",
        "bid",
        bid.id,
        payload,
        actor_user_id=user.id,
        actor_org_id=tender.customer_id,
        chain=_chain(tender),
    )
    return d, payload


def lift(
    user: User, org: Organization | None, tender_id: int, disqualification_id: int, reason: str
) -> Disqualification:
    """Lift a disqualification before publication (kept, with who lifted it and why)."""
    tender = _own(user, org, tender_id, for_update=True)
    _require_closed(tender, "changed")
    reason = _clean_reason(reason)
    d = db.session.get(Disqualification, disqualification_id)
    if d is None or d.tender_id != tender.id:
        raise NotFound("No such disqualification.")
    if d.lifted_at is not None:
        raise Conflict("This disqualification was already lifted.")
    bid = db.session.get(Bid, d.bid_id)
    reinstate(tender, user, d, bid, reason)
    _evaluate(tender, _scope_of(tender, bid, d.lot_id))
    return d


def reinstate(
    tender: Tender, user: User, d: Disqualification, bid: Bid, reason: str, **audit_extra
) -> None:
    """Lift a checked disqualification (kept, with who lifted it and why) and audit it."""
    d.lifted_at, d.lifted_by_id, d.lift_reason = clock.now(), user.id, reason
    record(
        "bid.reinstated",
        "bid",
        bid.id,
        {
            "disqualification": d.id,
            "participant": bid.participant_number,
            "reason": reason,
            **audit_extra,
        },
        actor_user_id=user.id,
        actor_org_id=tender.customer_id,
        chain=_chain(tender),
    )
    db.session.flush()


# -- publication -----------------------------------------------------------------------------


def results_digest(tender: Tender) -> str:
    """SHA-256 over the stored results (awards and ranked offers, in order, as JSON)."""
    h = hashlib.sha256()
    rows = db.session.execute(
        select(
            Award.id,
            Award.lot_number,
            Award.position_number,
            Award.status,
            Award.price,
            AwardOffer.bid_id,
            AwardOffer.rank,
            AwardOffer.status,
            AwardOffer.total,
            AwardOffer.score,
            AwardOffer.breakdown,
        )
        .outerjoin(AwardOffer, AwardOffer.award_id == Award.id)
        .where(Award.tender_id == tender.id)
        .order_by(Award.sort_key, AwardOffer.sort_order)
    )
    current = None
    for award_id, lot, position, status, price, bid_id, rank, o_status, total, score, bd in rows:
        if award_id != current:
            current = award_id
            h.update(json.dumps([lot, position, status, _text(price)]).encode())
        if bid_id is not None:
            h.update(
                json.dumps(
                    [bid_id, rank, o_status, _text(total), _text(score), bd],
                    ensure_ascii=False,
                    sort_keys=True,
                ).encode()
            )
    return h.hexdigest()


def publish(user: User, org: Organization | None, tender_id: int) -> ResultSet:
    """Publish the results (final): closed -> results_published, audited, participants told."""
    tender = _own(user, org, tender_id, for_update=True)
    try:
        rules.check_transition(tender.status, "results_published")
    except rules.TransitionRefused as exc:
        raise Conflict(str(exc)) from None
    result_set = require_evaluated(tender)
    now = clock.now()
    result_set.published_at, result_set.published_by_id = now, user.id
    result_set.digest = results_digest(tender)
    tender.status, tender.updated_at = "results_published", now
    payload = {
        "digest": result_set.digest,
        "version": result_set.version,
        "awarded": result_set.awarded,
        "unsuccessful": result_set.unsuccessful,
        "reference_total": str(result_set.reference_total),
        "savings": str(result_set.savings),
    }
    record(
        "tender.results_published",
        "tender",
        tender.id,
        payload,
        actor_user_id=user.id,
        actor_org_id=tender.customer_id,
        chain=_chain(tender),
    )
    record_event(
        "tender.results_published",
        tender.id,
        {
            "number": tender.number,
            "awarded": result_set.awarded,
            "unsuccessful": result_set.unsuccessful,
        },
    )
    live.emit(
        "results_published",
        {"tender_id": tender.id, "status": tender.status, "published_at": now.isoformat()},
        tender_room(tender.id),
    )
    jobs.enqueue("reports.jobs.generate_protocol", tender.id, job_id=f"protocol-{tender.id}")
    db.session.flush()
    return result_set


# -- the comparison table --------------------------------------------------------------------


def participants(tender: Tender) -> list[dict]:
    """The standing bids with their organizations (names revealed after the close)."""
    rows = db.session.execute(
        select(Bid, Organization)
        .join(Organization, Organization.id == Bid.organization_id)
        .where(Bid.tender_id == tender.id, Bid.status == "active", Bid.revision_count > 0)
        .order_by(Bid.participant_number)
    ).all()
    out_whole = {d.bid_id: d for d in active_disqualifications(tender) if d.lot_id is None}
    return [
        {
            "participant": bid.participant_number,
            "bid_id": bid.id,
            "organization_id": o.id,
            "name": o.name,
            "inn": o.inn,
            "disqualified": out_whole[bid.id].reason if bid.id in out_whole else None,
        }
        for bid, o in rows
    ]


def _award_query(tender: Tender, filters: dict):
    query = select(Award).where(Award.tender_id == tender.id)
    if filters.get("lot"):
        query = query.where(Award.lot_number == filters["lot"])
    if filters.get("status"):
        query = query.where(Award.status == filters["status"])
    if filters.get("q"):
        q = filters["q"]
        names = select(Position.id).where(
            Position.tender_id == tender.id,
            or_(Position.number == q, Position.name.ilike(f"%{q}%")),
        )
        query = query.where(or_(Award.position_id.in_(names), Award.position_number == q))
    if filters.get("participant"):
        bid_id = select(Bid.id).where(
            Bid.tender_id == tender.id, Bid.participant_number == filters["participant"]
        )
        if filters.get("winner"):
            query = query.where(Award.winner_bid_id.in_(bid_id))
        else:
            query = query.where(
                Award.id.in_(select(AwardOffer.award_id).where(AwardOffer.bid_id.in_(bid_id)))
            )
    return query


def comparison(tender: Tender, filters: dict, page: int = 1, per_page: int = 50) -> dict:
    """One page of the comparison table: awards (positions, whole lots) x participants."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    query = _award_query(tender, filters)
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    awards = (
        db.session.execute(
            query.order_by(Award.sort_key).limit(per_page).offset((page - 1) * per_page)
        )
        .scalars()
        .all()
    )
    people = participants(tender)
    columns = {p["bid_id"]: i for i, p in enumerate(people)}
    award_ids = [a.id for a in awards]
    cells: dict[int, list] = {a.id: [None] * len(people) for a in awards}
    if award_ids:
        for o in db.session.execute(
            select(AwardOffer).where(AwardOffer.award_id.in_(award_ids))
        ).scalars():
            if o.bid_id in columns:
                cells[o.award_id][columns[o.bid_id]] = o
    positions = {
        p.id: p
        for p in db.session.execute(
            select(Position).where(
                Position.id.in_([a.position_id for a in awards if a.position_id])
            )
        ).scalars()
    }
    lots = {lot.id: lot for lot in tender.lots}
    rows = []
    for a in awards:
        winner = next((i for i, c in enumerate(cells[a.id]) if c and c.rank == 1), None)
        rows.append(
            {
                "award": a,
                "lot": lots.get(a.lot_id),
                "position": positions.get(a.position_id),
                "cells": cells[a.id],
                "winner": people[winner] if winner is not None else None,
                "savings_percent": ev.percent(a.savings, a.reference_total),
            }
        )
    result_set = db.session.get(ResultSet, tender.id)
    return {
        "participants": people,
        "rows": rows,
        "total": total,
        "page": page,
        "per_page": per_page,
        "pages": max(1, -(-total // per_page)),
        "result_set": result_set,
        "savings_percent": ev.percent(
            result_set.savings if result_set else None,
            result_set.reference_total if result_set else None,
        ),
        "criteria": lot_criteria_values(tender, people),
        "disqualifications": disqualification_list(tender),
    }


def lot_criteria_values(tender: Tender, people: list[dict]) -> list[dict]:
    """Per lot with criteria: each participant's final criterion values."""
    lots = [lot for lot in tender.lots if lot.criteria]
    if not lots or not people:
        return []
    latest = {
        bid_id: revision_id
        for bid_id, revision_id in db.session.execute(
            select(Bid.id, BidRevision.id)
            .join(
                BidRevision,
                (BidRevision.bid_id == Bid.id) & (BidRevision.number == Bid.revision_count),
            )
            .where(Bid.id.in_([p["bid_id"] for p in people]))
        ).all()
    }
    values: dict[tuple[int, int], str] = {}
    revision_bid = {r: b for b, r in latest.items()}
    for revision_id, criterion_id, value in db.session.execute(
        select(
            BidCriterionValue.revision_id, BidCriterionValue.criterion_id, BidCriterionValue.value
        ).where(BidCriterionValue.revision_id.in_(list(latest.values())))
    ):
        values[(revision_bid[revision_id], criterion_id)] = value
    return [
        {
            "lot": lot,
            "rows": [
                {"criterion": c, "values": [values.get((p["bid_id"], c.id)) for p in people]}
                for c in lot.criteria
            ],
        }
        for lot in lots
    ]


def disqualification_list(tender: Tender) -> list[dict]:
    """Every disqualification of the tender (lifted ones too), oldest first."""
    rows = db.session.execute(
        select(Disqualification, Bid, Organization)
        .join(Bid, Bid.id == Disqualification.bid_id)
        .join(Organization, Organization.id == Bid.organization_id)
        .where(Disqualification.tender_id == tender.id)
        .order_by(Disqualification.id)
    ).all()
    lots = {lot.id: lot.number for lot in tender.lots}
    return [
        {
            "id": d.id,
            "participant": bid.participant_number,
            "name": o.name,
            "lot": lots.get(d.lot_id) if d.lot_id else None,
            "reason": d.reason,
            "created_at": d.created_at,
            "lifted_at": d.lifted_at,
            "lift_reason": d.lift_reason,
        }
        for d, bid, o in rows
    ]


def whole_lot_lines(lot_id: int, bid_ids: list[int], limit: int = 200) -> list[dict]:
    """Unit prices of a whole lot's positions per participant (the first `limit` positions)."""
    positions = (
        db.session.execute(
            select(Position)
            .where(Position.lot_id == lot_id)
            .order_by(Position.sort_key)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    prices: dict[tuple[int, int], tuple[Decimal, Decimal]] = {}
    for bid_id, position_id, price, total in db.session.execute(
        select(Bid.id, BidLine.position_id, BidLine.unit_price, BidLine.total)
        .join(
            BidRevision, (BidRevision.bid_id == Bid.id) & (BidRevision.number == Bid.revision_count)
        )
        .join(BidLine, BidLine.revision_id == BidRevision.id)
        .where(Bid.id.in_(bid_ids), BidLine.position_id.in_([p.id for p in positions]))
    ):
        prices[(bid_id, position_id)] = (price, total)
    return [{"position": p, "prices": [prices.get((b, p.id)) for b in bid_ids]} for p in positions]


# -- CSV export ------------------------------------------------------------------------------

CSV_HEADER = [
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


def _fmt(value) -> str:
    # Decimals as the bid templates write them (decimal comma, no grouping): Russian Excel
    # reads them as numbers.
    if value is None:
        return ""
    return str(value).replace(".", ",") if isinstance(value, Decimal) else str(value)


def comparison_csv(tender: Tender, encoding: str = "utf-8-sig") -> bytes:
    """The comparison as CSV, one row per offer (formula-safe; Excel opens it directly)."""
    rows = db.session.execute(
        select(Award, AwardOffer, Bid.participant_number, Organization.name, Organization.inn)
        .join(AwardOffer, AwardOffer.award_id == Award.id)
        .join(Bid, Bid.id == AwardOffer.bid_id)
        .join(Organization, Organization.id == Bid.organization_id)
        .where(Award.tender_id == tender.id)
        .order_by(Award.sort_key, AwardOffer.sort_order)
    ).all()
    names = dict(
        db.session.execute(
            select(Position.id, Position.name).where(Position.tender_id == tender.id)
        ).all()
    )
    positions = {
        p.id: p
        for p in db.session.execute(
            select(Position.id, Position.quantity, Position.max_unit_price).where(
                Position.tender_id == tender.id
            )
        ).all()
    }
    lot_titles = {lot.id: lot.title for lot in tender.lots}

    def line(a: Award, o: AwardOffer, number: int, org: str, inn: str) -> list[str]:
        p = positions.get(a.position_id)
        criteria = sum((Decimal(c["points"]) for c in o.breakdown.get("criteria", [])), Decimal(0))
        return [
            str(a.lot_number),
            a.position_number or f"whole lot: {lot_titles.get(a.lot_id, '')}",
            names.get(a.position_id, ""),
            _fmt(p.quantity if p else None),
            _fmt(p.max_unit_price if p else None),
            str(number),
            org,
            inn,
            _fmt(o.unit_price),
            _fmt(o.total),
            _fmt(o.price_points),
            _fmt(criteria),
            _fmt(o.score),
            _fmt(o.rank),
            o.status,
            o.reason or "",
            "yes" if o.rank == 1 else "",
            _fmt(a.savings) if o.rank == 1 else "",
        ]

    return write_csv(CSV_HEADER, (line(*row) for row in rows), encoding=encoding)


def as_of(tender: Tender) -> dt.datetime | None:
    """When the stored results were computed."""
    result_set = db.session.get(ResultSet, tender.id)
    return result_set.evaluated_at if result_set else None


def require_reviewer(user: User, org: Organization | None, tender_id: int) -> Tender:
    """The tender's own customer, after the close (review pages and API)."""
    tender = _own(user, org, tender_id, for_update=False)
    if tender.status not in ("closed", "results_published", "unsuccessful"):
        raise Conflict(
            f"Tender {tender.number} is {tender.status}: offers are reviewed after the close."
        )
    return tender


def lot_by_number(tender: Tender, number: int) -> Lot:
    """A lot of the tender by its number, or NotFound."""
    lot = next((x for x in tender.lots if x.number == number), None)
    if lot is None:
        raise NotFound(f"No lot {number}.")
    return lot
