"""The commission's decision on a closed tender (issue 21): its members and chair, the decision
the responsible person prepares on the ranking, the members' votes, the chair's close, and the
decision applied to the awards when the results are published (or corrected).

The rules are in results/commission_rules.py; docs/results.md ("The commission's decision")
says how it works. Services flush; the entrypoint commits once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from accounts.models import Organization, User
from accounts.service import holders, members, membership
from audit.service import record
from bids.models import Bid, BidLine, BidRevision
from core import clock
from core.api import translate as _translate
from core.errors import Conflict, Forbidden, Invalid
from core.events import record_event
from core.extensions import db
from core.i18n import label
from positions.models import Position
from results import commission_rules as cr
from results.evaluation import require_evaluated
from results.models import (
    Award,
    AwardOffer,
    CommissionDecision,
    CommissionMember,
    CommissionVote,
    DecisionItem,
    ResultSet,
)
from results.review import chain, own
from tenders.models import Tender
from tenders.service import own_tender
from tenders.sight import ALSO_IN_CHARGE

EDITABLE_STATUSES = ("draft", "published", "closed")


@dataclass(frozen=True)
class Member:
    """A member of the commission as shown."""

    user_id: int
    name: str
    email: str
    is_chair: bool


@dataclass(frozen=True)
class VoteInfo:
    """A member's vote on the decision."""

    user_id: int
    name: str
    choice: str
    comment: str
    cast_at: dt.datetime


@dataclass(frozen=True)
class Deviation:
    """A unit whose decision departs from the ranking (or an exception that lapsed)."""

    lot: int
    position: str | None
    name: str
    outcome: str
    winner_participant: int | None
    winner_name: str | None
    top_participant: int | None
    top_name: str | None
    reason: str
    problem: str | None


@dataclass(frozen=True)
class Decision:
    """The commission and its decision as it stands. status: "not_prepared", "voting",
    "changed" (the ranking moved since it was prepared: prepare again), "approved"."""

    status: str
    members: tuple[Member, ...]
    default_members: bool
    editable: bool
    digest: str | None
    prepared_digest: str | None
    prepared_at: dt.datetime | None
    prepared_by: str | None
    closed_at: dt.datetime | None
    closed_by: str | None
    units: int
    deviations: tuple[Deviation, ...]
    problems: tuple[str, ...]
    votes: tuple[VoteInfo, ...]
    tally: cr.Tally

    @property
    def chair(self) -> Member | None:
        return next((m for m in self.members if m.is_chair), None)

    def member(self, user_id: int) -> Member | None:
        return next((m for m in self.members if m.user_id == user_id), None)

    def vote_of(self, user_id: int) -> VoteInfo | None:
        return next((v for v in self.votes if v.user_id == user_id), None)


# -- the commission ----------------------------------------------------------------------------


def _sight_of_members(tender: Tender) -> set[int]:
    """The commission's members see the tender they decide on (the review, the offers),
    whatever their roles: a specialist named to the commission is not refused its page."""
    if tender.status not in ("closed", "results_published"):
        return set()
    return set(
        db.session.execute(
            select(CommissionMember.user_id).where(CommissionMember.tender_id == tender.id)
        ).scalars()
    )


ALSO_IN_CHARGE.append(_sight_of_members)


def _stored_members(tender: Tender) -> list[CommissionMember]:
    return list(
        db.session.execute(
            select(CommissionMember)
            .where(CommissionMember.tender_id == tender.id)
            .order_by(CommissionMember.id)
        ).scalars()
    )


def _default_members(tender: Tender) -> list[tuple[int, bool]]:
    """The customer's managers; the chair is the responsible person if a manager, else the
    first manager."""
    ids = [m.user_id for m in holders(tender.customer_id, "approve")]
    if not ids:
        return []
    chair = tender.responsible_id if tender.responsible_id in ids else ids[0]
    return [(i, i == chair) for i in ids]


def _member_pairs(tender: Tender) -> tuple[list[tuple[int, bool]], bool]:
    stored = _stored_members(tender)
    if stored:
        return [(m.user_id, m.is_chair) for m in stored], False
    return _default_members(tender), True


