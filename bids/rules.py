"""Pure bidding rules: the 30-minute auto-extension, offer checks and price ranks.

Everything here is plain data and standard library only (no Flask, no SQLAlchemy); the
current time is always an argument. Money is Decimal; datetimes are timezone-aware.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import NamedTuple

from core.messages import N_, Text

# (field, message): every problem names the field it is about; the message is an English
# Text keeping its catalog template and values (the edge translates: core.api.translate).
Problem = tuple[str, str]

MODES = ("from_deadline", "from_change")
AWARD_MODES = ("per_position", "whole_lot")
CRITERION_KINDS = ("number", "boolean", "choice", "text")
TEXT_MAX_CHARS = 2000
MISSING_LISTED = 20


# --------------------------------------------------------------------------- auto-extension


def _require_aware(name: str, moment: dt.datetime) -> None:
    """Refuse a naive datetime (no tzinfo or no UTC offset) with ValueError."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}.")


@dataclass(frozen=True)
class ExtensionPolicy:
    """How a late triggering change moves the deadline (defaults: 30 min window, +30 min)."""

    window: dt.timedelta = dt.timedelta(minutes=30)
    extension: dt.timedelta = dt.timedelta(minutes=30)
    mode: str = "from_deadline"
    trigger_rank: int | None = None
    max_extensions: int | None = None
    latest_close: dt.datetime | None = None

    def __post_init__(self) -> None:
        """Refuse a policy the rule cannot apply."""
        if self.mode not in MODES:
            raise ValueError(f"Unknown extension mode {self.mode!r}; use one of {MODES}.")
        if self.window < dt.timedelta(0):
            raise ValueError("The extension window cannot be negative.")
        if self.extension <= dt.timedelta(0):
            raise ValueError("The extension must be positive.")
        if self.trigger_rank is not None and self.trigger_rank < 1:
            raise ValueError("The triggering rank starts at 1.")
        if self.max_extensions is not None and self.max_extensions < 0:
            raise ValueError("The cap on extensions cannot be negative.")
        if self.latest_close is not None:
            _require_aware("latest_close", self.latest_close)


@dataclass(frozen=True)
class Refusal:
    """Why a change is refused: a stable code and what its message names (the words are
    made at the edge: core/messages.py)."""

    code: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """Outcome of a change: accepted or refused (refusal), and the deadline now in force."""

    accepted: bool
    deadline: dt.datetime
    extended: bool
    previous_deadline: dt.datetime
    refusal: Refusal | None = None


# The statuses a tender reaches only at its close: bidding ended at the deadline.
CLOSED_STATUSES = ("closed", "unsuccessful", "results_published")


def closed(deadline: dt.datetime) -> Refusal:
    """The refusal of a change once the deadline has passed."""
    return Refusal("bidding_closed", {"deadline": deadline})


def bidding_refusal(
    status: str, deadline: dt.datetime, now: dt.datetime | None = None
) -> Refusal | None:
    """Why a published-or-later tender takes no bid change (None: it does). A closed tender
    refuses as a late change does, naming the deadline, whether or not the close job ran;
    now=None checks the status only."""
    if status in CLOSED_STATUSES:
        return closed(deadline)
    if status != "published":
        return Refusal("tender_not_open", {"status": status})
    if now is not None and now >= deadline:
        return closed(deadline)
    return None


def _may_extend(
    deadline: dt.datetime,
    accepted_at: dt.datetime,
    policy: ExtensionPolicy,
    rank: int | None,
    extensions_so_far: int,
) -> bool:
    """Whether an accepted triggering change qualifies (window, rank, cap on count)."""
    if accepted_at < deadline - policy.window:
        return False
    if policy.trigger_rank is not None and (rank is None or rank > policy.trigger_rank):
        return False
    return policy.max_extensions is None or extensions_so_far < policy.max_extensions


