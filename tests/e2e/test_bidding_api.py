"""Suppliers bid and revise through the API: signatures, receipts, the 30-minute rule."""

import datetime as dt

from core import clock, jobs
from core.messages import local_moment
from tenders import closing
from tests.e2e.api_helpers import caller, draft_body, published
from tests.e2e.bidding_helpers import bidder, offer, sign, submit
from tests.e2e.helpers import login


def _criteria(tender: dict, warranty="24", deferral="30 дней") -> list[dict]:
    lot = tender["lots"][0]
    ids = {c["name"]: c["id"] for c in lot["criteria"]}
    return [
        {"lot": 1, "criterion": ids["Гарантия"], "value": warranty},
        {"lot": 1, "criterion": ids["Отсрочка платежа"], "value": deferral},
    ]


def test_first_bid_revision_and_receipt(app, client, db):
    tender = published(app)
    b = bidder(app, client)
    resp = submit(client, b, tender["id"], offer({"1": "90.00"}, _criteria(tender)))
    assert resp.status_code == 201, resp.get_json()
    first = resp.get_json()
    assert first["number"] == 1 and first["triggering"] is True and first["extended"] is False
    assert first["total"] == "135000.00"  # 1500 m x 90.00
    receipt = first["receipt"]
    assert receipt["payload"]["revision_hash"] == first["payload_hash"]
    verified = client.post("/api/v1/receipts/verify", json=receipt)
    assert verified.status_code == 200
    # Only the note changes: accepted, not a triggering change.
    body = offer({"1": "90.00"}, _criteria(tender))
    body["lines"][0]["note"] = "барабаны по 500 м"
    second = submit(client, b, tender["id"], body).get_json()
    assert second["number"] == 2 and second["triggering"] is False
    assert second["previous_hash"] == first["payload_hash"]
    mine = client.get(f"/api/v1/tenders/{tender['id']}/bid", headers=b.headers).get_json()
    assert [r["number"] for r in mine["revisions"]] == [1, 2]
    assert mine["participant_number"] == 1


def test_deadline_extends_inside_the_window_and_closes(app, client, db):
    tender = published(
        app,
        bid_deadline=(clock.now() + dt.timedelta(hours=2)).isoformat(),
        questions_until=None,
    )
    deadline = dt.datetime.fromisoformat(tender["bid_deadline"])
    a, b = bidder(app, client), bidder(app, client)
    clock.freeze(deadline - dt.timedelta(minutes=40))  # before the window: no extension
    first = submit(client, a, tender["id"], offer({"1": "95.00"}, _criteria(tender))).get_json()
    assert first["extended"] is False
    clock.freeze(deadline - dt.timedelta(seconds=1))  # inside: +30 min from the deadline
    resp = submit(client, b, tender["id"], offer({"1": "94.00"}, _criteria(tender)))
    assert resp.status_code == 201, resp.get_json()
    extended = resp.get_json()
    assert extended["extended"] is True
    assert (first["extensions_count"], extended["extensions_count"]) == (0, 1)
    new_deadline = deadline + dt.timedelta(minutes=30)
    assert dt.datetime.fromisoformat(extended["bid_deadline"]) == new_deadline
    notice = client.get(f"/api/v1/tenders/{tender['id']}").get_json()
    assert notice["extension_policy"]["extensions_count"] == 1
    assert dt.datetime.fromisoformat(notice["original_deadline"]) == deadline
    # At the new deadline: refused, nothing stored, no extension.
    clock.freeze(new_deadline)
    resp = submit(client, a, tender["id"], offer({"1": "80.00"}, _criteria(tender)))
    assert resp.status_code == 409
    assert "Bidding closed at" in resp.get_json()["error"]["message"]
    mine = client.get(f"/api/v1/tenders/{tender['id']}/bid", headers=a.headers).get_json()
    assert len(mine["revisions"]) == 1


def test_invalid_offers_name_every_problem(app, client, db):
    tender = published(app)
    b = bidder(app, client)
    body = offer({"1": "120.00", "2": "0", "3": "10.001", "99": "5"}, [])
    resp = client.post(f"/api/v1/tenders/{tender['id']}/bid/prepare", json=body, headers=b.headers)
    assert resp.status_code == 422
    fields = resp.get_json()["error"]["fields"]
    assert {"lines.1.unit_price", "lines.2.unit_price", "lines.3.unit_price", "lines.99"} <= set(
        fields
    ), fields
    assert any(k.startswith("criteria.1.") for k in fields), fields  # required criteria missing


