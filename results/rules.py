"""Evaluation of offers after the close: ranks, scores with their breakdown, winners.

Pure functions over plain data (no Flask, no SQLAlchemy), following DESIGN.md "Evaluation and
results":

- ``score = w_price * (best_price / price) + sum_i w_i * s_i`` with weights in percent; ``s_i``
  in [0, 1]: number ``higher_better`` -> value / best value, ``lower_better`` -> best value /
  value, boolean -> 1 or 0, choice -> option score / best option score of the criterion.
  ``text`` criteria are informational and not scored. A missing (optional) value scores 0.
- "best" is taken among the valid offers competing for the same unit: a position of a
  ``per_position`` lot, or a ``whole_lot`` lot (on the lot total).
- Ties: the higher score first, then the lower price, then the earlier moment at which that
  offer was first made, then (only for identical moments, which the tender lock makes
  practically impossible) the lower participant number, so every ranking is total.
- Disqualified bids (the whole bid, or one lot) drop out and are listed apart with the reason.

Quantization (the one place where rounding happens): each part of a score, i.e. the price
part ``w_price * best / price`` and each criterion part ``w_i * s_i``, is computed exactly as a
fraction and rounded half-up to 6 decimal places (``POINTS``); the score is the exact sum of
its rounded parts, so the parts shown always add up to the score shown and the ranking uses
exactly the numbers the customer sees. ``s_i`` and the price ratio are shown rounded the same
way. Lot totals are the sum of the lines' totals (unit price x quantity, half-up to cents,
as stored with the bid).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from operator import itemgetter
from typing import NamedTuple

from bids.rules import line_total  # the one rule: unit price x quantity, half-up to cents
from core.collector import collector_paused

AWARD_MODES = ("per_position", "whole_lot")
SCORED_KINDS = ("number", "boolean", "choice")
PLACES = 6
POINTS = Decimal(1).scaleb(-PLACES)
_SCALE = 10**PLACES
_ZERO = Decimal(0)
_TWO_MILLION = Decimal(2 * _SCALE)
# The fast paths compute with Decimal operators in this context: nothing can round (the
# precision is unbounded in practice), and if anything ever did, Inexact would raise rather
# than give a wrong digit. Integer division (//) of Decimals is exact by definition.
_EXACT = Context(
    prec=MAX_PREC,
    rounding=ROUND_HALF_UP,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact],
)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class CriterionDef:
    """A non-price criterion of a lot; `options` maps a choice label to its score."""

    id: int
    name: str
    kind: str
    weight: Decimal = _ZERO
    direction: str | None = None
    options: Mapping[str, Decimal] = field(default_factory=dict)
    unit: str = ""

    def __post_init__(self) -> None:
        """Weights and option scores as Decimals (ints are accepted)."""
        object.__setattr__(self, "weight", Decimal(self.weight))
        object.__setattr__(self, "options", {k: Decimal(v) for k, v in self.options.items()})

    @property
    def scored(self) -> bool:
        return self.kind in SCORED_KINDS and self.weight > 0


@dataclass(frozen=True, slots=True)
class PositionDef:
    """A position as the evaluation needs it."""

    number: str
    quantity: Decimal
    max_unit_price: Decimal | None = None
    id: int | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class LotDef:
    """A lot: how it is awarded, its positions, its price weight and criteria."""

    number: int
    award_mode: str
    positions: tuple[PositionDef, ...]
    price_weight: Decimal = Decimal(100)
    criteria: tuple[CriterionDef, ...] = ()
    id: int | None = None

    def __post_init__(self) -> None:
        """Refuse an unknown award mode."""
        if self.award_mode not in AWARD_MODES:
            raise ValueError(f"Unknown award mode {self.award_mode!r}; use one of {AWARD_MODES}.")


@dataclass(frozen=True, slots=True)
class OfferedLine:
    """A priced position of a bid's final offer and the moment that offer was first made
    (the earliest revision since which this price and the lot's criterion values held)."""

    unit_price: Decimal
    first_offered_at: dt.datetime
    total: Decimal | None = None  # unit price x quantity as stored; computed when None


@dataclass(frozen=True, slots=True)
class BidInput:
    """A bid's final offer. criteria: (lot number, criterion id) -> Decimal | bool | str.
    disqualified: the reason when the whole bid is out; disqualified_lots: lot -> reason."""

    bid_id: int
    participant_number: int
    organization_id: int
    lines: Mapping[str, OfferedLine]
    criteria: Mapping[tuple[int, int], object] = field(default_factory=dict)
    disqualified: str | None = None
    disqualified_lots: Mapping[int, str] = field(default_factory=dict)

    def exclusion(self, lot_number: int) -> str | None:
        """Why this bid is out of a lot's ranking, or None."""
        return self.disqualified or self.disqualified_lots.get(lot_number)


# --------------------------------------------------------------------------- outputs
# The per-offer records are immutable NamedTuples: a large tender has 300,000 of them and a
# NamedTuple is made four times faster than a frozen dataclass; read them by attribute.


class CriterionPart(NamedTuple):
    """One criterion's contribution: the value offered, the best it was compared with,
    s in [0, 1] (`ratio`), the weight and the points (weight x s, rounded to 6 places)."""

    criterion_id: int
    name: str
    value: object
    best: object
    ratio: Decimal
    weight: Decimal
    points: Decimal


class Breakdown(NamedTuple):
    """Why a score is what it is: the price part and each scored criterion's part.
    price_points = price_weight x best_price / price, rounded to 6 places."""

    price_weight: Decimal
    best_price: Decimal
    price_points: Decimal
    criteria: tuple[CriterionPart, ...] = ()

    def price_ratio(self, price: Decimal) -> Decimal:
        """best_price / price, rounded half-up to 6 places."""
        return ratio_points(Decimal(1), self.best_price, price)


class RankedOffer(NamedTuple):
    """An offer in a unit's ranking. unit_price is None for a whole lot (compared on its
    total). rank is None and status "disqualified" (with the reason) for an excluded offer.

    The breakdown's fields are stored flat (price_weight ... criteria) and `breakdown` puts
    them together when read: one record per offer instead of two (300,000 in a large tender).
    """

    bid_id: int
    participant_number: int
    organization_id: int
    rank: int | None
    unit_price: Decimal | None
    total: Decimal
    score: Decimal
    price_weight: Decimal
    best_price: Decimal
    price_points: Decimal
    criteria: tuple[CriterionPart, ...]
    first_offered_at: dt.datetime
    status: str = "valid"
    reason: str | None = None

    @property
    def price(self) -> Decimal:
        """What was compared: the unit price of a position, the total of a whole lot."""
        return self.unit_price if self.unit_price is not None else self.total

    @property
    def breakdown(self) -> Breakdown:
        """Why the score is what it is (see Breakdown)."""
        return Breakdown(self.price_weight, self.best_price, self.price_points, self.criteria)


@dataclass(frozen=True, slots=True)
class UnitResult:
    """The result of one position (per_position lot) or one lot (whole_lot).

    status "awarded" (winner = offers[0]) or "unsuccessful" (no valid offer). reference_total:
    quantity x maximum unit price over the positions that have one; savings: reference_total
    minus the winner's total over those same positions (None without a maximum price)."""

    lot_number: int
    award_mode: str
    position_number: str | None
    status: str
    offers: tuple[RankedOffer, ...]
    excluded: tuple[RankedOffer, ...] = ()
    reference_total: Decimal | None = None
    savings: Decimal | None = None

    @property
    def winner(self) -> RankedOffer | None:
        return self.offers[0] if self.offers else None

    @property
    def key(self) -> tuple[int, str | None]:
        return (self.lot_number, self.position_number)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Every unit's result, lots in order, positions in the order given."""

    results: tuple[UnitResult, ...]

    @property
    def awarded(self) -> int:
        return sum(1 for r in self.results if r.status == "awarded")

    @property
    def unsuccessful(self) -> int:
        return sum(1 for r in self.results if r.status == "unsuccessful")

    @property
    def savings(self) -> Decimal:
        return sum((r.savings for r in self.results if r.savings is not None), _ZERO)

    @property
    def reference_total(self) -> Decimal:
        """The maximum prices of the awarded units that have them (what savings compare to)."""
        return sum(
            (r.reference_total for r in self.results if r.savings is not None),
            _ZERO,
        )


# --------------------------------------------------------------------------- arithmetic


def _round_points(numerator: int, denominator: int) -> Decimal:
    """numerator / denominator rounded half-up to PLACES decimals, exactly (integers only)."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(numerator * _SCALE, denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return Decimal(quotient).scaleb(-PLACES)


def ratio_points(weight: Decimal, numerator: Decimal, denominator: Decimal) -> Decimal:
    """weight x numerator / denominator, rounded half-up to 6 places, exactly."""
    wn, wd = weight.as_integer_ratio()
    nn, nd = numerator.as_integer_ratio()
    dn, dd = denominator.as_integer_ratio()
    return _round_points(wn * nn * dd, wd * nd * dn)


def percent(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    """part / whole in percent, rounded half up to 0.01 (None without a base): the one rule
    for savings shares on pages, in the API and in the protocol."""
    if part is None or not whole:
        return None
    return (part * 100 / whole).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _criterion_best(c: CriterionDef, values: Iterable[object]) -> object:
    """The best value offered for a number criterion, the best option score for a choice."""
    if c.kind == "choice":
        return max(c.options.values(), default=_ZERO)
    if c.kind != "number":
        return None
    numbers = [v for v in values if isinstance(v, Decimal) and not isinstance(v, bool)]
    if not numbers:
        return None
    return max(numbers) if c.direction != "lower_better" else min(numbers)


def criterion_ratio(c: CriterionDef, value: object, best: object) -> tuple[int, int]:
    """s_i as an exact fraction (numerator, denominator) in [0, 1].

    Degenerate cases (DESIGN.md's ratios need positive numbers): when the best value is zero
    or negative, the offers equal to it get 1 and the others 0; a missing value gets 0."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0, 1
    if c.kind == "boolean":
        return (1, 1) if value is True else (0, 1)
    if c.kind == "choice":
        score = c.options.get(value) if isinstance(value, str) else None
        if score is None or not isinstance(best, Decimal) or best <= 0:
            return 0, 1
        sn, sd = score.as_integer_ratio()
        bn, bd = best.as_integer_ratio()
        return sn * bd, sd * bn
    if c.kind != "number" or not isinstance(value, Decimal) or not isinstance(best, Decimal):
        return 0, 1
    if best <= 0 or value <= 0:
        return (1, 1) if value == best else (0, 1)
    vn, vd = value.as_integer_ratio()
    bn, bd = best.as_integer_ratio()
    if c.direction == "lower_better":
        return bn * vd, bd * vn
    return vn * bd, vd * bn


# --------------------------------------------------------------------------- ranking

# A candidate of a unit: (bid, unit price or None, total, first offered at, exclusion reason).
_Candidate = tuple[BidInput, Decimal | None, Decimal, dt.datetime, str | None]


def _micro(q: int) -> Decimal:
    return Decimal(q).scaleb(-PLACES)


def _divide(numerator: int, denominator: int) -> int:
    """numerator / denominator in millionths, rounded half-up (positive denominator)."""
    quotient, remainder = divmod(numerator * _SCALE, denominator)
    return quotient + 1 if 2 * remainder >= denominator else quotient


class _LotScorer:
    """Scores of one lot's units in exact integer arithmetic (millionths of a point).

    A criterion's part depends only on (criterion, value, best value), so parts are made once
    and shared: a 10,000-position lot with a few distinct warranty terms makes a few parts.
    (Within one criterion values are of one kind, so a value is its own cache key.)"""

    def __init__(self, lot: LotDef):
        self.lot = lot
        self.scored = tuple(c for c in lot.criteria if c.scored)
        self.weight = lot.price_weight.as_integer_ratio()
        self._tables: dict[tuple[int, object], dict[object, tuple[int, CriterionPart]]] = {}
        self._fixed = {c.id: _criterion_best(c, ()) for c in self.scored if c.kind != "number"}

    def _part(self, c: CriterionDef, value: object, best: object) -> tuple[int, CriterionPart]:
        num, den = criterion_ratio(c, value, best)
        wn, wd = c.weight.as_integer_ratio()
        points = _divide(wn * num, wd * den)
        ratio = _micro(_divide(num, den))
        return points, CriterionPart(c.id, c.name, value, best, ratio, c.weight, _micro(points))

    def _table(self, c: CriterionDef, best: object) -> dict:
        key = (c.id, best)
        table = self._tables.get(key)
        if table is None:
            table = self._tables[key] = {}
        return table

    def _unit_tables(self, pool: list[_Candidate]) -> list[tuple]:
        """Per scored criterion: (criterion, best, value key, part cache) for one unit."""
        lot_number = self.lot.number
        tables = []
        for c in self.scored:
            if c.kind == "number":  # relative to the best value offered on this unit
                best = _criterion_best(c, [x[0].criteria.get((lot_number, c.id)) for x in pool])
            else:  # a choice's best option, a boolean's "yes": the same on every unit
                best = self._fixed.get(c.id)
            tables.append((c, best, (lot_number, c.id), self._table(c, best)))
        return tables

    def rank(
        self, candidates: list[_Candidate]
    ) -> tuple[tuple[RankedOffer, ...], tuple[RankedOffer, ...]]:
        """Rank the valid candidates of one unit; score the excluded ones against them too."""
        if not candidates:
            return (), ()
        any_excluded = any(c[4] is not None for c in candidates)
        valid = [c for c in candidates if c[4] is None] if any_excluded else candidates
        pool = valid or candidates
        whole = pool[0][1] is None  # a whole lot compares totals, a position unit prices
        best_price = min(c[2] for c in pool) if whole else min(c[1] for c in pool)
        tables = self._unit_tables(pool)
        bn, bd = best_price.as_integer_ratio()
        wn, wd = self.weight
        num, den = wn * bn * _SCALE, wd * bd
        scored = []
        append = scored.append
        for cand in candidates:
            price = cand[2] if whole else cand[1]
            pn, pd = price.as_integer_ratio()
            d = den * pn
            points, remainder = divmod(num * pd, d)
            if remainder + remainder >= d:
                points += 1
            price_points = _micro(points)
            if tables:
                total = points
                made = []
                values = cand[0].criteria
                for c, best, key, table in tables:
                    value = values.get(key)
                    hit = table.get(value)
                    if hit is None:
                        hit = table[value] = self._part(c, value, best)
                    total += hit[0]
                    made.append(hit[1])
                append(
                    (
                        -total,
                        price,
                        cand[3],
                        cand[0].participant_number,
                        cand,
                        price_points,
                        tuple(made),
                        _micro(total),
                    )
                )
            else:
                append(
                    (
                        -points,
                        price,
                        cand[3],
                        cand[0].participant_number,
                        cand,
                        price_points,
                        (),
                        price_points,
                    )
                )
        if any_excluded:
            ranked = sorted([s for s in scored if s[4][4] is None], key=_SORT_KEY)
        else:
            scored.sort(key=_SORT_KEY)
            ranked = scored
        weight = self.lot.price_weight
        offers = tuple(
            _offer(item, weight, best_price, rank) for rank, item in enumerate(ranked, start=1)
        )
        excluded: tuple[RankedOffer, ...] = ()
        if any_excluded and valid:
            excluded = tuple(
                self._as_if_admitted(valid, s[4])
                for s in sorted(scored, key=_BY_PARTICIPANT)
                if s[4][4] is not None
            )
        elif any_excluded:  # nobody valid: each scored against the excluded ones
            excluded = tuple(
                _offer(s, weight, best_price, None) for s in sorted(scored, key=_BY_PARTICIPANT)
            )
        return offers, excluded

    def _as_if_admitted(self, valid: list[_Candidate], cand: _Candidate) -> RankedOffer:
        """A disqualified offer with the score it would have had among the valid ones (so the
        customer sees what the disqualification changed); its rank stays None."""
        admitted = (*cand[:4], None)
        offers, _ = self.rank([*valid, admitted])
        own = next(o for o in offers if o.bid_id == cand[0].bid_id)
        return own._replace(rank=None, status="disqualified", reason=cand[4])

    def positions(
        self, chosen: Sequence[PositionDef], bids: Sequence[BidInput]
    ) -> list[UnitResult]:
        """The results of the chosen positions of a per_position lot: the hot path (a large
        tender is 10,000 positions x 30 bids), with exactly the results of rank() on each.

        What depends only on a bid (its exclusion, its criterion values and so its criterion
        parts for given best values) is worked out once per bid, not once per offer. A
        position where someone is excluded, or whose best price is not positive, goes through
        rank() (the general path)."""
        lot_number = self.lot.number
        reasons = [b.disqualified for b in bids]
        for i, bid in enumerate(bids):
            if reasons[i] is None and bid.disqualified_lots:
                reasons[i] = bid.disqualified_lots.get(lot_number)
        anyone_out = any(r is not None for r in reasons)
        entrants = [(i, b.lines.get, b, b.participant_number) for i, b in enumerate(bids)]
        scoring = _Scoring(self, bids) if self.scored else None
        references: dict[tuple[Decimal, Decimal], Decimal] = {}
        results: list[UnitResult] = []
        with localcontext(_EXACT):
            for position in chosen:
                results.append(
                    self._position(position, entrants, reasons, anyone_out, scoring, references)
                )
        return results

    def _position(
        self,
        position: PositionDef,
        entrants: list[tuple],
        reasons: list[str | None],
        anyone_out: bool,
        scoring: _Scoring | None,
        references: dict[tuple[Decimal, Decimal], Decimal],
    ) -> UnitResult:
        """One position's result (see positions())."""
        number, quantity = position.number, position.quantity
        # (price, first offered at, participant, bid index, bid, line): the order of the tie
        # rules, and the rows in the order of the bids (so min() keeps the first best price)
        rows = [
            (line.unit_price, line.first_offered_at, participant, i, bid, line)
            for i, get, bid, participant in entrants
            if (line := get(number)) is not None
        ]
        best = min([r[0] for r in rows]) if rows else None
        excluded: tuple[RankedOffer, ...] = ()
        if not rows:
            offers: tuple[RankedOffer, ...] = ()
        elif (anyone_out and any(reasons[r[3]] is not None for r in rows)) or not (
            best > 0 and self.weight[0] >= 0
        ):
            candidates = [
                (r[4], r[0], _line_total(r[5], position), r[1], reasons[r[3]]) for r in rows
            ]
            offers, excluded = self.rank(candidates)
        elif scoring is None:
            offers = self._price_only(rows, best, quantity)
        else:
            offers = scoring.rank(rows, best, quantity)
        reference = savings = None
        cap = position.max_unit_price
        if cap is not None:
            reference = references.get((cap, quantity))
            if reference is None:
                reference = references[cap, quantity] = line_total(cap, quantity)
            if offers:
                savings = reference - offers[0].total
        return UnitResult(
            self.lot.number,
            self.lot.award_mode,
            number,
            "awarded" if offers else "unsuccessful",
            offers,
            excluded,
            reference,
            savings,
        )

    def _price_only(self, rows: list, best: Decimal, quantity: Decimal) -> tuple:
        """Rank one position's offers on price alone (nobody excluded, best price > 0).

        The price part falls as the price rises (a weight is not negative), so the order of
        (price, moment, participant) is the order of (-score, price, moment, participant)."""
        weight = self.lot.price_weight
        twice = _twice_scaled(weight, best)
        rows.sort()
        exp, new = POINTS, _new
        offers = []
        append = offers.append
        for rank, (price, moment, participant, _, bid, line) in enumerate(rows, 1):
            # the price part in millionths, half-up: floor((2 w best 10^6 + p) / 2p), exact
            score = (twice + price) // (price + price) * exp
            total = line.total
            if total is None:
                total = line_total(price, quantity)
            append(
                new(
                    RankedOffer,
                    (
                        bid.bid_id,
                        participant,
                        bid.organization_id,
                        rank,
                        price,
                        total,
                        score,
                        weight,
                        best,
                        score,
                        (),
                        moment,
                        "valid",
                        None,
                    ),
                )
            )
        return tuple(offers)


def _twice_scaled(weight: Decimal, best: Decimal) -> Decimal:
    """2 x weight x best price x 10^6: the price part of a price p in millionths, half-up,
    is (this + p) // 2p, since floor(x / p + 1/2) = floor((2x + p) / 2p)."""
    return weight * best * _TWO_MILLION


class _Scoring:
    """The criterion side of one evaluate call of a lot with scored criteria: each bid's
    values (once), the best values of a position's offers, and each bid's points and parts
    against given best values (once per bid and set of best values)."""

    def __init__(self, scorer: _LotScorer, bids: Sequence[BidInput]):
        lot_number = scorer.lot.number
        self.scorer = scorer
        self.values = [
            tuple(b.criteria.get((lot_number, c.id)) for c in scorer.scored) for b in bids
        ]
        self.numeric = [(k, c) for k, c in enumerate(scorer.scored) if c.kind == "number"]
        self.fixed = tuple(
            None if c.kind == "number" else scorer._fixed.get(c.id) for c in scorer.scored
        )
        self.everyone = len(bids)
        self.bests_of_everyone: tuple | None = None
        self.parts: dict[tuple, list[tuple[Decimal, tuple[CriterionPart, ...]] | None]] = {}

    def bests(self, rows: list) -> tuple:
        """The best value of each scored criterion among one position's offers (as
        _LotScorer._unit_tables finds it: over the offers in the order of the bids)."""
        if not self.numeric:
            return self.fixed
        if len(rows) == self.everyone and self.bests_of_everyone is not None:
            return self.bests_of_everyone
        values = self.values
        bests = list(self.fixed)
        for k, c in self.numeric:
            bests[k] = _criterion_best(c, [values[r[3]][k] for r in rows])
        if len(rows) == self.everyone:
            self.bests_of_everyone = tuple(bests)
        return tuple(bests)

    def bid_parts(self, i: int, bests: tuple) -> tuple[Decimal, tuple[CriterionPart, ...]]:
        """Bid i's criterion points and parts against the given best values."""
        scorer = self.scorer
        total = 0
        made = []
        for c, value, best in zip(scorer.scored, self.values[i], bests, strict=True):
            table = scorer._table(c, best)
            hit = table.get(value)
            if hit is None:
                hit = table[value] = scorer._part(c, value, best)
            total += hit[0]
            made.append(hit[1])
        return _micro(total), tuple(made)

    def rank(self, rows: list, best: Decimal, quantity: Decimal) -> tuple:
        """Rank one position's offers (nobody excluded, best price > 0) on their scores."""
        weight = self.scorer.lot.price_weight
        bests = self.bests(rows)
        parts = self.parts.get(bests)
        if parts is None:
            parts = self.parts[bests] = [None] * self.everyone
        twice = _twice_scaled(weight, best)
        exp, new = POINTS, _new
        keyed = []
        append = keyed.append
        for price, moment, participant, i, bid, line in rows:
            points = (twice + price) // (price + price) * exp  # see _twice_scaled
            own = parts[i]
            if own is None:
                own = parts[i] = self.bid_parts(i, bests)
            score = points + own[0]
            # -score, price, moment, participant, bid index: the tie rules, then bid order
            append((-score, price, moment, participant, i, score, points, own[1], bid, line))
        keyed.sort()
        offers = []
        append = offers.append
        for rank, (_, price, moment, participant, _, score, points, made, bid, line) in enumerate(
            keyed, 1
        ):
            total = line.total
            if total is None:
                total = line_total(price, quantity)
            append(
                new(
                    RankedOffer,
                    (
                        bid.bid_id,
                        participant,
                        bid.organization_id,
                        rank,
                        price,
                        total,
                        score,
                        weight,
                        best,
                        points,
                        made,
                        moment,
                        "valid",
                        None,
                    ),
                )
            )
        return tuple(offers)


_SORT_KEY = itemgetter(0, 1, 2, 3)  # higher score, lower price, earlier offer, participant
_BY_PARTICIPANT = itemgetter(3)
_new = tuple.__new__


def _offer(item: tuple, weight: Decimal, best_price: Decimal, rank: int | None) -> RankedOffer:
    """A RankedOffer from a scored item, built directly (this runs 300,000 times)."""
    cand = item[4]
    bid = cand[0]
    return _new(
        RankedOffer,
        (
            bid.bid_id,
            bid.participant_number,
            bid.organization_id,
            rank,
            cand[1],
            cand[2],
            item[7],
            weight,
            best_price,
            item[5],
            item[6],
            cand[3],
            "valid" if cand[4] is None else "disqualified",
            cand[4],
        ),
    )


def _line_total(line: OfferedLine, position: PositionDef) -> Decimal:
    return line.total if line.total is not None else line_total(line.unit_price, position.quantity)


def evaluate_position(
    lot: LotDef,
    position: PositionDef,
    bids: Sequence[BidInput],
    scorer: _LotScorer | None = None,
) -> UnitResult:
    """Rank the offers on one position of a per_position lot."""
    return (scorer or _LotScorer(lot)).positions((position,), bids)[0]


def evaluate_lot(
    lot: LotDef, bids: Sequence[BidInput], scorer: _LotScorer | None = None
) -> UnitResult:
    """Rank the complete offers on a whole_lot lot by their lot total (or score)."""
    scorer = scorer or _LotScorer(lot)
    candidates: list[_Candidate] = []
    for bid in bids:
        lines = [bid.lines.get(p.number) for p in lot.positions]
        if not lines or any(line is None for line in lines):
            continue  # a whole lot is bid on completely or not at all
        total = sum(
            (_line_total(line, p) for line, p in zip(lines, lot.positions, strict=True)), _ZERO
        )
        moment = max(line.first_offered_at for line in lines)
        candidates.append((bid, None, total, moment, bid.exclusion(lot.number)))
    offers, excluded = scorer.rank(candidates)
    capped = [p for p in lot.positions if p.max_unit_price is not None]
    reference = savings = None
    if capped:
        reference = sum((line_total(p.max_unit_price, p.quantity) for p in capped), _ZERO)
        if offers:
            winner = next(b for b in bids if b.bid_id == offers[0].bid_id)
            spent = sum((_line_total(winner.lines[p.number], p) for p in capped), _ZERO)
            savings = reference - spent
    return UnitResult(
        lot.number,
        lot.award_mode,
        None,
        "awarded" if offers else "unsuccessful",
        offers,
        excluded,
        reference,
        savings,
    )


def evaluate_lots(
    lots: Sequence[LotDef],
    bids: Sequence[BidInput],
    positions: Iterable[str] | None = None,
) -> Evaluation:
    """Evaluate every lot: per position for per_position lots, on the total for whole lots.

    positions: only these position numbers of per_position lots (a page of the comparison
    table); whole lots that contain one of them are evaluated whole. None = everything."""
    wanted = set(positions) if positions is not None else None
    with collector_paused():
        return Evaluation(tuple(_evaluate_lots(lots, bids, wanted)))


def _evaluate_lots(lots, bids, wanted: set[str] | None) -> list[UnitResult]:
    results: list[UnitResult] = []
    for lot in sorted(lots, key=lambda lot: lot.number):
        scorer = _LotScorer(lot)
        chosen = [p for p in lot.positions if wanted is None or p.number in wanted]
        if not chosen:
            continue
        if lot.award_mode == "whole_lot":
            results.append(evaluate_lot(lot, bids, scorer))
            continue
        numbers = {p.number for p in chosen}
        bidders = [b for b in bids if not numbers.isdisjoint(b.lines)]
        results.extend(scorer.positions(chosen, bidders))
    return results


def evaluate(lots: Sequence[LotDef], bids: Sequence[BidInput]) -> Evaluation:
    """Evaluate every unit of every lot."""
    return evaluate_lots(lots, bids)
