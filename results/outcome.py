"""Read API of a tender's results, for pages, the JSON API, the protocol PDF, the OCDS export
and notifications. Everything returned is an immutable snapshot of the stored awards.

- ``outcome(tender)``: the published results (None until published) with every award and
  its ranked offers, the participants and the disqualifications.
- ``awards_page(tender, ...)``: a page of awards (large tenders).
- ``participant_results(tender, organization_id)``: one participant's own result per award.
- ``summary(tender)``: the public summary (counts, totals, savings, winners).
- ``view_level(tender, org)``: what a viewer may see ("none", "summary", "detail").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from accounts.models import Organization
from bids.models import Bid
from core.extensions import db
from positions.models import Position
from results.models import Award, AwardOffer, Disqualification, ResultSet
from results.publication import results_digest
from results.rules import percent
from tenders.models import Tender

FINAL = "results_published"


@dataclass(frozen=True)
class CriterionScore:
    """A criterion's part of a score: value offered, best compared value, s, weight, points."""

    criterion_id: int
    name: str
    value: str | None
    best: str | None
    ratio: Decimal
    weight: Decimal
    points: Decimal


@dataclass(frozen=True)
class OfferResult:
    """A participant's offer in an award: rank (None if disqualified) and score breakdown."""

    bid_id: int
    participant_number: int
    organization_id: int
    organization_name: str
    inn: str
    rank: int | None
    status: str  # "valid" | "disqualified"
    reason: str | None
    unit_price: Decimal | None  # None for a whole lot (compared on the total)
    total: Decimal
    score: Decimal
    price_weight: Decimal
    best_price: Decimal
    price_points: Decimal
    criteria: tuple[CriterionScore, ...]
    first_offered_at: dt.datetime
    won: bool = False  # the award's winner: the top-ranked offer unless the commission chose

    @property
    def is_winner(self) -> bool:
        return self.won


@dataclass(frozen=True)
class AwardResult:
    """The result of a position (per_position lot) or a whole lot (position_number None)."""

    award_id: int
    lot_id: int
    lot_number: int
    lot_title: str
    award_mode: str
    position_id: int | None
    position_number: str | None
    position_name: str
    quantity: Decimal | None
    unit_code: str | None
    max_unit_price: Decimal | None
    status: str  # "awarded" | "unsuccessful"
    price: Decimal | None  # the winner's unit price (position) or total (whole lot)
    total: Decimal | None
    score: Decimal | None
    reference_total: Decimal | None
    savings: Decimal | None
    offers: tuple[OfferResult, ...]  # ranked valid offers, then the disqualified ones
    winner_bid_id: int | None = None  # as decided (results.commission): not always rank 1

    @property
    def winner(self) -> OfferResult | None:
        return next((o for o in self.offers if o.won), None)

    @property
    def savings_percent(self) -> Decimal | None:
        return percent(self.savings, self.reference_total)


@dataclass(frozen=True)
class Participant:
    """A bid standing at the close and its organization."""

    bid_id: int
    participant_number: int
    organization_id: int
    name: str
    inn: str
    disqualified: str | None  # reason, when disqualified for the whole tender


@dataclass(frozen=True)
class DisqualificationInfo:
    """A disqualification (whole tender when lot_number is None), lifted or not."""

    id: int
    bid_id: int
    participant_number: int
    organization_name: str
    lot_number: int | None
    reason: str
    created_at: dt.datetime
    lifted_at: dt.datetime | None
    lift_reason: str | None


@dataclass(frozen=True)
class Winner:
    """An organization's wins in the public summary."""

    organization_id: int
    name: str
    inn: str
    awards: int
    total: Decimal


@dataclass(frozen=True)
class Summary:
    """What the public sees of published results."""

    tender_id: int
    number: str
    published_at: dt.datetime | None
    participants: int
    awarded: int
    unsuccessful: int
    awarded_total: Decimal
    reference_total: Decimal
    savings: Decimal
    savings_percent: Decimal | None
    winners: tuple[Winner, ...]


@dataclass(frozen=True)
class Outcome:
    """The published results of a tender (digest = SHA-256 recorded in the audit chain)."""

    tender_id: int
    number: str
    status: str
    published_at: dt.datetime | None
    evaluated_at: dt.datetime
    version: int
    digest: str | None
    awarded: int
    unsuccessful: int
    reference_total: Decimal
    savings: Decimal
    participants: tuple[Participant, ...]
    awards: tuple[AwardResult, ...]
    disqualifications: tuple[DisqualificationInfo, ...]

    @property
    def savings_percent(self) -> Decimal | None:
        return percent(self.savings, self.reference_total)


@dataclass(frozen=True)
class OwnResult:
    """A participant's own result on one award: its offer and the winning one."""

    award: AwardResult
    own: OfferResult

    @property
    def won(self) -> bool:
        return self.own.won


def is_published(tender: Tender) -> bool:
    """Whether the tender's results are published (final)."""
    return tender.status == FINAL