def test_denials(app, client, db):
    tender = published(app)
    tid = tender["id"]
    good = offer({"1": "90.00"}, _criteria(tender))
    b = bidder(app, client)
    # A signature over something else.
    resp = submit(client, b, tid, good, signature=sign(b.private_key, {"other": "payload"}))
    assert resp.status_code == 422 and "signature" in resp.get_json()["error"]["fields"]
    # Someone else's key.
    thief = bidder(app, client)
    prepared = client.post(
        f"/api/v1/tenders/{tid}/bid/prepare", json=good, headers=thief.headers
    ).get_json()
    resp = client.post(
        f"/api/v1/tenders/{tid}/bid/revisions",
        headers=thief.headers,
        json={**good, "key_id": b.key_id, "signature": sign(b.private_key, prepared["payload"])},
    )
    assert resp.status_code == 404
    # Ids beyond any stored one (and beyond the database's integer) are simply not found.
    out_of_range = ((2**31, tid), (10**20, tid), (-1, tid), (b.key_id, 2**31), (b.key_id, 10**20))
    for key_id, tender_id in out_of_range:
        resp = client.post(
            f"/api/v1/tenders/{tender_id}/bid/revisions",
            headers=b.headers,
            json={**good, "key_id": key_id, "signature": sign(b.private_key, {"x": 1})},
        )
        assert resp.status_code == (404 if tender_id != tid else 422), (key_id, tender_id)
        if tender_id == tid:
            assert "key_id" in resp.get_json()["error"]["fields"]
    resp = submit(client, b, tid, {**good, "documents": [10**20]})
    assert resp.status_code == 422 and "documents.0" in resp.get_json()["error"]["fields"]
    # The customer cannot bid on its own tender; a pending supplier cannot bid at all.
    resp = client.post(
        f"/api/v1/tenders/{tid}/bid/prepare", json=good, headers=tender["customer"].headers
    )
    assert resp.status_code == 403
    pending = caller(app, customer=False, supplier=True, accreditation_status="pending")
    assert (
        client.post(
            f"/api/v1/tenders/{tid}/bid/prepare", json=good, headers=pending.headers
        ).status_code
        == 403
    )
    # A replayed signature of revision 1 does not sign revision 2.
    first = submit(client, b, tid, good)
    assert first.status_code == 201
    prepared1_sig = None
    resp = client.post(
        f"/api/v1/tenders/{tid}/bid/revisions",
        headers=b.headers,
        json={
            **offer({"1": "89.00"}, _criteria(tender)),
            "key_id": b.key_id,
            "signature": prepared1_sig or sign(b.private_key, {"revision": 1}),
        },
    )
    assert resp.status_code == 422
    # Nobody sees another organization's bid.
    assert client.get(f"/api/v1/tenders/{tid}/bid", headers=thief.headers).status_code == 404
    # A cancelled tender accepts nothing.
    client.post(
        f"/api/v1/tenders/{tid}/cancel",
        json={"reason": "Budget cut"},
        headers=tender["customer"].headers,
    )
    resp = submit(client, b, tid, good)
    assert resp.status_code == 409 and "cancelled" in resp.get_json()["error"]["message"]


def test_withdrawal_does_not_extend(app, client, db):
    tender = published(
        app,
        bid_deadline=(clock.now() + dt.timedelta(hours=2)).isoformat(),
        questions_until=None,
    )
    deadline = dt.datetime.fromisoformat(tender["bid_deadline"])
    b = bidder(app, client)
    clock.freeze(deadline - dt.timedelta(hours=1))
    assert (
        submit(client, b, tender["id"], offer({"1": "90.00"}, _criteria(tender))).status_code == 201
    )
    clock.freeze(deadline - dt.timedelta(minutes=5))
    resp = client.post(f"/api/v1/tenders/{tender['id']}/bid/withdraw", headers=b.headers)
    assert resp.status_code == 200 and resp.get_json()["status"] == "withdrawn"
    notice = client.get(f"/api/v1/tenders/{tender['id']}").get_json()
    assert dt.datetime.fromisoformat(notice["bid_deadline"]) == deadline


def test_withdraw_from_the_form_page(app, client, db):
    from tests.e2e.helpers import csrf_of, login

    tender = published(app)
    b = bidder(app, client)
    assert (
        submit(client, b, tender["id"], offer({"1": "90.00"}, _criteria(tender))).status_code == 201
    )
    login(client, b.who.email)
    form_url = f"/tenders/{tender['number']}/bid"
    page = client.get(form_url)
    assert page.status_code == 200 and "Withdraw my bid" in page.get_data(as_text=True)
    token = csrf_of(client, form_url)
    resp = client.post(f"{form_url}/withdraw", data={"csrf_token": token})
    assert resp.status_code == 302
    again = client.post(f"{form_url}/withdraw", data={"csrf_token": token})
    assert again.status_code == 409 and "no active bid" in again.get_data(as_text=True)
    mine = client.get(f"/api/v1/tenders/{tender['id']}/bid", headers=b.headers).get_json()
    assert mine["status"] == "withdrawn"


