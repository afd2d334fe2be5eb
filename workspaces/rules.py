"""Pure rules of the supplier's workspaces ("My bids", followed tenders): stages, sorting,
a lot's standing as the visibility lets the bidder see it, and its results per position."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import NamedTuple

from core.messages import N_

# A stage as the supplier names it -> the tender statuses it covers.
STAGES = {
    "bidding": ("published",),
    "review": ("closed",),
    "results": ("results_published",),
    "cancelled": ("cancelled",),
    "unsuccessful": ("unsuccessful",),
}
OUTCOMES = ("won", "lost")
SORT_KEYS = ("deadline", "number", "customer", "total", "submitted", "followed")
SORTS = tuple(k for key in SORT_KEYS for k in (key, "-" + key))
# What a level of the offers table (bids.rules.visibility_level) lets the bidder see here.
STANDING_LEVELS = frozenset({"rank", "offers", "named"})
# At most this many results per position are listed in a row (the notice has them all).
RESULT_UNITS_SHOWN = 20

RANGE_MESSAGE = N_("The end of the range is before its start.")


def stage_of(status: str) -> str | None:
    """The stage a tender status belongs to (None for a draft)."""
    return next((stage for stage, statuses in STAGES.items() if status in statuses), None)


def check_range(start: dt.date | None, end: dt.date | None) -> str | None:
    """A problem with a date range (its message), or None."""
    if start is not None and end is not None and end < start:
        return RANGE_MESSAGE
    return None


def shows_standing(level: str) -> bool:
    """Whether own rank and the best prices may be shown at this level of visibility."""
    return level in STANDING_LEVELS


class Offer(NamedTuple):
    """A bid's offer on a whole lot: its total and when that revision was accepted."""

    bid_id: int
    total: Decimal
    accepted_at: dt.datetime


def lot_rank(own_bid_id: int, offers: list[Offer]) -> tuple[int | None, Decimal | None]:
    """A whole lot: (own rank by total, the best total) among these offers; equal totals
    rank the earlier revision first (as the offers table does while bidding)."""
    best = min((o.total for o in offers), default=None)
    own = next((o for o in offers if o.bid_id == own_bid_id), None)
    if own is None:
        return None, best
    ahead = sum(
        1
        for o in offers
        if o.bid_id != own_bid_id and (o.total, o.accepted_at) < (own.total, own.accepted_at)
    )
    return ahead + 1, best


class LotStanding(NamedTuple):
    """Where the bid stands on one lot: positions it priced, its total, the best total over
    those positions, its rank (a whole lot) or the positions where it leads (per position)."""

    lot: int
    title: str
    award_mode: str
    positions: int
    own_total: Decimal
    best_total: Decimal | None
    own_rank: int | None
    leading: int | None


def lot_standing(
    lot: int,
    title: str,
    award_mode: str,
    positions: int,
    own_total: Decimal,
    best_position_total: Decimal,
    leading: int,
    whole: tuple[int | None, Decimal | None] | None,
) -> LotStanding:
    """A lot's standing: per position, the sum of the best offers on the positions the bid
    priced and how many it leads; a whole lot, its rank and the best total (`whole`)."""
    if award_mode == "whole_lot" and whole is not None:
        rank, best = whole
        return LotStanding(lot, title, award_mode, positions, own_total, best, rank, None)
    return LotStanding(
        lot, title, award_mode, positions, own_total, best_position_total, None, leading
    )


class Unit(NamedTuple):
    """The published result of one position (or whole lot) for the bid."""

    lot: int
    position: str | None
    award_mode: str
    outcome: str  # "won", "lost", "disqualified", "unsuccessful"
    rank: int | None
    own_price: Decimal | None
    winning_price: Decimal | None


def unit_outcome(
    bid_id: int, winner_bid_id: int | None, offer_status: str, award_status: str
) -> str:
    """The bid's result on one unit: won, lost, disqualified, or unsuccessful (nobody won)."""
    if offer_status == "disqualified":
        return "disqualified"
    if winner_bid_id == bid_id:
        return "won"
    return "unsuccessful" if award_status == "unsuccessful" else "lost"


class Results(NamedTuple):
    """The bid's published results: counts per outcome and the first units in notice order."""

    won: int
    lost: int
    disqualified: int
    units_total: int
    won_total: Decimal
    units: tuple[Unit, ...]


def summarize(units: list[Unit], totals_won: list[Decimal]) -> Results:
    """Counts over every unit; the first RESULT_UNITS_SHOWN units kept for the row."""
    won = sum(1 for u in units if u.outcome == "won")
    disqualified = sum(1 for u in units if u.outcome == "disqualified")
    return Results(
        won=won,
        lost=len(units) - won - disqualified,
        disqualified=disqualified,
        units_total=len(units),
        won_total=sum(totals_won, Decimal(0)),
        units=tuple(units[:RESULT_UNITS_SHOWN]),
    )
