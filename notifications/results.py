"""Each participant's own result per position, for the results notification (read through
tenders/results.py: awards per position of per_position lots, per lot of whole_lot lots)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from accounts.models import Membership
from bids.models import Bid
from core.extensions import db
from tenders.models import Tender

log = logging.getLogger(__name__)


def _money(value) -> str:
    return "" if value is None else f"{value:,.2f}".replace(",", " ")


def organization_results(tender: Tender, org_id: int) -> list[dict]:
    """One row per award the organization made an offer for, in notice order:
    {position, name, result, rank, price, winning_price}, from the tenders package's read
    API of the published results (tenders/results.py)."""
    try:
        from tenders.results import participant_results
    except ImportError:  # no results module in this build: the mail links to the notice
        return []
    out = []
    for item in participant_results(tender, org_id):
        award, own = item.award, item.own
        if own.status == "disqualified":
            result = f"disqualified: {own.reason or ''}".strip()
        elif own.rank == 1:
            result = "won"
        else:
            result = "not awarded"
        per_position = award.position_id is not None
        out.append(
            {
                "position": award.position_number if per_position else f"lot {award.lot_number}",
                "name": award.position_name or award.lot_title,
                "result": result,
                "rank": own.rank,
                "price": _money(own.unit_price if per_position else own.total),
                "winning_price": _money(award.price),
            }
        )
    return out


def for_participants(tender: Tender, people: dict[int, str]) -> dict[int, dict]:
    """{user id: {"results": [...], "inbox": {"summary"}}} for the members of bidding
    organizations; followers get the link to the published results only."""
    bidders = [u for u, why in people.items() if why == "bidder"]
    if not bidders:
        return {}
    memberships = db.session.execute(
        select(Membership.user_id, Membership.organization_id)
        .join(Bid, Bid.organization_id == Membership.organization_id)
        .where(Bid.tender_id == tender.id, Membership.user_id.in_(bidders))
    ).all()
    by_org: dict[int, list] = {}
    out: dict[int, dict] = {}
    for user_id, org_id in memberships:
        if org_id not in by_org:
            try:
                by_org[org_id] = organization_results(tender, org_id)
            except Exception:  # one participant's problem must not hold back the others
                log.exception("results of tender %s for organization %s", tender.id, org_id)
                by_org[org_id] = []
        rows = by_org[org_id]
        won = sum(r["result"] == "won" for r in rows)
        summary = f"Won {won} of {len(rows)} position(s) or lot(s) bid on." if rows else ""
        out[user_id] = {"results": rows, "inbox": {"summary": summary} if summary else {}}
    return out