def _new_deadline(
    deadline: dt.datetime, accepted_at: dt.datetime, policy: ExtensionPolicy
) -> dt.datetime:
    """The deadline the extension would set, capped by latest_close (may not move at all)."""
    if policy.mode == "from_deadline":
        moved = deadline + policy.extension
    else:
        moved = max(deadline, accepted_at + policy.extension)
    if policy.latest_close is not None:
        moved = min(moved, policy.latest_close)
    return moved.astimezone(deadline.tzinfo)


def decide(
    deadline: dt.datetime,
    accepted_at: dt.datetime,
    policy: ExtensionPolicy,
    *,
    triggering: bool,
    rank: int | None = None,
    extensions_so_far: int = 0,
) -> Decision:
    """Accept a change before the deadline (refuse it at or after); apply the 30-minute rule."""
    _require_aware("deadline", deadline)
    _require_aware("accepted_at", accepted_at)
    if accepted_at >= deadline:
        return Decision(False, deadline, False, deadline, closed(deadline))
    if triggering and _may_extend(deadline, accepted_at, policy, rank, extensions_so_far):
        moved = _new_deadline(deadline, accepted_at, policy)
        if moved > deadline:
            return Decision(True, moved, True, deadline)
    return Decision(True, deadline, False, deadline)


# --------------------------------------------------------------------------- offers


class Line(NamedTuple):
    """One priced position of an offer; the note never matters to the rules (a NamedTuple,
    like PositionSpec: a revision may have 50,000 lines)."""

    unit_price: Decimal
    note: str = ""


@dataclass(frozen=True)
class Offer:
    """A bidder's offer: position number -> line, (lot number, criterion id) -> value."""

    lines: Mapping[str, Line]
    criteria: Mapping[tuple[int, int], object] = field(default_factory=dict)


def _given(value: object) -> bool:
    """A criterion value counts as given unless it is None or blank text."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def _comparable(value: object) -> tuple[str, object]:
    """A criterion value tagged by kind, so True never equals Decimal(1) and NaN equals NaN."""
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, Decimal) and not value.is_finite():
        return ("special", str(value))
    if isinstance(value, int | Decimal):
        return ("number", value)
    return (type(value).__name__, value)


def _offer_key(offer: Offer) -> tuple[dict[str, tuple[str, object]], dict[object, object]]:
    """What a revision must change to trigger: prices by position and given criterion values."""
    prices = {number: _comparable(line.unit_price) for number, line in offer.lines.items()}
    criteria = {key: _comparable(v) for key, v in offer.criteria.items() if _given(v)}
    return prices, criteria


def is_triggering(previous: Offer | None, new: Offer) -> bool:
    """A first bid, or a revision changing priced positions, a unit price or a criterion value."""
    return previous is None or _offer_key(previous) != _offer_key(new)


# --------------------------------------------------------------------------- validation


class PositionSpec(NamedTuple):
    """A tender position as the offer checks need it (a NamedTuple: 50,000 are made per
    revision, several times faster than a frozen dataclass)."""

    number: str
    quantity: Decimal
    max_unit_price: Decimal | None = None


@dataclass(frozen=True)
class CriterionSpec:
    """A non-price criterion of a lot; options are the choice labels."""

    id: int
    name: str
    kind: str
    required: bool = False
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    options: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse an unknown kind."""
        if self.kind not in CRITERION_KINDS:
            raise ValueError(f"Unknown criterion kind {self.kind!r}; use one of {CRITERION_KINDS}.")


@dataclass(frozen=True)
class LotSpec:
    """A lot: how it is awarded, its positions and its criteria."""

    number: int
    award_mode: str
    positions: tuple[PositionSpec, ...]
    criteria: tuple[CriterionSpec, ...] = ()

    def __post_init__(self) -> None:
        """Refuse an unknown award mode."""
        if self.award_mode not in AWARD_MODES:
            raise ValueError(f"Unknown award mode {self.award_mode!r}; use one of {AWARD_MODES}.")


# 100 digits hold any product of two NUMERIC(18, x) values exactly; one shared context instead
# of a localcontext() per call (a 50,000-line revision computes 100,000 line totals).
_EXACT = Context(prec=100)
_STEPS = {places: Decimal(1).scaleb(-places) for places in range(7)}


