"""Many suppliers revise at once around the close: nothing is accepted at or after the final
deadline, the deadline is what the rule gives for the accepted revisions, and every revision
the API acknowledged is stored. Real concurrent transactions (no per-test transaction here)."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

from sqlalchemy import select

from bids import rules
from bids.models import Bid, BidRevision
from bids.service import policy_of
from core import clock
from core.extensions import db
from tenders.models import Tender
from tests.e2e.api_helpers import caller, draft_body
from tests.e2e.bidding_helpers import bidder, offer, submit

BIDDERS = 8


def _tender(app, client) -> int:
    customer = caller(app)
    now = clock.now()
    body = draft_body(
        bid_deadline=(now + dt.timedelta(seconds=3)).isoformat(),
        questions_until=None,
        latest_close=(now + dt.timedelta(seconds=6)).isoformat(),
    )
    body["lots"] = [
        {
            "title": "Кабель",
            "positions": [{"number": "1", "name": "Кабель", "quantity": "10", "unit_code": "006"}],
        }
    ]
    tender = client.post("/api/v1/tenders", json=body, headers=customer.headers).get_json()
    resp = client.post(f"/api/v1/tenders/{tender['id']}/publish", headers=customer.headers)
    assert resp.status_code == 200, resp.get_json()
    return tender["id"]


def _hammer(app, b, tender_id: int, acknowledged: list, errors: list) -> None:
    client = app.test_client()
    price = Decimal("1000.00") - Decimal(b.key_id % 97)
    while True:
        resp = submit(client, b, tender_id, offer({"1": f"{price:.2f}"}))
        if resp.status_code == 201:
            acknowledged.append(resp.get_json()["payload_hash"])
            price -= Decimal("0.01")
        elif resp.status_code == 409:
            return  # bidding closed
        else:
            errors.append((resp.status_code, resp.get_json()))
            return


def test_revisions_racing_the_close(app):
    client = app.test_client()
    tender_id = _tender(app, client)
    bidders = [bidder(app, client) for _ in range(BIDDERS)]
    acknowledged: list[str] = []
    errors: list = []
    threads = [
        threading.Thread(target=_hammer, args=(app, b, tender_id, acknowledged, errors))
        for b in bidders
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with app.app_context():
        tender = db.session.get(Tender, tender_id)
        revisions = (
            db.session.execute(
                select(BidRevision)
                .join(Bid)
                .where(Bid.tender_id == tender_id)
                .order_by(BidRevision.accepted_at, BidRevision.id)
            )
            .scalars()
            .all()
        )
        stored = {r.payload_hash for r in revisions}
        assert set(acknowledged) <= stored and len(acknowledged) == len(stored)
        assert len(revisions) > BIDDERS  # they did race
        final = tender.bid_deadline
        assert all(r.accepted_at < final for r in revisions)
        # Replaying the accepted revisions through the pure rule gives the same deadline.
        deadline, extensions = tender.original_deadline, 0
        policy = policy_of(tender)
        for r in revisions:
            decision = rules.decide(
                deadline,
                r.accepted_at,
                policy,
                triggering=r.triggering,
                extensions_so_far=extensions,
            )
            assert decision.accepted and decision.deadline == r.deadline_after
            extensions += decision.extended
            deadline = decision.deadline
        assert deadline == final and extensions == tender.extensions_count == 1
        db.session.remove()
