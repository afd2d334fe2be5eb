"""Pure arithmetic of the charts: a price history replayed from a tender's offer changes, and
the customer dashboard's shares, averages, savings and months. No Flask, no database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# -- price history ---------------------------------------------------------------------------

# What one chart measures: a position's unit price, or a lot's total.
POSITION = "position"  # values: {position id: unit price}; best = the lowest
WHOLE_LOT = "whole_lot"  # values: {position id: line total}; best = the lowest complete total
PER_POSITION_LOT = "per_position_lot"  # best = the sum of each position's lowest line total


@dataclass(frozen=True)
class Change:
    """A bid's offer changed at `at`: the chart's positions it now prices differently
    (None: no longer offered). `replace`: `values` is the whole offer (a withdrawal is an
    empty one), else only what changed since the bid's previous revision."""

    at: dt.datetime
    bid: int
    values: dict[int, Decimal | None]
    replace: bool = False


Steps = list[tuple[dt.datetime, Decimal | None]]


@dataclass(frozen=True)
class History:
    """Step lines: each value holds from its moment until the next (None: no offer)."""

    best: Steps
    bids: dict[int, Steps]


def price_history(changes: Iterable[Change], kind: str, positions: Sequence[int] = ()) -> History:
    """Replay the changes in order into step lines of the best value and of each bid's.
    `positions` are the lot's position ids (a whole lot's offer is complete when it prices
    every one)."""
    if kind not in (POSITION, WHOLE_LOT, PER_POSITION_LOT):
        raise ValueError(f"unknown chart kind {kind!r}")
    if kind == POSITION:
        return _position_history(changes)
    state = _State(kind, len(positions))
    history = History([], {})
    for change in changes:
        _step(history.bids.setdefault(change.bid, []), change.at, state.apply(change))
        _step(history.best, change.at, state.best())
    return history


def _position_history(changes: Iterable[Change]) -> History:
    """One position: each change holds at most its one price (the common case, kept lean:
    a position with 5,000 revisions replays in milliseconds)."""
    current: dict[int, Decimal] = {}
    history = History([], {})
    for change in changes:
        bid = change.bid
        value = next(iter(change.values.values()), None) if change.values else None
        if value is None and not change.replace and not change.values:
            continue
        if current.get(bid) == value:
            continue
        if value is None:
            del current[bid]
        else:
            current[bid] = value
        _step(history.bids.setdefault(bid, []), change.at, value)
        _step(history.best, change.at, min(current.values(), default=None))
    return history


def _step(steps: Steps, at: dt.datetime, value: Decimal | None) -> None:
    """Add a step where the value moves (two changes at one moment: the later stands)."""
    if steps and steps[-1][0] == at:
        steps.pop()
    if (steps and steps[-1][1] == value) or (not steps and value is None):
        return
    steps.append((at, value))


class _State:
    """Every bid's current values, and per position the lowest one (kept incrementally: a
    2,000-position lot recomputes only the positions a revision touches)."""

    def __init__(self, kind: str, size: int):
        self.kind, self.size = kind, size
        self.cells: dict[int, dict[int, Decimal]] = {}  # position -> bid -> value
        self.offers: dict[int, dict[int, Decimal]] = {}  # bid -> position -> value
        self.sums: dict[int, Decimal] = {}  # bid -> the sum of its values
        self.totals: dict[int, Decimal | None] = {}  # bid -> its chart value
        self.lowest: dict[int, Decimal] = {}  # position -> lowest value
        self.sum_lowest = Decimal(0)

    def apply(self, change: Change) -> Decimal | None:
        """Take the change in; the bid's chart value from now on."""
        bid = change.bid
        offer = self.offers.setdefault(bid, {})
        updates = change.values
        if change.replace:
            updates = {**dict.fromkeys(offer), **change.values}
        total = self.sums.get(bid, Decimal(0))
        for p, value in updates.items():
            old = offer.get(p)
            if old == value:
                continue
            cell = self.cells.setdefault(p, {})
            if value is None:
                del offer[p]
                del cell[bid]
            else:
                offer[p] = cell[bid] = value
            total += (value or 0) - (old or 0)
            self._relow(p, cell, old, value)
        self.sums[bid] = total
        self.totals[bid] = self._value(offer, total)
        return self.totals[bid]

    def _relow(self, p: int, cell: dict[int, Decimal], old, value) -> None:
        low = self.lowest.get(p)
        if value is not None and (low is None or value < low):
            new = value
        elif low is not None and old == low:
            new = min(cell.values(), default=None)
        else:
            return
        self.sum_lowest += (new or 0) - (low or 0)
        if new is None:
            del self.lowest[p]
        else:
            self.lowest[p] = new

    def _value(self, offer: dict[int, Decimal], total: Decimal) -> Decimal | None:
        if not offer:
            return None
        if self.kind == POSITION:
            return next(iter(offer.values()))
        if self.kind == WHOLE_LOT and len(offer) < self.size:
            return None  # an incomplete whole-lot offer is not an offer on the lot
        return total

    def best(self) -> Decimal | None:
        if self.kind == PER_POSITION_LOT:
            return self.sum_lowest if self.lowest else None
        return min((v for v in self.totals.values() if v is not None), default=None)