def line_total(unit_price: Decimal, quantity: Decimal, places: int = 2) -> Decimal:
    """unit_price x quantity, rounded half-up to `places` decimals (exact product first)."""
    step = _STEPS.get(places) or Decimal(1).scaleb(-places)
    return _EXACT.multiply(unit_price, quantity).quantize(step, ROUND_HALF_UP, _EXACT)


def first_offered(
    history: Sequence[tuple[dt.datetime, Mapping[str, Decimal], Mapping[int, Mapping]]],
    lot_of: Mapping[str, int],
) -> dict[str, dt.datetime]:
    """When each line of the final revision was first offered as it stands.

    history: a bid's revisions in order as (accepted_at, {position: unit price},
    {lot number: {criterion id: value}}). A line's moment is the earliest revision since
    which its price and its lot's criterion values stayed unchanged up to the final one."""
    if not history:
        return {}
    final_at, final_prices, final_criteria = history[-1]
    since = dict.fromkeys(final_prices, final_at)
    open_lines = set(final_prices)
    for accepted_at, prices, criteria in reversed(history[:-1]):
        for number in list(open_lines):
            lot = lot_of.get(number)
            if prices.get(number) == final_prices[number] and criteria.get(
                lot, {}
            ) == final_criteria.get(lot, {}):
                since[number] = accepted_at
            else:
                open_lines.discard(number)
        if not open_lines:
            break
    return since


def decimal_places(value: Decimal) -> int:
    """Decimals a value really needs: 10.50 -> 1, 10.000 -> 0, 1E+2 -> 0."""
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or not any(digits):  # NaN, infinities, zero
        return 0
    count = len(digits)
    while exponent < 0 and count > 1 and digits[count - 1] == 0:
        count -= 1
        exponent += 1
    return max(0, -exponent)


def _finite_decimal(value: object) -> bool:
    """A Decimal that is a real number (not NaN, not infinite)."""
    return isinstance(value, Decimal) and value.is_finite()


def _price_problems(position: PositionSpec, price: object, places: int) -> list[Problem]:
    """Problems of one unit price: a positive number, few enough decimals, within the maximum."""
    where, number = f"lines.{position.number}.unit_price", position.number
    if not _finite_decimal(price):
        return [
            (
                where,
                Text(N_("Position %(number)s: the unit price must be a number."), number=number),
            )
        ]
    assert isinstance(price, Decimal)
    problems: list[Problem] = []
    if price <= 0:
        problems.append(
            (
                where,
                Text(N_("Position %(number)s: the unit price must be positive."), number=number),
            )
        )
    if decimal_places(price) > places:
        text = N_(
            "Position %(number)s: the unit price %(price)s has more than %(places)s decimal places."
        )
        problems.append((where, Text(text, number=number, price=price, places=places)))
    cap = position.max_unit_price
    if cap is not None and price > cap:
        text = N_(
            "Position %(number)s: the unit price %(price)s is above the maximum unit price %(max)s."
        )
        problems.append((where, Text(text, number=number, price=price, max=cap)))
    return problems


def _missing_text(numbers: list[str]) -> str:
    """At most MISSING_LISTED position numbers, then 'and N more'."""
    shown = ", ".join(numbers[:MISSING_LISTED])
    rest = len(numbers) - MISSING_LISTED
    return Text(N_("%(shown)s and %(rest)s more"), shown=shown, rest=rest) if rest > 0 else shown


def _whole_lot_problem(lot: LotSpec, priced: Mapping[str, Line]) -> list[Problem]:
    """A whole_lot lot the offer bids on must price every one of its positions."""
    missing = [p.number for p in lot.positions if p.number not in priced]
    if lot.award_mode != "whole_lot" or not missing:
        return []
    return [
        (
            f"lots.{lot.number}",
            Text(
                N_(
                    "Lot %(lot)s is awarded as a whole: price every position. Missing: %(missing)s."
                ),
                lot=lot.number,
                missing=_missing_text(missing),
            ),
        )
    ]


