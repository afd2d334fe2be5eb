"""Each participant's own result per position, for the results notification (read through
results/outcome.py: awards per position of per_position lots, per lot of whole_lot lots)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from accounts.models import Membership
from bids.models import Bid
from core.extensions import db
from results.outcome import participant_results
from tenders.models import Tender

log = logging.getLogger(__name__)


def organization_results(tender: Tender, org_id: int) -> list[dict]:
    """One row per award the organization made an offer for, in notice order:
    {position, lot, name, result, rank, price, winning_price, reason}, from the tenders
    package's read API of the published results (results/outcome.py). The result is a code
    ("won", "not awarded", "disqualified") and the prices are numbers: the mail words and
    formats them in its reader's language."""
    out = []
    for item in participant_results(tender, org_id):
        award, own = item.award, item.own
        if own.status == "disqualified":
            result = "disqualified"
        elif item.won:
            result = "won"
        else:
            result = "not awarded"
        per_position = award.position_id is not None
        out.append(
            {
                "position": award.position_number if per_position else None,
                "lot": None if per_position else award.lot_number,
                "name": award.position_name or award.lot_title,
                "result": result,
                "rank": own.rank,
                "price": own.unit_price if per_position else own.total,
                "winning_price": award.price,
                "reason": own.reason if own.status == "disqualified" else None,
            }
        )
    return out


def for_participants(tender: Tender, people: dict[int, str]) -> dict[int, dict]:
    """{user id: {"results": [...], "inbox": {"won", "bid_on"}}} for the members of bidding
    organizations (the inbox words the counts in its reader's language); followers get the
    link to the published results only."""
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
        counts = {"won": won, "bid_on": len(rows)} if rows else {}
        out[user_id] = {"results": rows, "inbox": counts}
    return out
