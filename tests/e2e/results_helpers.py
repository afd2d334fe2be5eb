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
    approve_decision(client, tender["id"], headers)
    resp = client.post(f"/api/v1/tenders/{tender['id']}/results/publish", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def approve_decision(client, tender_id: int, headers: dict, items: list | None = None) -> dict:
    """Prepare the commission's decision (the ranking, or these exceptions), vote for it as
    the customer (the only manager: the default commission and its chair) and close the vote."""
    base = f"/api/v1/tenders/{tender_id}/decision"
    resp = client.post(base, json={"items": items or []}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    resp = client.post(f"{base}/votes", json={"vote": "for"}, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    resp = client.post(f"{base}/close", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def decide_in_browser(page) -> None:
    """On the review page, as the customer's only manager (the commission and its chair):
    prepare the decision as ranked, vote for it and close the vote."""
    with page.expect_navigation():
        page.click("#prepare-decision")
    page.check("#vote-form input[value=for]")
    with page.expect_navigation():
        page.click("#cast-vote")
    with page.expect_navigation():
        page.click("#close-vote")