def _number_problem(c: CriterionSpec, value: object) -> str | None:
    """A number value: a finite Decimal within [min_value, max_value]."""
    if isinstance(value, bool) or not _finite_decimal(value):
        return Text(N_("give a number."))
    assert isinstance(value, Decimal)
    if c.min_value is not None and value < c.min_value:
        return Text(N_("at least %(min)s (got %(value)s)."), min=c.min_value, value=value)
    if c.max_value is not None and value > c.max_value:
        return Text(N_("at most %(max)s (got %(value)s)."), max=c.max_value, value=value)
    return None


def _value_problem(c: CriterionSpec, value: object) -> str | None:
    """What is wrong with a given criterion value, or None."""
    if c.kind == "number":
        return _number_problem(c, value)
    if c.kind == "boolean":
        return None if isinstance(value, bool) else Text(N_("answer yes or no."))
    if c.kind == "choice":
        if isinstance(value, str) and value in c.options:
            return None
        return Text(N_("choose one of: %(options)s."), options=", ".join(c.options))
    if not isinstance(value, str):
        return Text(N_("give a text."))
    if len(value) > TEXT_MAX_CHARS:
        text = N_("at most %(max)s characters (got %(count)s).")
        return Text(text, max=TEXT_MAX_CHARS, count=len(value))
    return None


def _criteria_problems(lot: LotSpec, values: Mapping[tuple[int, int], object]) -> list[Problem]:
    """Required criteria present and every given value valid, for a lot the offer bids on."""
    problems: list[Problem] = []
    for c in lot.criteria:
        value = values.get((lot.number, c.id))
        if not _given(value):
            message = Text(N_("required.")) if c.required else None
        else:
            message = _value_problem(c, value)
        if message:
            text = Text(
                N_("Lot %(lot)s, '%(name)s': %(problem)s"),
                lot=lot.number,
                name=c.name,
                problem=message,
            )
            problems.append((f"criteria.{lot.number}.{c.id}", text))
    return problems


def _stray_criteria(
    lots: Sequence[LotSpec], bid_lots: set[int], values: Mapping[tuple[int, int], object]
) -> list[Problem]:
    """Values given for an unknown lot or criterion, or for a lot the offer does not bid on."""
    known = {(lot.number, c.id) for lot in lots for c in lot.criteria}
    problems: list[Problem] = []
    for (lot_number, criterion_id), value in values.items():
        where = f"criteria.{lot_number}.{criterion_id}"
        if not _given(value):
            continue
        if (lot_number, criterion_id) not in known:
            text = N_("Lot %(lot)s has no criterion %(criterion)s.")
            problems.append((where, Text(text, lot=lot_number, criterion=criterion_id)))
        elif lot_number not in bid_lots:
            text = N_("Lot %(lot)s: you do not bid on this lot, so leave its criteria out.")
            problems.append((where, Text(text, lot=lot_number)))
    return problems


def offer_problems(
    lots: Sequence[LotSpec], offer: Offer, currency_places: int = 2
) -> list[tuple[str, str]]:
    """Every problem of an offer against the tender's lots, all at once, as (field, message)."""
    problems: list[Problem] = []
    known = {p.number for lot in lots for p in lot.positions}
    bid_lots: set[int] = set()
    for lot in lots:
        priced = [p for p in lot.positions if p.number in offer.lines]
        for position in priced:
            problems += _price_problems(
                position, offer.lines[position.number].unit_price, currency_places
            )
        if priced:
            bid_lots.add(lot.number)
            problems += _whole_lot_problem(lot, offer.lines)
            problems += _criteria_problems(lot, offer.criteria)
    for number in offer.lines:
        if number not in known:
            text = Text(N_("Position %(number)s is not in this tender."), number=number)
            problems.append((f"lines.{number}", text))
    if not bid_lots:
        problems.append(("lines", Text(N_("Price at least one position."))))
    problems += _stray_criteria(lots, bid_lots, offer.criteria)
    return problems