def test_trigger_rank_ties_go_to_the_price_offered_first(app, client, db):
    """With a triggering rank of 1, only a change leaving the bidder first extends. A price
    kept through a later revision keeps the moment it was first offered."""
    tender = published(
        app,
        bid_deadline=(clock.now() + dt.timedelta(hours=2)).isoformat(),
        questions_until=None,
        extension_trigger_rank=1,
    )
    deadline = dt.datetime.fromisoformat(tender["bid_deadline"])
    a, b = bidder(app, client), bidder(app, client)
    clock.freeze(deadline - dt.timedelta(minutes=20))
    first = submit(client, a, tender["id"], offer({"1": "90.00"}, _criteria(tender))).get_json()
    assert first["extended"] is True  # alone, so first
    deadline = dt.datetime.fromisoformat(first["bid_deadline"])
    clock.freeze(deadline - dt.timedelta(minutes=20))
    tie = submit(client, b, tender["id"], offer({"1": "90.00"}, _criteria(tender))).get_json()
    assert tie["triggering"] is True and tie["extended"] is False  # A offered 90.00 earlier
    clock.freeze(deadline - dt.timedelta(minutes=10))
    # A changes only a criterion value: its 90.00 still dates from its first revision.
    kept = submit(
        client, a, tender["id"], offer({"1": "90.00"}, _criteria(tender, warranty="36"))
    ).get_json()
    assert kept["triggering"] is True and kept["extended"] is True
    deadline = dt.datetime.fromisoformat(kept["bid_deadline"])
    clock.freeze(deadline - dt.timedelta(minutes=5))
    lower = submit(client, b, tender["id"], offer({"1": "89.00"}, _criteria(tender))).get_json()
    assert lower["extended"] is True  # B is first now


def test_numbers_past_any_stored_id_are_field_errors(app, client, db):
    """A lot, participant or rank larger than a stored integer can be is refused by name
    (422), or matches no route (404): never a database error."""
    tender = published(app)
    tid, customer = tender["id"], tender["customer"]
    for path in (
        f"/api/v1/tenders/{tid}/positions?lot={10**20}",
        f"/api/v1/tenders/{tid}/results?lot={2**31}",
        f"/api/v1/tenders/{tid}/evaluation?participant={10**20}",
    ):
        resp = client.get(path, headers=customer.headers)
        assert resp.status_code == 422, (path, resp.get_json())
    assert client.get(f"/api/v1/tenders/{10**20}/positions").status_code == 404
    body = draft_body(extension_trigger_rank=10**12)
    resp = client.post("/api/v1/tenders", json=body, headers=customer.headers)
    assert resp.status_code == 422
    assert "extension_trigger_rank" in resp.get_json()["error"]["fields"]


def test_the_answer_names_the_revision_and_the_extensions(app, client, db):
    tender = published(app)
    b = bidder(app, client)
    accepted = submit(client, b, tender["id"], offer({"1": "90.00"}, _criteria(tender)))
    assert accepted.status_code == 201, accepted.get_json()
    answer = accepted.get_json()
    mine = client.get(f"/api/v1/tenders/{tender['id']}/bid", headers=b.headers).get_json()
    assert answer["id"] == mine["revisions"][0]["id"] and answer["number"] == 1
    assert answer["extensions_count"] == 0


def test_a_late_change_names_the_deadline_in_the_tenders_zone_before_and_after_the_close(
    app, client, db
):
    tender = published(
        app,
        bid_deadline=(clock.now() + dt.timedelta(hours=2)).isoformat(),
        questions_until=None,
        timezone="Asia/Yekaterinburg",
    )
    tid = tender["id"]
    assert tender["closed_at"] is None
    deadline = dt.datetime.fromisoformat(tender["bid_deadline"])
    b = bidder(app, client)
    assert submit(client, b, tid, offer({"1": "90.00"}, _criteria(tender))).status_code == 201
    body = offer({"1": "80.00"}, _criteria(tender))
    prepared = client.post(f"/api/v1/tenders/{tid}/bid/prepare", json=body, headers=b.headers)
    signed = {
        **body,
        "key_id": b.key_id,
        "signature": sign(b.private_key, prepared.get_json()["payload"]),
    }
    expected = f"Bidding closed at {local_moment(deadline, 'Asia/Yekaterinburg')}."
    assert "(UTC+5)" in expected

    def refusals():
        late = [
            client.post(f"/api/v1/tenders/{tid}/bid/revisions", json=signed, headers=b.headers),
            client.post(f"/api/v1/tenders/{tid}/bid/prepare", json=body, headers=b.headers),
            client.post(f"/api/v1/tenders/{tid}/bid/withdraw", headers=b.headers),
        ]
        return [
            (r.status_code, r.get_json()["error"]["code"], r.get_json()["error"]["message"])
            for r in late
        ]

    clock.freeze(deadline + dt.timedelta(seconds=3))  # after the deadline, before the close
    assert refusals() == [(409, "bidding_closed", expected)] * 3
    with app.app_context():
        assert jobs.run_job(closing.CLOSE_JOB, tid, deadline.isoformat()) == "closed"
    assert refusals() == [(409, "bidding_closed", expected)] * 3  # the same once closed
    pages = app.test_client()
    assert login(pages, b.who.email).status_code == 302
    for page in ("bid", "bid/csv"):  # the bid pages say the same
        html = pages.get(f"/tenders/{tender['number']}/{page}").get_data(as_text=True)
        assert expected in html, page
    notice = client.get(f"/api/v1/tenders/{tid}").get_json()
    assert notice["status"] == "closed"
    assert dt.datetime.fromisoformat(notice["closed_at"]) == deadline + dt.timedelta(seconds=3)
