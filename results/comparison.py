"""The comparison table of the review: positions x participants, filters, pages, the
criterion values per lot and the disqualifications."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, or_, select

from accounts.models import Organization
from bids.models import Bid, BidCriterionValue, BidLine, BidRevision
from core.extensions import db
from positions.models import Position
from results import rules as ev
from results.evaluation import active_disqualifications
from results.models import Award, AwardOffer, Disqualification, ResultSet
from signatures.service import format_snils, signature_view
from tenders.models import Tender

MAX_PER_PAGE = 200


def participants(tender: Tender) -> list[dict]:
    """The standing bids with their organizations (names revealed after the close)."""
    rows = db.session.execute(
        select(Bid, Organization)
        .join(Organization, Organization.id == Bid.organization_id)
        .where(Bid.tender_id == tender.id, Bid.status == "active", Bid.revision_count > 0)
        .order_by(Bid.participant_number)
    ).all()
    out_whole = {d.bid_id: d for d in active_disqualifications(tender) if d.lot_id is None}
    keys = _last_signing_keys([bid.id for bid, _ in rows])
    return [
        {
            "participant": bid.participant_number,
            "bid_id": bid.id,
            "organization_id": o.id,
            "name": o.name,
            "inn": o.inn,
            "disqualified": out_whole[bid.id].reason if bid.id in out_whole else None,
            "signed_with": (view := signature_view(keys.get(bid.id))),
            "snils_shown": format_snils(view["signer"]["snils"]) if view and view["signer"] else "",
        }
        for bid, o in rows
    ]


def _last_signing_keys(bid_ids: list[int]) -> dict[int, int]:
    """The key each bid's current revision was signed with."""
    if not bid_ids:
        return {}
    return dict(
        db.session.execute(
            select(BidRevision.bid_id, BidRevision.signing_key_id)
            .join(Bid, Bid.id == BidRevision.bid_id)
            .where(BidRevision.bid_id.in_(bid_ids), BidRevision.number == Bid.revision_count)
        ).all()
    )


def _award_query(tender: Tender, filters: dict):
    query = select(Award).where(Award.tender_id == tender.id)
    if filters.get("lot"):
        query = query.where(Award.lot_number == filters["lot"])
    if filters.get("status"):
        query = query.where(Award.status == filters["status"])
    if filters.get("q"):
        q = filters["q"]
        names = select(Position.id).where(
            Position.tender_id == tender.id,
            or_(Position.number == q, Position.name.ilike(f"%{q}%")),
        )
        query = query.where(or_(Award.position_id.in_(names), Award.position_number == q))
    if filters.get("participant"):
        bid_id = select(Bid.id).where(
            Bid.tender_id == tender.id, Bid.participant_number == filters["participant"]
        )
        if filters.get("winner"):
            query = query.where(Award.winner_bid_id.in_(bid_id))
        else:
            query = query.where(
                Award.id.in_(select(AwardOffer.award_id).where(AwardOffer.bid_id.in_(bid_id)))
            )
    return query