def _names(user_ids) -> dict[int, User]:
    ids = list({i for i in user_ids if i is not None})
    if not ids:
        return {}
    return {u.id: u for u in db.session.execute(select(User).where(User.id.in_(ids))).scalars()}


def _vote_started(tender: Tender) -> bool:
    return (
        db.session.execute(
            select(CommissionVote.id).where(CommissionVote.tender_id == tender.id).limit(1)
        ).first()
        is not None
    )


def may_manage(user: User, tender: Tender) -> bool:
    """The tender's responsible person or a manager of the customer."""
    if user.id == tender.responsible_id:
        return True
    m = membership(user, tender.customer_id)
    return m is not None and m.may("approve")


def _require_manager(user: User, tender: Tender, what: str) -> None:
    if not may_manage(user, tender):
        raise Forbidden(
            _(
                "Only the responsible person of %(number)s or a manager may %(what)s.",
                number=tender.number,
                what=what,
            )
        )


def _materialize(tender: Tender, user: User) -> None:
    """Store the default commission (the managers) so that the vote has fixed members."""
    if _stored_members(tender):
        return
    pairs = _default_members(tender)
    if not pairs:
        raise Conflict(
            _(
                "The customer has no manager: name the commission of %(number)s first.",
                number=tender.number,
            ),
            {"members": [_("Name at least one member of the commission.")]},
        )
    for user_id, is_chair in pairs:
        db.session.add(
            CommissionMember(
                tender_id=tender.id, user_id=user_id, is_chair=is_chair, added_by_id=user.id
            )
        )
    db.session.flush()


def set_commission(
    user: User,
    org: Organization | None,
    tender_id: int,
    member_ids: list[int],
    chair_id: int | None,
) -> None:
    """Name the commission (members of the customer organization) and its chair; refused
    once a vote has started."""
    tender = own(user, org, tender_id, for_update=True)
    _require_manager(user, tender, _("name the commission"))
    if tender.status not in EDITABLE_STATUSES:
        raise Conflict(
            _(
                "Tender %(number)s is %(status)s: its commission can no longer change.",
                number=tender.number,
                status=label("tender_status", tender.status),
            )
        )
    if _vote_started(tender):
        raise Conflict(
            _(
                "The commission of %(number)s has started voting: it can no longer change.",
                number=tender.number,
            )
        )
    eligible = {m.user_id for m in members(tender.customer_id)}
    problem = cr.check_commission(member_ids, chair_id, eligible)
    if problem is not None:
        field = "chair" if "chair" in str(problem) else "members"
        raise Invalid(problem, {field: [problem]})
    db.session.execute(delete(CommissionMember).where(CommissionMember.tender_id == tender.id))
    for user_id in member_ids:
        db.session.add(
            CommissionMember(
                tender_id=tender.id,
                user_id=user_id,
                is_chair=user_id == chair_id,
                added_by_id=user.id,
            )
        )
    record(
        "tender.commission_named",
        "tender",
        tender.id,
        {"members": list(member_ids), "chair": chair_id},
        actor_user_id=user.id,
        actor_org_id=tender.customer_id,
        chain=chain(tender),
    )
    db.session.flush()


def candidates(tender: Tender) -> list[tuple[int, str, str]]:
    """Who may sit on the commission: (user id, name, email) of the customer's members."""
    people = _names(m.user_id for m in members(tender.customer_id))
    return [(u.id, u.name, u.email) for u in sorted(people.values(), key=lambda u: u.id)]


# -- the ranking as the rules read it ------------------------------------------------------------


