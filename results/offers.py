"""The offers table (positions x participants) once the results are published.

bids.offers.table asks through its `published_offers` signal (bids builds below results
and does not import it). What a viewer sees follows the published results
(`outcome.view_level`), not the bidding visibility: the customer and the participants see
every offer with the participant's name, each offer's fate in its award (the winner
highlighted, a disqualified offer greyed with its reason; a whole lot's award marks each of
its positions); everyone else sees only the number of participants (the summary names the
winners)."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext
from sqlalchemy import and_, func, or_, select

from accounts.models import Organization
from bids import offers
from bids.models import Bid
from core.extensions import db
from positions.models import Position
from results import outcome
from results.models import Award, AwardOffer
from tenders.models import Tender

TEMPLATE = "results/_offers.html"


@offers.published_offers.connect
def published_table(
    tender: Tender, org: Organization | None = None, page: int = 1, per_page: int = 100
) -> dict:
    """One page of positions with every offer and its result, as this viewer may see them."""
    people = outcome.participants(tender)
    out: dict = {
        "level": "count",
        "participants": len(people),
        "columns": [],
        "rows": [],
        "page": page,
        "per_page": per_page,
    }
    if outcome.view_level(tender, org) != "detail":
        out["note"] = gettext(
            "The results are published: only the customer and the participants see the "
            "offers; the summary above names the winners."
        )
        return out
    out["level"] = "results"
    out["template"] = TEMPLATE
    own = org.id if org is not None else None
    out["columns"] = [
        {
            "participant": p.participant_number,
            "label": p.name,
            "inn": p.inn,
            "own": p.organization_id == own,
            "disqualified": p.disqualified,
        }
        for p in people
    ]
    positions = offers.page_positions(tender, page, per_page)
    if not positions:
        return out
    prices = offers.unit_prices(tender, [p.id for p in positions])
    by_position, by_lot = _awards(tender, positions)
    fates = _fates([a.id for a in (*by_position.values(), *by_lot.values())])
    for p in positions:
        award = by_position.get(p.id) or by_lot.get(p.lot_id)
        out["rows"].append(_row(p, award, prices.get(p.id, {}), fates, people))
    bids = db.session.execute(select(Bid).where(Bid.id.in_([p.bid_id for p in people]))).scalars()
    by_id = {b.id: b for b in bids}
    out["criteria"] = offers.criteria_block(
        tender, {p.lot_id for p in positions}, [by_id[p.bid_id] for p in people]
    )
    return out


@offers.offer_scores.connect
def evaluated_scores(tender: Tender, lot_ids=(), bid_ids=()) -> dict | None:
    """After the close: per lot and bid, the score (a whole lot) or the criteria points (a
    lot awarded per position: the same on each of its positions) and each criterion's
    points, from the stored evaluation (one offer row per lot and bid)."""
    if not lot_ids or not bid_ids:
        return None
    first = (
        select(func.min(AwardOffer.id))
        .join(Award, Award.id == AwardOffer.award_id)
        .where(
            Award.tender_id == tender.id,
            Award.lot_id.in_(list(lot_ids)),
            AwardOffer.bid_id.in_(list(bid_ids)),
        )
        .group_by(Award.lot_id, AwardOffer.bid_id)
    )
    rows = db.session.execute(
        select(
            Award.lot_id,
            Award.award_mode,
            AwardOffer.bid_id,
            AwardOffer.score,
            AwardOffer.breakdown,
        )
        .join(Award, Award.id == AwardOffer.award_id)
        .where(AwardOffer.id.in_(first))
    ).all()
    out = {}
    for lot_id, mode, bid_id, score, breakdown in rows:
        parts = (breakdown or {}).get("criteria", [])
        points = {c["criterion_id"]: Decimal(c["points"]) for c in parts}
        total = score if mode == "whole_lot" else sum(points.values(), Decimal(0))
        out[(lot_id, bid_id)] = {"score": total, "points": points}
    return out


def _awards(tender: Tender, positions: list[Position]) -> tuple[dict, dict]:
    """The awards of these positions: per position, and per lot for whole lots."""
    awards = (
        db.session.execute(
            select(Award).where(
                Award.tender_id == tender.id,
                or_(
                    Award.position_id.in_([p.id for p in positions]),
                    and_(
                        Award.position_id.is_(None),
                        Award.lot_id.in_({p.lot_id for p in positions}),
                    ),
                ),
            )
        )
        .scalars()
        .all()
    )
    by_position = {a.position_id: a for a in awards if a.position_id is not None}
    by_lot = {a.lot_id: a for a in awards if a.position_id is None}
    return by_position, by_lot


def _fates(award_ids: list[int]) -> dict[tuple[int, int], AwardOffer]:
    if not award_ids:
        return {}
    return {
        (o.award_id, o.bid_id): o
        for o in db.session.execute(
            select(AwardOffer).where(AwardOffer.award_id.in_(award_ids))
        ).scalars()
    }


def _row(p: Position, award: Award | None, prices: dict[int, Decimal], fates, people) -> dict:
    cells = []
    for person in people:
        price = prices.get(person.bid_id)
        fate = fates.get((award.id, person.bid_id)) if award is not None else None
        if fate is None:
            status = None
        elif fate.status == "disqualified":
            status = "disqualified"
        else:
            status = "winner" if fate.bid_id == award.winner_bid_id else "ranked"
        cells.append(
            {
                "participant": person.participant_number,
                "price": price,
                "status": status if price is not None or status == "disqualified" else None,
                "rank": fate.rank if fate is not None else None,
                "reason": fate.reason if status == "disqualified" else None,
            }
        )
    valid = [c["price"] for c in cells if c["price"] is not None and c["status"] != "disqualified"]
    winner = next((c["participant"] for c in cells if c["status"] == "winner"), None)
    return {
        "position": p.number,
        "name": p.name,
        "quantity": p.quantity,
        "lot": award.lot_number if award is not None else None,
        "award_mode": award.award_mode if award is not None else None,
        "award_status": award.status if award is not None else None,
        "winner": winner,
        "best_price": min(valid, default=None),
        "prices": [c["price"] for c in cells],
        "cells": cells,
    }