# -- the customer dashboard ------------------------------------------------------------------

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def share(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """part / whole in percent, two decimals half-up (None when there is no whole)."""
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(CENT, ROUND_HALF_UP)


def average(total: int | Decimal, count: int) -> Decimal | None:
    """total / count, two decimals half-up (None when there is nothing to average)."""
    if not count:
        return None
    return (Decimal(total) / Decimal(count)).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class Savings:
    """Savings against maximum prices: reference (the maximum prices of what was awarded),
    savings (reference - awarded prices) and their share in percent."""

    reference: Decimal
    savings: Decimal
    percent: Decimal | None


def savings(reference: Decimal | None, saved: Decimal | None) -> Savings:
    """The savings of published results against the maximum prices."""
    reference, saved = reference or Decimal(0), saved or Decimal(0)
    return Savings(reference, saved, share(saved, reference))


def months(first: dt.date, last: dt.date) -> list[str]:
    """Every month "YYYY-MM" from first's to last's, in order (the chart's x axis: months
    without results show as zero, not as a gap)."""
    if last < first:
        return []
    out, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 12 months: from the day after the same day a year ago, to today."""
    try:
        year_ago = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        year_ago = today.replace(year=today.year - 1, day=28)
    return year_ago + dt.timedelta(days=1), today


MAX_PERIOD_DAYS = 366 * 5


def period_problem(first: dt.date, last: dt.date) -> str | None:
    """Why a dashboard period is not acceptable (a code), or None."""
    if last < first:
        return "reversed"
    if (last - first).days > MAX_PERIOD_DAYS:
        return "too_long"
    return None


@dataclass(frozen=True)
class TenderGroup:
    """The period's tenders of one month of publication ("YYYY-MM") and one stage, as one
    SQL pass aggregates them: how many, their extensions, and the savings of those whose
    results are published (reference and saved None when there are none)."""

    month: str
    status: str
    tenders: int
    extensions: int
    extended: int
    most: int
    results: int
    reference: Decimal | None
    saved: Decimal | None


@dataclass(frozen=True)
class TenderFigures:
    """The dashboard's figures about tenders: per stage, extensions of the ended ones,
    savings in total and per month (month -> (tenders, reference, saved))."""

    tenders: int
    stages: dict[str, int]
    ended: int
    extensions: int
    extended: int
    most: int
    results: int
    reference: Decimal | None
    saved: Decimal | None
    months: dict[str, tuple[int, Decimal | None, Decimal | None]]


def _plus(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return a if b is None else b if a is None else a + b


def tender_figures(groups: Iterable[TenderGroup], ended: Sequence[str]) -> TenderFigures:
    """Fold the groups (a few per month and stage, not rows): stages count every tender,
    extensions only those whose bidding has ended, savings those with published results."""
    stages: dict[str, int] = {}
    months: dict[str, tuple[int, Decimal | None, Decimal | None]] = {}
    finished = extensions = extended = most = results = 0
    reference = saved = None
    for g in groups:
        stages[g.status] = stages.get(g.status, 0) + g.tenders
        n, ref, sav = months.get(g.month, (0, None, None))
        months[g.month] = (n + g.tenders, _plus(ref, g.reference), _plus(sav, g.saved))
        if g.status in ended:
            finished += g.tenders
            extensions += g.extensions
            extended += g.extended
            most = max(most, g.most)
        results += g.results
        reference, saved = _plus(reference, g.reference), _plus(saved, g.saved)
    return TenderFigures(
        sum(stages.values()),
        stages,
        finished,
        extensions,
        extended,
        most,
        results,
        reference,
        saved,
        months,
    )