def is_participant(tender: Tender, organization_id: int | None) -> bool:
    """Whether an organization's bid stood at the close."""
    if organization_id is None:
        return False
    return (
        db.session.execute(
            select(Bid.id).where(
                Bid.tender_id == tender.id,
                Bid.organization_id == organization_id,
                Bid.status == "active",
                Bid.revision_count > 0,
            )
        ).first()
        is not None
    )


def view_level(tender: Tender, org: Organization | None) -> str:
    """ "none" before publication (the customer reviews in its cabinet instead), then
    "detail" (every award with the ranked offers, names revealed) for the customer and the
    participants, "summary" for everyone else."""
    if not is_published(tender):
        return "none"
    if org is not None and (org.id == tender.customer_id or is_participant(tender, org.id)):
        return "detail"
    return "summary"


# -- building the snapshots ------------------------------------------------------------------


def _criteria(breakdown: dict) -> tuple[CriterionScore, ...]:
    return tuple(
        CriterionScore(
            c["criterion_id"],
            c["name"],
            c["value"],
            c["best"],
            Decimal(c["ratio"]),
            Decimal(c["weight"]),
            Decimal(c["points"]),
        )
        for c in breakdown.get("criteria", [])
    )


def _offer(o: AwardOffer, bid: Bid, org: tuple[str, str], won: bool) -> OfferResult:
    b = o.breakdown or {}
    return OfferResult(
        bid_id=o.bid_id,
        participant_number=bid.participant_number,
        organization_id=bid.organization_id,
        organization_name=org[0],
        inn=org[1],
        rank=o.rank,
        status=o.status,
        reason=o.reason,
        unit_price=o.unit_price,
        total=o.total,
        score=o.score,
        price_weight=Decimal(b.get("price_weight", "100")),
        best_price=Decimal(b.get("best_price", "0")),
        price_points=o.price_points,
        criteria=_criteria(b),
        first_offered_at=o.first_offered_at,
        won=won,
    )


def _people(tender: Tender) -> tuple[dict[int, Bid], dict[int, tuple[str, str]]]:
    rows = db.session.execute(
        select(Bid, Organization.name, Organization.inn)
        .join(Organization, Organization.id == Bid.organization_id)
        .where(Bid.tender_id == tender.id)
    ).all()
    return {b.id: b for b, _, _ in rows}, {b.organization_id: (n, i) for b, n, i in rows}


def _award_results(tender: Tender, awards: list[Award], bid_ids: set[int] | None = None):
    """Snapshots of awards with their offers (all offers, or only some bids' offers)."""
    if not awards:
        return []
    bids, orgs = _people(tender)
    offers: dict[int, list[AwardOffer]] = {a.id: [] for a in awards}
    query = select(AwardOffer).where(AwardOffer.award_id.in_(list(offers)))
    if bid_ids is not None:
        query = query.where(AwardOffer.bid_id.in_(list(bid_ids)))
    for o in db.session.execute(
        query.order_by(AwardOffer.award_id, AwardOffer.sort_order)
    ).scalars():
        offers[o.award_id].append(o)
    position_ids = [a.position_id for a in awards if a.position_id]
    positions = {
        p.id: p
        for p in db.session.execute(select(Position).where(Position.id.in_(position_ids))).scalars()
    }
    lots = {lot.id: lot for lot in tender.lots}
    out = []
    for a in awards:
        p = positions.get(a.position_id)
        lot = lots.get(a.lot_id)
        out.append(
            AwardResult(
                award_id=a.id,
                lot_id=a.lot_id,
                lot_number=a.lot_number,
                lot_title=lot.title if lot else "",
                award_mode=a.award_mode,
                position_id=a.position_id,
                position_number=a.position_number,
                position_name=p.name if p else (lot.title if lot else ""),
                quantity=p.quantity if p else None,
                unit_code=p.unit_code if p else None,
                max_unit_price=p.max_unit_price if p else None,
                status=a.status,
                price=a.price,
                total=a.total,
                score=a.score,
                reference_total=a.reference_total,
                savings=a.savings,
                offers=tuple(
                    _offer(
                        o,
                        bids[o.bid_id],
                        orgs[bids[o.bid_id].organization_id],
                        a.status == "awarded" and o.bid_id == a.winner_bid_id,
                    )
                    for o in offers[a.id]
                ),
                winner_bid_id=a.winner_bid_id,
            )
        )
    return out


def participants(tender: Tender) -> tuple[Participant, ...]:
    """The bids standing at the close, in participant order."""
    whole = {
        d.bid_id: d.reason
        for d in db.session.execute(
            select(Disqualification).where(
                Disqualification.tender_id == tender.id,
                Disqualification.lot_id.is_(None),
                Disqualification.lifted_at.is_(None),
            )
        ).scalars()
    }
    rows = db.session.execute(
        select(Bid, Organization.name, Organization.inn)
        .join(Organization, Organization.id == Bid.organization_id)
        .where(Bid.tender_id == tender.id, Bid.status == "active", Bid.revision_count > 0)
        .order_by(Bid.participant_number)
    ).all()
    return tuple(
        Participant(b.id, b.participant_number, b.organization_id, n, i, whole.get(b.id))
        for b, n, i in rows
    )


