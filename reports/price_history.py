"""Price history of a position or a lot, derived from the stored bid revisions (each keeps
its acceptance time and full set of lines), withdrawals and extensions (the tender's audit
chain), cut to what the viewer may see (docs/results.md, "Price history").

Who sees what follows the offers table (bids.rules.visibility_level, then the published
results' outcome.view_level): "none" (only the extensions: the number of bids, sealed, the
public), "own" (the best value and the viewer's own: a supplier with a bid in), "everyone"
(the best value and every participant's line, anonymous: the customer during bidding) or
"named" (every participant by name: the customer after the close)."""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from accounts.models import Organization
from audit.models import AuditEvent
from bids import offers
from bids.models import Bid, BidLine, BidRevision
from bids.service import own_bid
from core.chains import tender_chain
from core.errors import Invalid, NotFound
from core.extensions import db
from positions.models import Position
from reports import rules
from results import outcome
from tenders.models import Lot, Tender


@dataclass(frozen=True)
class Scope:
    """What one chart shows: a lot's total (position None) or one position's unit price."""

    lot: Lot
    position: Position | None

    @property
    def kind(self) -> str:
        if self.position is not None:
            return rules.POSITION
        return rules.WHOLE_LOT if self.lot.award_mode == "whole_lot" else rules.PER_POSITION_LOT


def level(tender: Tender, org: Organization | None, mine: Bid | None) -> str:
    """How much of the history this viewer may see: none, own, everyone or named (the
    offers table's level, bids.offers.viewer_level, then the results' view_level)."""
    customer = org is not None and org.id == tender.customer_id
    if tender.status == "results_published":
        if outcome.view_level(tender, org) != "detail":
            return "none"
        return "named" if customer else "own"
    seen = offers.viewer_level(tender, org, mine is not None and mine.status == "active")
    if seen == "count":
        return "none"
    if customer:
        return "named" if seen == "named" else "everyone"
    return "own"


def scope(tender: Tender, lot_number: int | None, position_number: str | None) -> Scope:
    """The lot and position a query names (the first lot by default), or NotFound naming
    the one that does not exist; a position outside the given lot is Invalid."""
    lots = {lot.number: lot for lot in tender.lots}
    if not lots:
        raise NotFound(_("This tender has no lots."))
    position = None
    if position_number is not None:
        position = db.session.execute(
            select(Position).where(
                Position.tender_id == tender.id, Position.number == position_number
            )
        ).scalar_one_or_none()
        if position is None:
            message = _(
                "Position %(number)s does not exist in this tender.", number=position_number
            )
            raise NotFound(message, {"position": [message]})
    if lot_number is not None:
        lot = lots.get(lot_number)
        if lot is None:
            message = _("Lot %(number)s does not exist in this tender.", number=lot_number)
            raise NotFound(message, {"lot": [message]})
        if position is not None and position.lot_id != lot.id:
            message = _(
                "Position %(position)s is not in lot %(lot)s.",
                position=position_number,
                lot=lot_number,
            )
            raise Invalid(message, {"position": [message]})
    elif position is not None:
        lot = next(lot for lot in lots.values() if lot.id == position.lot_id)
    else:
        lot = lots[min(lots)]
    return Scope(lot, position)


def default_scope(tender: Tender) -> Scope | None:
    """What a page shows first: the first lot's total if it is awarded whole, else its
    first position (a position's history is one index range; an itemized lot of thousands
    of positions is read only when asked for)."""
    if not tender.lots:
        return None
    lot = tender.lots[0]
    if lot.award_mode == "whole_lot":
        return Scope(lot, None)
    first = (
        db.session.execute(
            select(Position)
            .where(Position.lot_id == lot.id)
            .order_by(Position.sort_key)
            .limit(1)  # .first() alone would load every position of the lot
        )
        .scalars()
        .first()
    )
    return Scope(lot, first)


def _in_scope(line, sc: Scope):
    if sc.position is not None:
        return line.position_id == sc.position.id
    return line.position_id.in_(select(Position.id).where(Position.lot_id == sc.lot.id))


def _withdrawals(tender: Tender) -> list[rules.Change]:
    return [
        rules.Change(at, int(bid_id), {}, replace=True)
        for at, bid_id in db.session.execute(
            select(AuditEvent.occurred_at, AuditEvent.object_id).where(
                AuditEvent.chain == tender_chain(tender.id), AuditEvent.action == "bid.withdrawn"
            )
        ).all()
    ]


def changes(tender: Tender, sc: Scope) -> Iterable[rules.Change]:
    """Every bid's offer on the scope at each of its revisions, and the withdrawals, in
    order (the replay ignores what did not move)."""
    if sc.position is None:
        return _lot_changes(tender, sc)
    return _position_changes(tender, sc.position.id)