def _units(tender: Tender, full: set[cr.Key]) -> tuple[list[cr.Unit], dict[cr.Key, Award]]:
    """Every unit with its top-ranked offer; the units in `full` with all their offers."""
    awards = list(
        db.session.execute(
            select(Award).where(Award.tender_id == tender.id).order_by(Award.sort_key)
        ).scalars()
    )
    by_id = {a.id: a for a in awards}
    wanted = [a.id for a in awards if (a.lot_number, a.position_number) in full]
    offers: dict[int, list[cr.Offer]] = {a.id: [] for a in awards}
    query = (
        select(
            AwardOffer.award_id,
            AwardOffer.bid_id,
            Bid.participant_number,
            AwardOffer.rank,
            AwardOffer.status,
        )
        .join(Bid, Bid.id == AwardOffer.bid_id)
        .join(Award, Award.id == AwardOffer.award_id)
        .where(Award.tender_id == tender.id)
    )
    if len(wanted) < len(awards):
        query = query.where((AwardOffer.rank == 1) | AwardOffer.award_id.in_(wanted))
    for award_id, bid_id, participant, rank, status in db.session.execute(query):
        offers[award_id].append(cr.Offer(bid_id, participant, rank, status))
    units = [cr.Unit(a.lot_number, a.position_number, tuple(offers[a.id])) for a in by_id.values()]
    return units, {(a.lot_number, a.position_number): a for a in awards}


def _items(tender: Tender) -> list[cr.Item]:
    return [
        cr.Item(i.lot_number, i.position_number, i.outcome, i.participant, i.reason)
        for i in db.session.execute(
            select(DecisionItem)
            .where(DecisionItem.tender_id == tender.id)
            .order_by(DecisionItem.lot_number, DecisionItem.id)
        ).scalars()
    ]


def _resolution(tender: Tender) -> tuple[list[cr.Item], dict[cr.Key, Award], tuple]:
    """The stored exceptions, the awards by unit and the decision of every unit."""
    items = _items(tender)
    units, awards = _units(tender, {i.key for i in items})
    return items, awards, cr.resolve(units, items)


def resolved(tender: Tender) -> tuple[cr.Decided, ...]:
    """The decision of every unit against the stored ranking."""
    return _resolution(tender)[2]


# -- preparing the decision ----------------------------------------------------------------------


def _require_closed(tender: Tender) -> None:
    if tender.status == "results_published":
        raise Conflict(
            _(
                "The results of %(number)s are published: the commission's decision is final "
                "(correct the results instead).",
                number=tender.number,
            )
        )
    if tender.status != "closed":
        raise Conflict(
            _(
                "Tender %(number)s is %(status)s: the commission decides after the close.",
                number=tender.number,
                status=label("tender_status", tender.status),
            )
        )


def _decision_row(tender: Tender) -> CommissionDecision:
    row = db.session.get(CommissionDecision, tender.id)
    if row is None:
        row = CommissionDecision(tender_id=tender.id)
        db.session.add(row)
    return row


def _refuse_item(index: int, field: str, message) -> Invalid:
    return Invalid(
        _("Item %(n)s: %(message)s", n=index + 1, message=message),
        {f"items.{index}.{field}": [message]},
    )