def disqualifications(tender: Tender) -> tuple[DisqualificationInfo, ...]:
    """Every disqualification with its reason (lifted ones too, with why)."""
    rows = db.session.execute(
        select(Disqualification, Bid.participant_number, Organization.name)
        .join(Bid, Bid.id == Disqualification.bid_id)
        .join(Organization, Organization.id == Bid.organization_id)
        .where(Disqualification.tender_id == tender.id)
        .order_by(Disqualification.id)
    ).all()
    lots = {lot.id: lot.number for lot in tender.lots}
    return tuple(
        DisqualificationInfo(
            d.id,
            d.bid_id,
            number,
            name,
            lots.get(d.lot_id) if d.lot_id else None,
            d.reason,
            d.created_at,
            d.lifted_at,
            d.lift_reason,
        )
        for d, number, name in rows
    )


def _awards(tender: Tender, lot: int | None = None):
    query = select(Award).where(Award.tender_id == tender.id)
    if lot is not None:
        query = query.where(Award.lot_number == lot)
    return query


def outcome(tender: Tender, *, final_only: bool = True) -> Outcome | None:
    """The whole results of a tender: None until they are published (final_only=False also
    gives the customer's proposed results of a closed tender, None before evaluation)."""
    if final_only and not is_published(tender):
        return None
    result_set = db.session.get(ResultSet, tender.id)
    if result_set is None:
        return None
    awards = db.session.execute(_awards(tender).order_by(Award.sort_key)).scalars().all()
    return Outcome(
        tender_id=tender.id,
        number=tender.number,
        status=tender.status,
        published_at=result_set.published_at,
        evaluated_at=result_set.evaluated_at,
        version=result_set.version,
        digest=result_set.digest,
        awarded=result_set.awarded,
        unsuccessful=result_set.unsuccessful,
        reference_total=result_set.reference_total,
        savings=result_set.savings,
        participants=participants(tender),
        awards=tuple(_award_results(tender, list(awards))),
        disqualifications=disqualifications(tender),
    )


def awards_page(
    tender: Tender, page: int = 1, per_page: int = 50, lot: int | None = None
) -> tuple[list[AwardResult], int]:
    """A page of awards in notice order with all their offers, and how many there are."""
    query = _awards(tender, lot)
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    awards = (
        db.session.execute(
            query.order_by(Award.sort_key).limit(per_page).offset((page - 1) * per_page)
        )
        .scalars()
        .all()
    )
    return _award_results(tender, list(awards)), total


def participant_results(tender: Tender, organization_id: int) -> list[OwnResult]:
    """An organization's own result on every award it made an offer for (with the winner)."""
    bid = db.session.execute(
        select(Bid).where(Bid.tender_id == tender.id, Bid.organization_id == organization_id)
    ).scalar_one_or_none()
    if bid is None:
        return []
    award_ids = select(AwardOffer.award_id).where(AwardOffer.bid_id == bid.id)
    awards = (
        db.session.execute(
            select(Award)
            .where(Award.tender_id == tender.id, Award.id.in_(award_ids))
            .order_by(Award.sort_key)
        )
        .scalars()
        .all()
    )
    wanted = {bid.id} | {a.winner_bid_id for a in awards if a.winner_bid_id}
    out = []
    for award in _award_results(tender, list(awards), wanted):
        own = next((o for o in award.offers if o.bid_id == bid.id), None)
        if own is not None:
            out.append(OwnResult(award, own))
    return out


def summary(tender: Tender) -> Summary | None:
    """The public summary of published results (None before publication)."""
    if not is_published(tender):
        return None
    result_set = db.session.get(ResultSet, tender.id)
    if result_set is None:
        return None
    rows = db.session.execute(
        select(
            Organization.id,
            Organization.name,
            Organization.inn,
            func.count(Award.id),
            func.sum(Award.total),
        )
        .join(Bid, Bid.id == Award.winner_bid_id)
        .join(Organization, Organization.id == Bid.organization_id)
        .where(Award.tender_id == tender.id)
        .group_by(Organization.id, Organization.name, Organization.inn)
        .order_by(func.sum(Award.total).desc())
    ).all()
    winners = tuple(Winner(i, n, inn, c, t or Decimal(0)) for i, n, inn, c, t in rows)
    return Summary(
        tender_id=tender.id,
        number=tender.number,
        published_at=result_set.published_at,
        participants=result_set.participants,
        awarded=result_set.awarded,
        unsuccessful=result_set.unsuccessful,
        awarded_total=sum((w.total for w in winners), Decimal(0)),
        reference_total=result_set.reference_total,
        savings=result_set.savings,
        savings_percent=percent(result_set.savings, result_set.reference_total),
        winners=winners,
    )


def digest_matches(tender: Tender) -> bool | None:
    """Whether the stored results still hash to the digest recorded at publication (None
    before publication): any later change to an award or a ranked offer is detected."""
    result_set = db.session.get(ResultSet, tender.id)
    if result_set is None or result_set.digest is None:
        return None
    return results_digest(tender) == result_set.digest