# --------------------------------------------------------------------------- ranks

# (bidder key, compared amount, moment that amount was made; None sorts after any moment)
_Entry = tuple[str, Decimal, dt.datetime | None]


def _entry_key(entry: _Entry) -> tuple[Decimal, bool, dt.datetime | None]:
    """Lower amount first, then earlier moment; a missing moment after every known one."""
    _, amount, moment = entry
    return amount, moment is None, moment


def _competition_ranks(entries: Iterable[_Entry]) -> dict[str, int]:
    """Rank 1 = lowest amount, then earliest moment; identical (amount, moment) share a rank."""
    ranks: dict[str, int] = {}
    previous, rank = None, 0
    for index, entry in enumerate(sorted(entries, key=_entry_key)):
        if _entry_key(entry) != previous:
            rank, previous = index + 1, _entry_key(entry)
        ranks[entry[0]] = rank
    return ranks


def _position_entries(
    offers: Mapping[str, Offer],
    first_made: Mapping[tuple[str, str], dt.datetime],
    number: str,
) -> list[_Entry]:
    """Each bidder's unit price for one position, with the moment it was first made."""
    return [
        (bidder, offer.lines[number].unit_price, first_made.get((bidder, number)))
        for bidder, offer in offers.items()
        if number in offer.lines and _finite_decimal(offer.lines[number].unit_price)
    ]


def _lot_entries(
    offers: Mapping[str, Offer],
    first_made: Mapping[tuple[str, str], dt.datetime],
    lot: LotSpec,
) -> list[_Entry]:
    """Each complete offer's lot total, with the latest first_made among its lot lines."""
    entries: list[_Entry] = []
    for bidder, offer in offers.items():
        lines = [(p, offer.lines.get(p.number)) for p in lot.positions]
        if not lines or any(
            line is None or not _finite_decimal(line.unit_price) for _, line in lines
        ):
            continue
        total = sum(
            (line_total(line.unit_price, p.quantity) for p, line in lines if line is not None),
            Decimal(0),
        )
        moments = [first_made.get((bidder, p.number)) for p in lot.positions]
        latest = None if None in moments else max(m for m in moments if m is not None)
        entries.append((bidder, total, latest))
    return entries


def price_ranks(
    offers: Mapping[str, Offer],
    first_made: Mapping[tuple[str, str], dt.datetime],
    lots: Sequence[LotSpec],
) -> dict[str, int | None]:
    """Each bidder's best price rank over per_position positions and whole_lot lot totals."""
    best: dict[str, int | None] = dict.fromkeys(offers)
    for lot in lots:
        if lot.award_mode == "whole_lot":
            rankings = [_competition_ranks(_lot_entries(offers, first_made, lot))]
        else:
            rankings = [
                _competition_ranks(_position_entries(offers, first_made, p.number))
                for p in lot.positions
            ]
        for ranking in rankings:
            for bidder, rank in ranking.items():
                current = best[bidder]
                best[bidder] = rank if current is None else min(current, rank)
    return best


# --- visibility of offers -------------------------------------------------------------------

VISIBILITY_MODES = ("open_after_own_bid", "rank_only", "sealed")


def visibility_level(mode: str, *, viewer: str, has_own_bid: bool, bidding_open: bool) -> str:
    """What a viewer may see of the offers: "count" (number of bids only), "rank" (own rank
    and the best price), "offers" (every offer, participants anonymous) or "named".

    viewer is "customer" (the tender's own), "supplier" (any other organization) or "public".
    After the close the customer sees names; suppliers keep their view until results are
    published (the results then show every offer with names: results/outcome.py)."""
    if mode not in VISIBILITY_MODES:
        raise ValueError(f"unknown visibility mode {mode!r}")
    if viewer == "customer":
        if not bidding_open:
            return "named"
        return "count" if mode == "sealed" else "offers"
    if viewer != "supplier" or not has_own_bid or mode == "sealed":
        return "count"
    return "rank" if mode == "rank_only" else "offers"