def prepare(user: User, org: Organization | None, tender_id: int, changes: list[dict]) -> str:
    """Set exceptions per unit (confirm removes one) and prepare the decision for the vote;
    every exception must stand on the current ranking. Returns the digest voted on."""
    tender = own(user, org, tender_id, for_update=True)
    _require_manager(user, tender, _("prepare the decision"))
    _require_closed(tender)
    require_evaluated(tender)
    stored = {i.key: i for i in _items(tender)}
    keys = set(stored) | {(c["lot"], c.get("position")) for c in changes}
    units, _awards = _units(tender, keys)
    by_key = {u.key: u for u in units}
    seen: set[cr.Key] = set()
    for index, change in enumerate(changes):
        key = (change["lot"], change.get("position"))
        unit = by_key.get(key)
        if unit is None:
            raise _refuse_item(
                index,
                "position",
                _("%(number)s has no such position or whole lot.", number=tender.number),
            )
        if key in seen:
            raise _refuse_item(index, "position", _("This position is named twice."))
        seen.add(key)
        reason = (change.get("reason") or "").strip()
        participant = change.get("participant") if change["outcome"] == "choose" else None
        problem = cr.check_item(unit, change["outcome"], participant, reason)
        if problem is not None:
            field = "reason" if "reason" in str(problem) else "participant"
            raise _refuse_item(index, field, problem)
        if change["outcome"] == "confirm":
            stored.pop(key, None)
        else:
            stored[key] = cr.Item(key[0], key[1], change["outcome"], participant, reason)
    decided = cr.resolve(units, stored.values())
    lapsed = cr.problems(decided)
    if lapsed:
        raise Invalid(
            _(
                "The decision names offers the ranking no longer admits: %(problems)s",
                problems="; ".join(str(_translate(p)) for p in lapsed),
            ),
            {"items": [str(_translate(p)) for p in lapsed]},
        )
    _store_items(tender, user, stored)
    _materialize(tender, user)
    digest = cr.digest(decided)
    row = _decision_row(tender)
    now = clock.now()
    changed = row.prepared_digest != digest
    row.prepared_digest, row.prepared_at, row.prepared_by_id = digest, now, user.id
    if row.closed_digest != digest:
        row.closed_digest = row.closed_at = row.closed_by_id = None
    record(
        "tender.decision_prepared",
        "tender",
        tender.id,
        {
            "digest": digest,
            "deviations": [
                {
                    "lot": d.lot,
                    "position": d.position,
                    "outcome": d.outcome,
                    "winner": d.winner_participant,
                    "ranked_first": d.top_participant,
                    "reason": d.reason,
                }
                for d in cr.deviations(decided)
            ],
        },
        actor_user_id=user.id,
        actor_org_id=tender.customer_id,
        chain=chain(tender),
    )
    if changed:  # the members are asked to vote on this decision (a same one: already asked)
        voters = [u for u, _chair in _member_pairs(tender)[0] if u != user.id]
        record_event(
            "commission.vote_requested",
            tender.id,
            {
                "number": tender.number,
                "by": user.name,
                "deviations": len(cr.deviations(decided)),
                "recipients": voters,
            },
        )
    db.session.flush()
    return digest


def _store_items(tender: Tender, user: User, items: dict[cr.Key, cr.Item]) -> None:
    current = {
        (i.lot_number, i.position_number): i
        for i in db.session.execute(
            select(DecisionItem).where(DecisionItem.tender_id == tender.id)
        ).scalars()
    }
    for key, row in current.items():
        if key not in items:
            db.session.delete(row)
    for key, item in items.items():
        row = current.get(key)
        same = row is not None and (row.outcome, row.participant, row.reason) == (
            item.outcome,
            item.participant,
            item.reason,
        )
        if same:
            continue
        if row is None:
            row = DecisionItem(tender_id=tender.id, lot_number=key[0], position_number=key[1])
            db.session.add(row)
        row.outcome, row.participant, row.reason = item.outcome, item.participant, item.reason
        row.prepared_by_id, row.prepared_at = user.id, clock.now()
    db.session.flush()


# -- voting ---------------------------------------------------------------------------------------


def _require_member(user: User, tender: Tender) -> CommissionMember:
    m = db.session.execute(
        select(CommissionMember).where(
            CommissionMember.tender_id == tender.id, CommissionMember.user_id == user.id
        )
    ).scalar_one_or_none()
    if m is None:
        raise Forbidden(
            _("You are not a member of the commission of %(number)s.", number=tender.number)
        )
    return m


def _open_vote(tender: Tender) -> tuple[CommissionDecision, str]:
    """The prepared decision open for votes and its digest, or a Conflict saying why not."""
    row = db.session.get(CommissionDecision, tender.id)
    if row is None or row.prepared_digest is None:
        raise Conflict(
            _("No decision of %(number)s is prepared for the vote yet.", number=tender.number)
        )
    if cr.digest(resolved(tender)) != row.prepared_digest:
        raise Conflict(
            _(
                "The ranking of %(number)s changed since the decision was prepared: the "
                "responsible person prepares it again, then the commission votes anew.",
                number=tender.number,
            )
        )
    if row.closed_digest == row.prepared_digest:
        raise Conflict(
            _("The chair has closed the vote on the decision of %(number)s.", number=tender.number)
        )
    return row, row.prepared_digest