def _position_changes(tender: Tender, pid: int) -> Iterator[rules.Change]:
    """One position: its lines in one index range (ix_bid_lines_position_revision), the
    tender's revisions beside them in order (a join of the two would probe the lines once
    per revision: slower); a revision without the line no longer offers it.

    A stream, not a list: 5,000 revisions kept alive until the replay ends outlived the
    young garbage-collector generations and set off a full collection of the process's
    objects every few histories (the p95 of the benchmark, about 100 ms on a loaded
    machine). Core rows (no ORM entities), read one at a time and replayed as read."""
    withdrawals = sorted(_withdrawals(tender), key=lambda c: c.at)
    conn = db.session.connection()
    prices = dict(
        iter(
            conn.execute(
                select(BidLine.revision_id, BidLine.unit_price).where(BidLine.position_id == pid)
            )
        )
    )
    rows = conn.execute(
        select(BidRevision.accepted_at, BidRevision.bid_id, BidRevision.id)
        .join(Bid, Bid.id == BidRevision.bid_id)
        .where(Bid.tender_id == tender.id)
        .order_by(BidRevision.accepted_at, BidRevision.id)
    )
    revisions = (
        rules.Change(at, bid_id, {pid: prices.get(revision_id)}, replace=True)
        for at, bid_id, revision_id in rows
    )
    # Both in order of time; at one moment the revision comes before the withdrawal.
    return heapq.merge(revisions, withdrawals, key=lambda c: c.at)


def _lot_changes(tender: Tender, sc: Scope) -> list[rules.Change]:
    """What each revision changed in the lot against the bid's previous revision, and the
    withdrawals, in order. One pass over the lot's lines in SQL with lag()/lead() per bid
    and position: a line comes back only where its total moved, it appeared, or it is
    missing from the bid's next revision (a revision of 2,000 lines that moves three
    prices sends three rows)."""
    revisions = {
        (bid_id, number): (revision_id, at)
        for revision_id, bid_id, number, at in db.session.execute(
            select(BidRevision.id, BidRevision.bid_id, BidRevision.number, BidRevision.accepted_at)
            .join(Bid, Bid.id == BidRevision.bid_id)
            .where(Bid.tender_id == tender.id)
        ).all()
    }
    window = {
        "partition_by": (BidRevision.bid_id, BidLine.position_id),
        "order_by": BidRevision.number,
    }
    lines = (
        select(
            BidRevision.bid_id,
            BidRevision.number,
            BidLine.position_id,
            BidLine.total,
            func.lag(BidLine.total).over(**window).label("prev_total"),
            func.lag(BidRevision.number).over(**window).label("prev_number"),
            func.lead(BidRevision.number).over(**window).label("next_number"),
        )
        .join(BidRevision, BidRevision.id == BidLine.revision_id)
        .join(Bid, Bid.id == BidRevision.bid_id)
        .where(Bid.tender_id == tender.id, _in_scope(BidLine, sc))
        .subquery()
    )
    c = lines.c
    moved = or_(
        c.prev_number.is_(None),
        c.prev_number != c.number - 1,
        c.prev_total != c.total,
        c.next_number.is_(None),
        c.next_number != c.number + 1,
    )
    found: dict[tuple, rules.Change] = {}

    def change(bid_id: int, number: int) -> rules.Change | None:
        key = (bid_id, number)
        if key not in found and key in revisions:
            found[key] = rules.Change(revisions[key][1], bid_id, {})
        return found.get(key)

    for (
        bid_id,
        number,
        position_id,
        total,
        prev_total,
        prev_number,
        next_number,
    ) in db.session.execute(select(lines).where(moved)).all():
        if prev_number is None or prev_number != number - 1 or prev_total != total:
            change(bid_id, number).values[position_id] = total
        if next_number is None or next_number != number + 1:
            dropped = change(bid_id, number + 1)  # None: this is the bid's last revision
            if dropped is not None:
                dropped.values[position_id] = None
    out = sorted([*found.values(), *_withdrawals(tender)], key=lambda c: c.at)
    return _after_withdrawals(out, sc, revisions)


