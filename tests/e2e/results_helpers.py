"""Closing a tender, disqualifying and publishing its results, as the customer would."""

from __future__ import annotations

import datetime as dt

from core import clock


def close_and_publish(app, client, auction: dict, disqualify: tuple | None = None) -> dict:
    """Move the clock past the deadline, run the close job, optionally disqualify
    (bidder key, lot number or None, reason) and publish through the API."""
    from tenders import jobs

    tender = client.get(f"/api/v1/tenders/{auction['tender']['id']}").get_json()
    deadline = dt.datetime.fromisoformat(tender["bid_deadline"])
    if clock.now() < deadline:
        clock.freeze(deadline + dt.timedelta(seconds=1))
    with app.app_context():
        assert jobs.close_at_deadline(tender["id"]) == "closed"
    headers = auction["customer"].headers
    if disqualify:
        who, lot, reason = disqualify
        mine = client.get(
            f"/api/v1/tenders/{tender['id']}/bid", headers=auction[who].headers
        ).get_json()
        resp = client.post(
            f"/api/v1/tenders/{tender['id']}/disqualifications",
            json={"participant": mine["participant_number"], "lot": lot, "reason": reason},
            headers=headers,
        )
        assert resp.status_code == 201, resp.get_json()
    clock.advance(dt.timedelta(hours=1))
    resp = client.post(f"/api/v1/tenders/{tender['id']}/results/publish", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()
