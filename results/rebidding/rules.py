"""Pure rules of the re-bidding round: who may announce one and when, whom it may invite,
and what an improved offer may change. Standard library and other pure rules only; the
current time is always an argument. Messages are English Texts (core.messages) the edge
translates; every problem names its field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bids.rules import Line, Offer, Problem, Refusal
from core.messages import N_, Text
from results.rules import CriterionDef

MIN_LEAD = dt.timedelta(hours=1)
MAX_LEAD = dt.timedelta(days=30)
SCOPES = ("prices", "prices_and_criteria")
# A round is announced between the close and the publication of the results.
ANNOUNCE_STATUSES = ("closed",)


# --------------------------------------------------------------------------- announcing


def announce_refusal(status: str, open_round: int | None) -> Refusal | None:
    """Why no round can be announced on a tender in this state (None: one can)."""
    if status == "results_published":
        return Refusal("rebidding_published", {})
    if status not in ANNOUNCE_STATUSES:
        return Refusal("rebidding_not_closed", {"status": status})
    if open_round is not None:
        return Refusal("rebidding_running", {"round": open_round})
    return None


def deadline_problems(
    deadline: dt.datetime, now: dt.datetime, min_lead: dt.timedelta = MIN_LEAD
) -> list[Problem]:
    """The round's deadline: at least min_lead after now (the server's clock), at most 30 days."""
    if deadline.tzinfo is None or deadline.utcoffset() is None:
        return [("deadline", Text(N_("Give the deadline with its time zone.")))]
    if deadline < now + min_lead:
        minutes = int(min_lead.total_seconds() // 60)
        return [
            (
                "deadline",
                Text(
                    N_("The round's deadline must be at least %(minutes)s minutes from now."),
                    minutes=minutes,
                ),
            )
        ]
    if deadline > now + MAX_LEAD:
        return [("deadline", Text(N_("The round's deadline must be within 30 days.")))]
    return []


def invitation_problems(
    lots: Sequence[int],
    tender_lots: set[int],
    admissible: Mapping[int, set[int]],
    invited: Sequence[int] | None,
) -> tuple[dict[int, list[int]], list[Problem]]:
    """Whom the round invites per lot: every admissible participant of each lot (invited
    None), or those of the named participants admissible in it. admissible: lot -> participant
    numbers with a valid (not disqualified) offer in it. Returns ({lot: participants}, problems)."""
    problems: list[Problem] = []
    if not lots:
        problems.append(("lots", Text(N_("Choose at least one lot."))))
    if len(set(lots)) != len(lots):
        problems.append(("lots", Text(N_("A lot is named twice."))))
    chosen: dict[int, list[int]] = {}
    for lot in dict.fromkeys(lots):
        if lot not in tender_lots:
            problems.append(("lots", Text(N_("There is no lot %(lot)s."), lot=lot)))
            continue
        valid = admissible.get(lot, set())
        if not valid:
            text = N_("Lot %(lot)s has no admissible offer: there is nobody to invite.")
            problems.append(("lots", Text(text, lot=lot)))
            continue
        chosen[lot] = sorted(valid if invited is None else valid & set(invited))
    if invited is not None:
        problems += _invited_problems(lots, admissible, invited, chosen)
    return chosen, problems


def _invited_problems(
    lots: Sequence[int],
    admissible: Mapping[int, set[int]],
    invited: Sequence[int],
    chosen: Mapping[int, list[int]],
) -> list[Problem]:
    """A chosen subset: each named participant admissible in a lot of the round, and each
    lot with at least one of them."""
    if not invited:
        return [("participants", Text(N_("Invite at least one participant.")))]
    problems: list[Problem] = []
    anywhere = set().union(*(admissible.get(lot, set()) for lot in lots))
    for number in dict.fromkeys(invited):
        if number not in anywhere:
            text = N_("Participant %(number)s has no admissible offer in the lots of the round.")
            problems.append(("participants", Text(text, number=number)))
    for lot, who in chosen.items():
        if not who:
            text = N_("None of the invited participants has an admissible offer in lot %(lot)s.")
            problems.append(("participants", Text(text, lot=lot)))
    return problems


# --------------------------------------------------------------------------- improving


@dataclass(frozen=True)
class RoundLot:
    """A lot of the round as the improvement rule needs it: its position numbers and its
    criteria (with their directions and option scores)."""

    number: int
    positions: tuple[str, ...]
    criteria: tuple[CriterionDef, ...] = ()


def _worse(c: CriterionDef, before: object, after: object) -> bool:
    """Whether `after` is a worse value of criterion c than `before` (a dropped value is
    worse; a new one is not; text is informational and never worse)."""
    if before is None or (isinstance(before, str) and not before.strip()):
        return False
    if after is None or (isinstance(after, str) and not after.strip()):
        return True
    if c.kind == "number":
        if not isinstance(before, Decimal) or not isinstance(after, Decimal):
            return before != after
        return after < before if c.direction != "lower_better" else after > before
    if c.kind == "boolean":
        return before is True and after is not True
    if c.kind == "choice":
        return c.options.get(str(after), Decimal(0)) < c.options.get(str(before), Decimal(0))
    return False


def _line_problems(
    previous: Offer, prices: Mapping[str, Decimal], lots: Sequence[RoundLot]
) -> list[Problem]:
    in_round = {n for lot in lots for n in lot.positions}
    problems: list[Problem] = []
    for number, price in prices.items():
        where = f"lines.{number}.unit_price"
        before = previous.lines.get(number)
        if number not in in_round:
            text = N_("Position %(number)s is not in this re-bidding round for you.")
            problems.append((where, Text(text, number=number)))
        elif before is None:
            text = N_(
                "Position %(number)s: you did not offer it before; a re-bidding round "
                "cannot add positions."
            )
            problems.append((where, Text(text, number=number)))
        elif price > before.unit_price:
            text = N_(
                "Position %(number)s: the unit price %(price)s is above your previous "
                "price %(previous)s; a re-bidding round only takes lower or equal prices."
            )
            problems.append(
                (where, Text(text, number=number, price=price, previous=before.unit_price))
            )
    return problems


def _criteria_problems(
    previous: Offer,
    values: Mapping[tuple[int, int], object] | None,
    lots: Sequence[RoundLot],
    criteria_allowed: bool,
) -> list[Problem]:
    if values is None:
        return []
    problems: list[Problem] = []
    known = {(lot.number, c.id): c for lot in lots for c in lot.criteria}
    for (lot, cid), value in values.items():
        where = f"criteria.{lot}.{cid}"
        c = known.get((lot, cid))
        before = previous.criteria.get((lot, cid))
        if c is None:
            text = N_("Lot %(lot)s: criterion %(criterion)s is not in this re-bidding round.")
            problems.append((where, Text(text, lot=lot, criterion=cid)))
        elif not criteria_allowed and value != before:
            text = N_(
                "Lot %(lot)s, %(name)s: this round takes prices only; criterion values "
                "cannot change."
            )
            problems.append((where, Text(text, lot=lot, name=c.name)))
        elif _worse(c, before, value):
            text = N_(
                "Lot %(lot)s, %(name)s: %(value)s is worse than your previous value "
                "%(previous)s; a re-bidding round only takes equal or better values."
            )
            problems.append((where, Text(text, lot=lot, name=c.name, value=value, previous=before)))
    return problems


def improvement_problems(
    previous: Offer,
    prices: Mapping[str, Decimal],
    values: Mapping[tuple[int, int], object] | None,
    lots: Sequence[RoundLot],
    *,
    criteria_allowed: bool,
) -> list[Problem]:
    """Why an improved offer is refused, per position and criterion (empty: it is not).

    previous: the bid's offer before; prices: the new unit prices of some positions of the
    round's lots this bidder is invited to (lots); values: the new criterion values of those
    lots (None: unchanged). Every unit price at most its previous one, no position added,
    criterion values never worse (number by its direction, boolean, choice by its score) and
    unchanged unless the round takes criteria."""
    problems = _line_problems(previous, prices, lots)
    problems += _criteria_problems(previous, values, lots, criteria_allowed)
    if not prices and not values:
        problems.append(("lines", Text(N_("The improved offer changes no price."))))
    return problems


def merged_offer(
    previous: Offer,
    prices: Mapping[str, Decimal],
    values: Mapping[tuple[int, int], object] | None,
) -> Offer:
    """The full offer after the round: the previous one with the improved prices (notes
    kept) and criterion values; every other line and value as it was."""
    lines = {
        number: Line(prices[number], line.note) if number in prices else line
        for number, line in previous.lines.items()
    }
    criteria = dict(previous.criteria)
    criteria.update(values or {})
    return Offer(lines=lines, criteria=criteria)


def improved_positions(previous: Offer, offer: Offer) -> dict[str, tuple[Decimal, Decimal]]:
    """Positions whose unit price went down: number -> (before, after)."""
    return {
        n: (previous.lines[n].unit_price, line.unit_price)
        for n, line in offer.lines.items()
        if n in previous.lines and line.unit_price < previous.lines[n].unit_price
    }
