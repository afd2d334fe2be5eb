"""The commission's decision on a closed tender's results: pure rules (no Flask, no SQLAlchemy).

A decision is the platform's ranking plus the commission's exceptions. Each unit (a position
of a per_position lot, or a whole_lot lot) is decided as one of:

- ``confirm``: the top-ranked admissible offer wins (a unit without one stays unsuccessful);
- ``choose``: another admissible offer wins; a reason is mandatory;
- ``unsuccessful``: nobody wins; a reason is mandatory.

A unit with no exception is confirmed. ``resolve`` turns the exceptions into the decision of
every unit against the current ranking and names the exceptions the ranking no longer admits
(a disqualification since); ``digest`` hashes the resolved decision, and votes bind to that
hash, so any change of a unit's outcome, winner or reason needs a new vote. The chair closes
the vote when a strict majority of the whole commission is for (``has_majority``).

Messages are English ``Text``s marked with ``N_`` (the edge translates them).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from core.messages import N_, Text

OUTCOMES = ("confirm", "choose", "unsuccessful")
VOTES = ("for", "against")
REASON_MAX = 2000
COMMENT_MAX = 2000
MEMBERS_MAX = 50

Key = tuple[int, str | None]  # (lot number, position number or None for a whole lot)


@dataclass(frozen=True, slots=True)
class Offer:
    """An offer in a unit's ranking: rank None when it is disqualified."""

    bid_id: int
    participant: int
    rank: int | None
    status: str  # "valid" | "disqualified"

    @property
    def admissible(self) -> bool:
        return self.status == "valid" and self.rank is not None


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit of the ranking: a position of a per_position lot or a whole lot."""

    lot: int
    position: str | None
    offers: tuple[Offer, ...]

    @property
    def key(self) -> Key:
        return (self.lot, self.position)

    @property
    def top(self) -> Offer | None:
        """The top-ranked admissible offer, or None."""
        ranked = [o for o in self.offers if o.admissible]
        return min(ranked, key=lambda o: o.rank) if ranked else None

    def offer_of(self, participant: int) -> Offer | None:
        return next((o for o in self.offers if o.participant == participant), None)


@dataclass(frozen=True, slots=True)
class Item:
    """An exception prepared for a unit: choose (participant) or unsuccessful, with a reason;
    confirm items are not stored (the ranking stands)."""

    lot: int
    position: str | None
    outcome: str
    participant: int | None
    reason: str

    @property
    def key(self) -> Key:
        return (self.lot, self.position)


@dataclass(frozen=True, slots=True)
class Decided:
    """A unit as decided: winner None means unsuccessful. deviation: the decision differs
    from the ranking (another winner, or unsuccessful although an admissible offer exists)."""

    lot: int
    position: str | None
    outcome: str
    winner_bid_id: int | None
    winner_participant: int | None
    top_participant: int | None
    reason: str
    deviation: bool
    problem: Text | None = None

    @property
    def key(self) -> Key:
        return (self.lot, self.position)


def unit_label(key: Key) -> Text:
    """How a unit is named in a message."""
    lot, position = key
    if position is None:
        return N_("lot %(lot)s", lot=lot)
    return N_("position %(position)s", position=position)


def check_item(unit: Unit, outcome: str, participant: int | None, reason: str) -> Text | None:
    """Why an exception cannot stand on this unit's current ranking, or None."""
    where = unit_label(unit.key)
    if outcome not in OUTCOMES:
        return N_("%(unit)s: use confirm, choose or unsuccessful.", unit=where)
    if outcome == "confirm":
        return None
    if not reason:
        return N_("%(unit)s: give the reason for the decision.", unit=where)
    if len(reason) > REASON_MAX:
        return N_(
            "%(unit)s: the reason is longer than %(max)s characters.", unit=where, max=REASON_MAX
        )
    if outcome == "unsuccessful":
        return None
    if participant is None:
        return N_("%(unit)s: name the participant chosen as the winner.", unit=where)
    offer = unit.offer_of(participant)
    if offer is None:
        return N_("%(unit)s: participant %(p)s made no offer here.", unit=where, p=participant)
    if not offer.admissible:
        return N_(
            "%(unit)s: participant %(p)s is disqualified here and cannot win.",
            unit=where,
            p=participant,
        )
    if unit.top is not None and offer.bid_id == unit.top.bid_id:
        return N_(
            "%(unit)s: participant %(p)s is ranked first: confirm the ranking instead.",
            unit=where,
            p=participant,
        )
    return None