def vote(user: User, org: Organization | None, tender_id: int, choice: str, comment: str) -> None:
    """A member votes for or against the prepared decision (a comment for every "against");
    voting again before the close replaces the member's earlier vote."""
    tender = own_tender(user, org, tender_id, right="member")  # the commission decides who
    _require_closed(tender)
    _require_member(user, tender)
    comment = (comment or "").strip()
    problem = cr.check_vote(choice, comment)
    if problem is not None:
        raise Invalid(problem, {"comment" if choice in cr.VOTES else "vote": [problem]})
    _row, digest = _open_vote(tender)
    existing = db.session.execute(
        select(CommissionVote).where(
            CommissionVote.tender_id == tender.id,
            CommissionVote.user_id == user.id,
            CommissionVote.digest == digest,
        )
    ).scalar_one_or_none()
    replaced = existing.choice if existing else None
    if existing is None:
        existing = CommissionVote(tender_id=tender.id, user_id=user.id, digest=digest)
        db.session.add(existing)
    existing.choice, existing.comment, existing.cast_at = choice, comment, clock.now()
    record(
        "tender.decision_vote",
        "tender",
        tender.id,
        {
            "digest": digest,
            "user_id": user.id,
            "vote": choice,
            "comment": comment,
            "replaces": replaced,
        },
        actor_user_id=user.id,
        actor_org_id=tender.customer_id,
        chain=chain(tender),
    )
    db.session.flush()


def _votes(tender: Tender, digest: str | None) -> list[CommissionVote]:
    if digest is None:
        return []
    return list(
        db.session.execute(
            select(CommissionVote)
            .where(CommissionVote.tender_id == tender.id, CommissionVote.digest == digest)
            .order_by(CommissionVote.cast_at, CommissionVote.id)
        ).scalars()
    )


def close_vote(user: User, org: Organization | None, tender_id: int) -> None:
    """The chair closes the vote once a majority of the whole commission is for."""
    tender = own_tender(user, org, tender_id, right="member")  # the commission decides who
    _require_closed(tender)
    m = _require_member(user, tender)
    if not m.is_chair:
        raise Forbidden(_("Only the chair of the commission closes the vote."))
    row = db.session.get(CommissionDecision, tender.id)
    if row is None or row.prepared_digest is None:
        raise Conflict(
            _("No decision of %(number)s is prepared for the vote yet.", number=tender.number)
        )
    decided = resolved(tender)
    member_ids = [u for u, _c in _member_pairs(tender)[0]]
    t = cr.tally(member_ids, {v.user_id: v.choice for v in _votes(tender, row.prepared_digest)})
    problem = cr.close_problem(
        t, cr.digest(decided) != row.prepared_digest, len(cr.problems(decided))
    )
    if problem is None and row.closed_digest == row.prepared_digest:
        problem = _("The vote on this decision is already closed.")
    if problem is not None:
        raise Conflict(problem)
    row.closed_digest, row.closed_at, row.closed_by_id = row.prepared_digest, clock.now(), user.id
    record(
        "tender.decision_approved",
        "tender",
        tender.id,
        {
            "digest": row.prepared_digest,
            "for": t.votes_for,
            "against": t.votes_against,
            "members": t.members,
        },
        actor_user_id=user.id,
        actor_org_id=tender.customer_id,
        chain=chain(tender),
    )
    told = {row.prepared_by_id, tender.responsible_id} - {None, user.id}
    record_event(
        "commission.decided",
        tender.id,
        {"number": tender.number, "by": user.name, "recipients": sorted(told)},
    )
    db.session.flush()


# -- publication: the decision is required and applied ------------------------------------------


def apply_approved(tender: Tender) -> str:
    """The publication's step: refuse (409) unless the decision is approved on the ranking
    as it stands, then write it into the awards (apply); one reading of the ranking for
    both. Returns the approved digest."""
    items, awards, decided = _resolution(tender)
    digest = _require_approved(tender, decided)
    if items:  # else the awards are the ranking already
        _apply(tender, awards, decided)
    return digest