def comparison(tender: Tender, filters: dict, page: int = 1, per_page: int = 50) -> dict:
    """One page of the comparison table: awards (positions, whole lots) x participants."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    query = _award_query(tender, filters)
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    awards = (
        db.session.execute(
            query.order_by(Award.sort_key).limit(per_page).offset((page - 1) * per_page)
        )
        .scalars()
        .all()
    )
    people = participants(tender)
    columns = {p["bid_id"]: i for i, p in enumerate(people)}
    award_ids = [a.id for a in awards]
    cells: dict[int, list] = {a.id: [None] * len(people) for a in awards}
    if award_ids:
        for o in db.session.execute(
            select(AwardOffer).where(AwardOffer.award_id.in_(award_ids))
        ).scalars():
            if o.bid_id in columns:
                cells[o.award_id][columns[o.bid_id]] = o
    positions = {
        p.id: p
        for p in db.session.execute(
            select(Position).where(
                Position.id.in_([a.position_id for a in awards if a.position_id])
            )
        ).scalars()
    }
    lots = {lot.id: lot for lot in tender.lots}
    rows = []
    for a in awards:
        winner = next(
            (i for i, c in enumerate(cells[a.id]) if c and c.bid_id == a.winner_bid_id), None
        )
        rows.append(
            {
                "award": a,
                "lot": lots.get(a.lot_id),
                "position": positions.get(a.position_id),
                "cells": cells[a.id],
                "winner": people[winner] if winner is not None else None,
                "savings_percent": ev.percent(a.savings, a.reference_total),
            }
        )
    result_set = db.session.get(ResultSet, tender.id)
    return {
        "participants": people,
        "rows": rows,
        "total": total,
        "page": page,
        "per_page": per_page,
        "pages": max(1, -(-total // per_page)),
        "result_set": result_set,
        "savings_percent": ev.percent(
            result_set.savings if result_set else None,
            result_set.reference_total if result_set else None,
        ),
        "criteria": lot_criteria_values(tender, people),
        "disqualifications": disqualification_list(tender),
    }


def lot_criteria_values(tender: Tender, people: list[dict]) -> list[dict]:
    """Per lot with criteria: each participant's final criterion values."""
    lots = [lot for lot in tender.lots if lot.criteria]
    if not lots or not people:
        return []
    latest = {
        bid_id: revision_id
        for bid_id, revision_id in db.session.execute(
            select(Bid.id, BidRevision.id)
            .join(
                BidRevision,
                (BidRevision.bid_id == Bid.id) & (BidRevision.number == Bid.revision_count),
            )
            .where(Bid.id.in_([p["bid_id"] for p in people]))
        ).all()
    }
    values: dict[tuple[int, int], str] = {}
    revision_bid = {r: b for b, r in latest.items()}
    for revision_id, criterion_id, value in db.session.execute(
        select(
            BidCriterionValue.revision_id, BidCriterionValue.criterion_id, BidCriterionValue.value
        ).where(BidCriterionValue.revision_id.in_(list(latest.values())))
    ):
        values[(revision_bid[revision_id], criterion_id)] = value
    return [
        {
            "lot": lot,
            "rows": [
                {"criterion": c, "values": [values.get((p["bid_id"], c.id)) for p in people]}
                for c in lot.criteria
            ],
        }
        for lot in lots
    ]


def disqualification_list(tender: Tender) -> list[dict]:
    """Every disqualification of the tender (lifted ones too), oldest first."""
    rows = db.session.execute(
        select(Disqualification, Bid, Organization)
        .join(Bid, Bid.id == Disqualification.bid_id)
        .join(Organization, Organization.id == Bid.organization_id)
        .where(Disqualification.tender_id == tender.id)
        .order_by(Disqualification.id)
    ).all()
    lots = {lot.id: lot.number for lot in tender.lots}
    return [
        {
            "id": d.id,
            "participant": bid.participant_number,
            "name": o.name,
            "lot": lots.get(d.lot_id) if d.lot_id else None,
            "reason": d.reason,
            "created_at": d.created_at,
            "lifted_at": d.lifted_at,
            "lift_reason": d.lift_reason,
        }
        for d, bid, o in rows
    ]


def whole_lot_lines(lot_id: int, bid_ids: list[int], limit: int = 200) -> list[dict]:
    """Unit prices of a whole lot's positions per participant (the first `limit` positions)."""
    positions = (
        db.session.execute(
            select(Position)
            .where(Position.lot_id == lot_id)
            .order_by(Position.sort_key)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    prices: dict[tuple[int, int], tuple[Decimal, Decimal]] = {}
    for bid_id, position_id, price, total in db.session.execute(
        select(Bid.id, BidLine.position_id, BidLine.unit_price, BidLine.total)
        .join(
            BidRevision, (BidRevision.bid_id == Bid.id) & (BidRevision.number == Bid.revision_count)
        )
        .join(BidLine, BidLine.revision_id == BidRevision.id)
        .where(Bid.id.in_(bid_ids), BidLine.position_id.in_([p.id for p in positions]))
    ):
        prices[(bid_id, position_id)] = (price, total)
    return [{"position": p, "prices": [prices.get((b, p.id)) for b in bid_ids]} for p in positions]
