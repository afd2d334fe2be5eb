"""The published results as the protocol and the OCDS export read them: the one adapter to the
results module's read API (results.outcome.outcome: frozen at publication)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from results import commission
from results import outcome as results


@dataclass(frozen=True)
class Disqualification:
    bid_id: int
    lot_number: int | None  # None: the whole bid
    reason: str
    at: dt.datetime


@dataclass(frozen=True)
class Offer:
    """A valid offer in a unit's ranking."""

    bid_id: int
    rank: int
    unit_price: Decimal | None  # None for a whole lot
    total: Decimal
    score: Decimal | None


@dataclass(frozen=True)
class Unit:
    """The result of one position (per_position lot) or one whole lot; the same attribute
    names as results.rules.UnitResult."""

    lot_number: int
    position_number: str | None
    status: str  # awarded | unsuccessful
    offers: tuple[Offer, ...] = ()
    reference_total: Decimal | None = None
    winner_bid_id: int | None = None  # as the commission decided (not always rank 1)
    decision_reason: str | None = None  # the commission's reason where it left the ranking

    @property
    def winner(self) -> Offer | None:
        if self.status != "awarded":
            return None
        return next((o for o in self.offers if o.bid_id == self.winner_bid_id), None)


@dataclass(frozen=True)
class PublishedResults:
    published_at: dt.datetime
    units: tuple[Unit, ...]
    disqualifications: tuple[Disqualification, ...] = ()
    decision: commission.Decision | None = None  # the commission, its deviations and votes


def published_results(tender) -> PublishedResults | None:
    """The tender's published (final) results, or None before publication."""
    found = results.outcome(tender)
    if found is None or found.published_at is None:
        return None
    decision = commission.for_publication(tender)
    reasons = {
        (d.lot, d.position): d.reason for d in (decision.deviations if decision else ()) if d.reason
    }
    return PublishedResults(
        published_at=found.published_at,
        decision=decision,
        units=tuple(_unit(a, reasons.get((a.lot_number, a.position_number))) for a in found.awards),
        disqualifications=tuple(
            Disqualification(d.bid_id, d.lot_number, d.reason, d.created_at)
            for d in found.disqualifications
            if d.lifted_at is None
        ),
    )


def _unit(award, reason: str | None) -> Unit:
    valid = sorted((o for o in award.offers if o.rank is not None), key=lambda o: o.rank)
    whole_lot = award.position_number is None
    return Unit(
        lot_number=award.lot_number,
        position_number=award.position_number,
        status=award.status,
        offers=tuple(
            Offer(o.bid_id, o.rank, None if whole_lot else o.unit_price, o.total, o.score)
            for o in valid
        ),
        reference_total=award.reference_total,
        winner_bid_id=award.winner_bid_id,
        decision_reason=reason,
    )