def _after_withdrawals(
    out: list[rules.Change], sc: Scope, revisions: dict[tuple, tuple]
) -> list[rules.Change]:
    """A bid that comes back after withdrawing offers its whole revision again: read that
    revision's lines in full (a comparison with the revision before the withdrawal would
    miss the unchanged ones). revisions: (bid id, number) -> (revision id, accepted at), as
    _lot_changes read them; the lines of every return come in one statement."""
    withdrawals = [c for c in out if c.replace]
    if not withdrawals:
        return out
    by_bid: dict[int, list[tuple]] = {}
    for (bid_id, _number), (revision_id, at) in revisions.items():
        by_bid.setdefault(bid_id, []).append((at, revision_id))
    returns: dict[int, tuple] = {}  # revision id -> (accepted at, bid id)
    for w in withdrawals:
        after = [(at, rid) for at, rid in by_bid.get(w.bid, []) if at > w.at]
        if after:
            at, revision_id = min(after)
            returns[revision_id] = (at, w.bid)
    if not returns:
        return out
    back = {key: rules.Change(*key, {}, replace=True) for key in returns.values()}
    for revision_id, position_id, value in db.session.execute(
        select(BidLine.revision_id, BidLine.position_id, _column(sc)).where(
            BidLine.revision_id.in_(returns), _in_scope(BidLine, sc)
        )
    ).all():
        back[returns[revision_id]].values[position_id] = value
    kept = [c for c in out if c.replace or (c.at, c.bid) not in back]
    return sorted([*kept, *back.values()], key=lambda c: c.at)


def _column(sc: Scope):
    return BidLine.unit_price if sc.position is not None else BidLine.total


def extensions(tender: Tender) -> list[dict]:
    """Every automatic extension of the deadline (public: the notice names them too)."""
    events = db.session.execute(
        select(AuditEvent.payload)
        .where(AuditEvent.chain == tender_chain(tender.id), AuditEvent.action == "tender.extended")
        .order_by(AuditEvent.seq)
    ).scalars()
    return [
        {
            "at": dt.datetime.fromisoformat(p["server_time"]),
            "previous": dt.datetime.fromisoformat(p["previous"]),
            "deadline": dt.datetime.fromisoformat(p["deadline"]),
        }
        for p in events
    ]


def _labels(tender: Tender, seen: str, bids: set[int]) -> dict[int, tuple[int, str]]:
    """bid id -> (participant number, label) for the lines the viewer may see."""
    rows = db.session.execute(
        select(Bid.id, Bid.participant_number, Organization.name)
        .join(Organization, Organization.id == Bid.organization_id)
        .where(Bid.id.in_(bids))
    ).all()
    return {
        bid_id: (
            number,
            name if seen == "named" else _("Participant %(number)s", number=number),
        )
        for bid_id, number, name in rows
    }


def _series(key: str, label: str, steps: rules.Steps, **extra) -> dict:
    points = [{"at": at, "value": value} for at, value in steps]
    return {"key": key, "label": label, "points": points, **extra}


def history(tender: Tender, org: Organization | None, sc: Scope, seen: str | None = None) -> dict:
    """The chart's data as this viewer may see it (seen: the level, else decided here)."""
    mine = own_bid(org, tender.id) if org is not None else None
    seen = seen or level(tender, org, mine)
    out = {
        "tender_id": tender.id,
        "number": tender.number,
        "lot": sc.lot.number,
        "lot_title": sc.lot.title,
        "position": sc.position.number if sc.position is not None else None,
        "position_name": sc.position.name if sc.position is not None else None,
        "kind": sc.kind,
        "measure": "unit_price" if sc.position is not None else "total",
        "level": seen,
        "currency": tender.currency,
        "timezone": tender.timezone,
        "status": tender.status,
        "published_at": tender.published_at,
        "original_deadline": tender.original_deadline,
        "deadline": tender.bid_deadline,
        "extensions": extensions(tender),
        "series": [],
    }
    if seen == "none":
        return out
    ids = []
    if sc.kind == rules.WHOLE_LOT:
        ids = list(
            db.session.execute(select(Position.id).where(Position.lot_id == sc.lot.id)).scalars()
        )
    found = rules.price_history(changes(tender, sc), sc.kind, ids)
    out["series"].append(_series("best", _("Best price"), found.best, role="best"))
    if seen == "own":
        if mine is not None:
            own = found.bids.get(mine.id, [])
            out["series"].append(_series("own", _("Your price"), own, role="own"))
        return out
    labels = _labels(tender, seen, set(found.bids))
    for bid_id, (number, label) in sorted(labels.items(), key=lambda kv: kv[1][0]):
        out["series"].append(
            _series(f"p{number}", label, found.bids[bid_id], role="participant", participant=number)
        )
    return out


def table_rows(data: dict) -> list[dict]:
    """The chart's numbers as rows (the accessible alternative): one per moment at which a
    line moved, with every line's value from then on, and the extensions in between."""
    moments: dict[dt.datetime, dict] = {}
    for s in data["series"]:
        for p in s["points"]:
            moments.setdefault(p["at"], {})[s["key"]] = p["value"]
    rows, current = [], {s["key"]: None for s in data["series"]}
    for at in sorted(moments):
        current.update(moments[at])
        rows.append({"at": at, "values": [current[s["key"]] for s in data["series"]]})
    for e in data["extensions"]:
        rows.append({"at": e["at"], "extension": e})
    rows.sort(key=lambda r: (r["at"], "extension" in r))
    return rows