def _require_approved(tender: Tender, decided) -> str:
    """The digest of the approved decision, or a Conflict naming what is missing."""
    row = db.session.get(CommissionDecision, tender.id)
    if row is None or row.closed_digest is None:
        raise Conflict(
            _(
                "The results of %(number)s are published after the commission's decision: "
                "the responsible person prepares it, the members vote, the chair closes the "
                "vote.",
                number=tender.number,
            ),
            {"decision": [_("No approved decision of the commission.")]},
        )
    if cr.digest(decided) != row.closed_digest:
        raise Conflict(
            _(
                "The ranking of %(number)s changed after the commission's vote: the decision "
                "must be prepared and voted again before the results are published.",
                number=tender.number,
            ),
            {"decision": [_("The approved decision no longer matches the ranking.")]},
        )
    return row.closed_digest


def _winner_savings(award: Award, offer: AwardOffer) -> Decimal | None:
    """The savings if this offer wins (against the maximum prices of the unit)."""
    if award.reference_total is None:
        return None
    if award.position_id is not None:
        return award.reference_total - offer.total
    bid = db.session.get(Bid, offer.bid_id)
    spent = db.session.execute(
        select(func.sum(BidLine.total))
        .join(BidRevision, BidRevision.id == BidLine.revision_id)
        .join(Position, Position.id == BidLine.position_id)
        .where(
            BidRevision.bid_id == bid.id,
            BidRevision.number == bid.revision_count,
            Position.lot_id == award.lot_id,
            Position.max_unit_price.is_not(None),
        )
    ).scalar_one()
    return award.reference_total - (spent or Decimal(0))


def apply(tender: Tender) -> int:
    """Write the decision into the awards (winner, price, score, status, savings) and the
    totals; returns how many awards it changed. The ranks stay the platform's."""
    items = _items(tender)
    if not items:  # the awards are the ranking already
        return 0
    units, awards = _units(tender, {i.key for i in items})
    return _apply(tender, awards, cr.resolve(units, items))


def _apply(tender: Tender, awards: dict[cr.Key, Award], decided) -> int:
    moved = [
        (awards[d.key], d.winner_bid_id)
        for d in decided
        if awards[d.key].winner_bid_id != d.winner_bid_id
        or (awards[d.key].status == "awarded") != (d.winner_bid_id is not None)
    ]
    wanted = [(a.id, bid_id) for a, bid_id in moved if bid_id is not None]
    offers: dict[tuple[int, int], AwardOffer] = {}
    if wanted:  # one query for every winner the decision moves
        query = select(AwardOffer).where(
            AwardOffer.award_id.in_([a for a, _b in wanted]),
            AwardOffer.bid_id.in_([b for _a, b in wanted]),
        )
        offers = {(o.award_id, o.bid_id): o for o in db.session.execute(query).scalars()}
    for award, winner_bid_id in moved:
        if winner_bid_id is None:
            award.status, award.winner_bid_id = "unsuccessful", None
            award.price = award.total = award.score = award.savings = None
            continue
        offer = offers[(award.id, winner_bid_id)]
        award.status, award.winner_bid_id = "awarded", offer.bid_id
        award.price = offer.unit_price if award.position_id is not None else offer.total
        award.total, award.score = offer.total, offer.score
        award.savings = _winner_savings(award, offer)
    if moved:
        db.session.flush()
        _totals(tender)
    return len(moved)


def _totals(tender: Tender) -> None:
    result_set = db.session.get(ResultSet, tender.id)
    counts = db.session.execute(
        select(
            func.count().filter(Award.status == "awarded"),
            func.count().filter(Award.status == "unsuccessful"),
        ).where(Award.tender_id == tender.id)
    ).one()
    sums = db.session.execute(
        select(func.sum(Award.reference_total), func.sum(Award.savings)).where(
            Award.tender_id == tender.id, Award.savings.is_not(None)
        )
    ).one()
    result_set.awarded, result_set.unsuccessful = counts[0], counts[1]
    result_set.reference_total = sums[0] or Decimal(0)
    result_set.savings = sums[1] or Decimal(0)
    db.session.flush()