def decide_unit(unit: Unit, item: Item | None) -> Decided:
    """One unit's decision: its exception if the ranking admits it, else the ranking (with
    the reason the exception lapsed in `problem`)."""
    top = unit.top
    top_participant = top.participant if top else None
    problem = None
    if item is not None and item.outcome != "confirm":
        problem = check_item(unit, item.outcome, item.participant, item.reason)
        if problem is None and item.outcome == "choose":
            chosen = unit.offer_of(item.participant)
            return Decided(
                unit.lot,
                unit.position,
                "choose",
                chosen.bid_id,
                chosen.participant,
                top_participant,
                item.reason,
                True,
            )
        if problem is None:
            return Decided(
                unit.lot,
                unit.position,
                "unsuccessful",
                None,
                None,
                top_participant,
                item.reason,
                top is not None,
            )
    return Decided(
        unit.lot,
        unit.position,
        "confirm",
        top.bid_id if top else None,
        top_participant,
        top_participant,
        "",
        False,
        problem,
    )


def resolve(units: Iterable[Unit], items: Iterable[Item]) -> tuple[Decided, ...]:
    """Every unit decided: the exceptions that stand, the ranking elsewhere."""
    by_key = {i.key: i for i in items}
    return tuple(decide_unit(u, by_key.get(u.key)) for u in units)


def unknown_items(units: Iterable[Unit], items: Iterable[Item]) -> list[Item]:
    """Exceptions naming a unit the ranking does not have."""
    keys = {u.key for u in units}
    return [i for i in items if i.key not in keys]


def digest(decided: Sequence[Decided]) -> str:
    """SHA-256 of the decision's content (outcome, winner and reason of every unit): what the
    members vote on."""
    rows = [
        [d.lot, d.position, d.outcome, d.winner_bid_id, d.reason]
        for d in sorted(decided, key=lambda d: (d.lot, d.position or ""))
    ]
    data = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def deviations(decided: Iterable[Decided]) -> list[Decided]:
    """The units where the decision departs from the ranking."""
    return [d for d in decided if d.deviation]


def problems(decided: Iterable[Decided]) -> list[Text]:
    """The exceptions the current ranking no longer admits."""
    return [d.problem for d in decided if d.problem is not None]


# -- the commission and its vote ---------------------------------------------------------------


def check_commission(
    member_ids: Sequence[int], chair_id: int | None, eligible: set[int]
) -> Text | None:
    """Why a commission cannot be formed, or None: at least one member, all of them members of
    the customer organization, no one twice, and a chair among them."""
    if not member_ids:
        return N_("Name at least one member of the commission.")
    if len(member_ids) > MEMBERS_MAX:
        return N_("A commission has at most %(max)s members.", max=MEMBERS_MAX)
    if len(set(member_ids)) != len(member_ids):
        return N_("A member is named twice.")
    outsiders = [m for m in member_ids if m not in eligible]
    if outsiders:
        return N_("User %(user)s is not a member of the customer organization.", user=outsiders[0])
    if chair_id is None:
        return N_("Name the chair of the commission.")
    if chair_id not in member_ids:
        return N_("The chair must be a member of the commission.")
    return None


def check_vote(choice: str, comment: str) -> Text | None:
    """Why a vote cannot be cast, or None: for or against, a comment for every "against"."""
    if choice not in VOTES:
        return N_("Vote for or against.")
    if choice == "against" and not comment:
        return N_("Say why you vote against: a comment is required.")
    if len(comment) > COMMENT_MAX:
        return N_("The comment is longer than %(max)s characters.", max=COMMENT_MAX)
    return None


@dataclass(frozen=True, slots=True)
class Tally:
    """The votes of the commission's members on one decision digest."""

    members: int
    votes_for: int
    votes_against: int

    @property
    def pending(self) -> int:
        return self.members - self.votes_for - self.votes_against

    @property
    def needed(self) -> int:
        """Votes for that make a majority of the whole commission."""
        return self.members // 2 + 1

    @property
    def majority(self) -> bool:
        return has_majority(self.members, self.votes_for)


def has_majority(members: int, votes_for: int) -> bool:
    """A strict majority of the whole commission is for (absent members count as not for)."""
    return members > 0 and 2 * votes_for > members


def tally(member_ids: Iterable[int], votes: Mapping[int, str]) -> Tally:
    """Count the members' votes (user id -> "for"/"against") on the current digest; votes of
    anyone not (any more) on the commission do not count."""
    members = set(member_ids)
    counted = [v for user, v in votes.items() if user in members]
    return Tally(len(members), counted.count("for"), counted.count("against"))


def close_problem(t: Tally, stale: bool, open_problems: int) -> Text | None:
    """Why the chair cannot close the vote yet, or None."""
    if open_problems:
        return N_("The decision names offers the ranking no longer admits: prepare it again first.")
    if stale:
        return N_("The decision changed since it was prepared: prepare it again and vote anew.")
    if not t.majority:
        return N_(
            "No majority yet: %(for)s of %(members)s members voted for, %(needed)s are needed.",
            **{"for": t.votes_for, "members": t.members, "needed": t.needed},
        )
    return None