# -- reading ------------------------------------------------------------------------------------


def decision(tender: Tender) -> Decision:
    """The commission and its decision as they stand (for pages, the API, the protocol)."""
    pairs, default = _member_pairs(tender)
    row = db.session.get(CommissionDecision, tender.id)
    evaluated = db.session.get(ResultSet, tender.id) is not None
    decided = resolved(tender) if evaluated else ()
    digest = cr.digest(decided) if evaluated else None
    prepared = row.prepared_digest if row else None
    closed = row.closed_digest if row else None
    shown = closed if closed is not None and closed == prepared else prepared
    votes = _votes(tender, shown)
    users = _names(
        [u for u, _c in pairs]
        + [v.user_id for v in votes]
        + ([row.prepared_by_id, row.closed_by_id] if row else [])
    )
    member_ids = [u for u, _c in pairs]
    if prepared is None:
        status = "not_prepared"
    elif tender.status == "results_published" and closed is not None:
        status = "approved"
    elif digest != prepared:
        status = "changed"
    elif closed == prepared:
        status = "approved"
    else:
        status = "voting"
    names = _participant_names(tender)
    shown_units = [d for d in decided if d.deviation or d.problem is not None]
    unit_names = _unit_names(tender, shown_units)
    deviations = tuple(
        Deviation(
            d.lot,
            d.position,
            unit_names[d.key],
            d.outcome,
            d.winner_participant,
            names.get(d.winner_participant),
            d.top_participant,
            names.get(d.top_participant),
            d.reason,
            str(_translate(d.problem)) if d.problem is not None else None,
        )
        for d in shown_units
    )
    return Decision(
        status=status,
        members=tuple(
            Member(
                u, users[u].name if u in users else "", users[u].email if u in users else "", chair
            )
            for u, chair in pairs
        ),
        default_members=default,
        editable=tender.status in EDITABLE_STATUSES and not _vote_started(tender),
        digest=digest,
        prepared_digest=prepared,
        prepared_at=row.prepared_at if row else None,
        prepared_by=users[row.prepared_by_id].name if row and row.prepared_by_id in users else None,
        closed_at=row.closed_at if row and closed == prepared else None,
        closed_by=users[row.closed_by_id].name if row and row.closed_by_id in users else None,
        units=len(decided),
        deviations=deviations,
        problems=tuple(str(_translate(p)) for p in cr.problems(decided)),
        votes=tuple(
            VoteInfo(
                v.user_id,
                users[v.user_id].name if v.user_id in users else "",
                v.choice,
                v.comment,
                v.cast_at,
            )
            for v in votes
        ),
        tally=cr.tally(member_ids, {v.user_id: v.choice for v in votes}),
    )


def _participant_names(tender: Tender) -> dict[int, str]:
    return dict(
        db.session.execute(
            select(Bid.participant_number, Organization.name)
            .join(Organization, Organization.id == Bid.organization_id)
            .where(Bid.tender_id == tender.id)
        ).all()
    )


def _unit_names(tender: Tender, decided: list[cr.Decided]) -> dict[cr.Key, str]:
    """The name of each unit: its position's, or its lot's title for a whole lot."""
    numbers = {d.position for d in decided if d.position is not None}
    positions = dict(
        db.session.execute(
            select(Position.number, Position.name).where(
                Position.tender_id == tender.id, Position.number.in_(numbers)
            )
        ).all()
        if numbers
        else ()
    )
    titles = {lot.number: lot.title for lot in tender.lots}
    return {
        d.key: (titles.get(d.lot, "") if d.position is None else positions.get(d.position) or "")
        for d in decided
    }


def for_publication(tender: Tender) -> Decision | None:
    """The decision shown with published results (None before publication or without one)."""
    if tender.status != "results_published":
        return None
    row = db.session.get(CommissionDecision, tender.id)
    if row is None or row.closed_digest is None:
        return None
    return decision(tender)
