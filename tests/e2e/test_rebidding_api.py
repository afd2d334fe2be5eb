"""The re-bidding round over HTTP: announce, list, prepare and submit an improved offer, the
close by the job, and every refusal with its status and code (nothing stored), the denials
included (anonymous, another organization, a non-invitee, a member without the right)."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock
from tests.e2e.api_helpers import caller, published
from tests.e2e.bidding_helpers import bid, bidder, sign
from tests.e2e.results_helpers import approve_decision

LOTS = [
    {
        "title": "Кабель",
        "positions": [
            {"number": "1", "name": "Кабель", "quantity": "10", "unit_code": "006"},
            {"number": "2", "name": "Провод", "quantity": "5", "unit_code": "006"},
        ],
    },
    {
        "title": "Муфты",
        "positions": [{"number": "3", "name": "Муфта", "quantity": "4", "unit_code": "796"}],
    },
]


@pytest.fixture()
def closed(app, client):
    """A closed, evaluated tender: a (dearer on 1) and b (cheaper on 1, no lot 2)."""
    from tenders import jobs

    tender = published(app, deadline=dt.timedelta(minutes=90), lots=LOTS, criteria=False)
    a, b = bidder(app, client), bidder(app, client)
    bid(app, a, tender["id"], {"1": "100.00", "2": "50.00", "3": "10.00"})
    bid(app, b, tender["id"], {"1": "90.00", "2": "60.00"})
    clock.advance(dt.timedelta(minutes=91))
    with app.app_context():
        assert jobs.close_at_deadline(tender["id"]) == "closed"
    return {"tender": tender, "customer": tender["customer"], "a": a, "b": b}


def _round(client, closed, expect=201, hours=2.0, **body):
    body = {"lots": [1], "deadline": (clock.now() + dt.timedelta(hours=hours)).isoformat(), **body}
    resp = client.post(
        f"/api/v1/tenders/{closed['tender']['id']}/rebidding/rounds",
        json=body,
        headers=closed["customer"].headers,
    )
    assert resp.status_code == expect, resp.get_json()
    return resp.get_json()


def _improve(client, tender_id, who, prices, expect=201):
    body = {"lines": [{"position": n, "unit_price": p} for n, p in prices.items()]}
    base = f"/api/v1/tenders/{tender_id}/rebidding/offer"
    prepared = client.post(base + "/prepare", json=body, headers=who.headers)
    if prepared.status_code != 200:
        assert prepared.status_code == expect, prepared.get_json()
        return prepared.get_json()
    payload = prepared.get_json()["payload"]
    assert payload["rebidding"] == {"round": prepared.get_json()["round"]}
    signed = {**body, "key_id": who.key_id, "signature": sign(who.private_key, payload)}
    resp = client.post(base, json=signed, headers=who.headers)
    assert resp.status_code == expect, resp.get_json()
    return resp.get_json()


def test_a_round_from_announcement_to_the_re_evaluated_results(app, client, closed):
    from results.rebidding import jobs

    tid = closed["tender"]["id"]
    announced = _round(client, closed, lots=[1])
    assert announced["number"] == 1 and announced["status"] == "open"
    assert [p["participant"] for p in announced["invited"]] == [1, 2]
    accepted = _improve(client, tid, closed["a"], {"1": "80.00"})
    assert accepted["number"] == 2 and accepted["receipt"]["signature"]
    assert accepted["bid_deadline"] == announced["deadline"]

    # The invitee sees its invitation; an outsider the round without names or prices.
    mine = client.get(f"/api/v1/tenders/{tid}/rebidding/rounds", headers=closed["a"].headers)
    [shown] = mine.get_json()["rounds"]
    assert shown["invitation"]["lots"] == [1] and shown["invited"] is None
    assert {p["position"]: p["unit_price"] for p in shown["invitation"]["positions"]} == {
        "1": "80.00",
        "2": "50.00",
    }
    public = client.get(f"/api/v1/tenders/{tid}/rebidding/rounds").get_json()["rounds"][0]
    assert public["invited"] is None and public["positions"] is None
    assert public["invitation"] is None and public["offers"] == 1
    # Members as their roles allow: the customer's specialist not in charge of the tender and
    # a's specialist not in charge of its bid see what the public sees.
    from tests.e2e.test_roles import member

    for who in (
        member(app, closed["customer"], ["specialist"]),
        member(app, closed["a"].who, ["specialist"]),
    ):
        seen = client.get(f"/api/v1/tenders/{tid}/rebidding/rounds", headers=who.headers)
        [shown] = seen.get_json()["rounds"]
        assert shown["invited"] is None and shown["invitation"] is None

    clock.advance(dt.timedelta(hours=2, seconds=1))
    with app.app_context():
        assert jobs.close_overdue() == 1
    rounds = client.get(
        f"/api/v1/tenders/{tid}/rebidding/rounds", headers=closed["customer"].headers
    ).get_json()["rounds"]
    changed = [p for p in rounds[0]["positions"] if p["before"] != p["after"]]
    assert changed == [
        {
            "lot": 1,
            "position": "1",
            "name": "Кабель",
            "participant": 1,
            "before": "100.00",
            "after": "80.00",
        }
    ]
    evaluation = client.get(
        f"/api/v1/tenders/{tid}/evaluation", headers=closed["customer"].headers
    ).get_json()
    row = next(r for r in evaluation["rows"] if r["position"] == "1")
    assert min(o["unit_price"] for o in row["offers"] if o["rank"] == 1) == "80.00"
    late = _improve(client, tid, closed["b"], {"1": "70.00"}, expect=409)
    assert late["error"]["code"] == "rebidding_closed"


def test_bad_input_and_wrong_states_answer_4xx_naming_the_reason(app, client, closed):
    tid = closed["tender"]["id"]
    soon = _round(client, closed, expect=422, hours=0.5)
    assert "deadline" in soon["error"]["fields"]
    nobody = _round(client, closed, expect=422, participants=[42])
    assert "Participant 42" in nobody["error"]["fields"]["participants"][0]
    junk = _round(client, closed, expect=422, lots=["x"], scope="everything")
    assert {"lots.0", "scope"} <= set(junk["error"]["fields"]) or "lots" in junk["error"]["fields"]
    listed = client.get(f"/api/v1/tenders/{tid}/rebidding/rounds").get_json()["rounds"]
    assert listed == []  # nothing stored

    _round(client, closed, participants=[2])  # b only
    again = _round(client, closed, expect=409)
    assert again["error"]["code"] == "rebidding_running"
    outsider = _improve(client, tid, closed["a"], {"1": "10.00"}, expect=403)
    assert "not invited" in outsider["error"]["message"]
    worse = _improve(client, tid, closed["b"], {"1": "95.00"}, expect=422)
    assert "above your previous price 90.00" in worse["error"]["fields"]["lines.1.unit_price"][0]
    published_now = client.post(
        f"/api/v1/tenders/{tid}/results/publish", headers=closed["customer"].headers
    )
    assert published_now.status_code == 409
    assert published_now.get_json()["error"]["code"] == "rebidding_running"


def test_denials(app, client, closed):
    tid = closed["tender"]["id"]
    body = {"lots": [1], "deadline": (clock.now() + dt.timedelta(hours=2)).isoformat()}
    path = f"/api/v1/tenders/{tid}/rebidding/rounds"
    assert client.post(path, json=body).status_code == 401
    other = caller(app)
    assert client.post(path, json=body, headers=other.headers).status_code == 403
    assert client.post(path, json=body, headers=closed["a"].headers).status_code == 403
    with app.test_request_context():
        from accounts.models import Membership
        from core.extensions import db
        from core.transaction import commit

        membership = db.session.execute(
            db.select(Membership).where(Membership.user_id == closed["customer"].user_id)
        ).scalar_one()
        membership.roles = ["observer"]
        commit()
    watcher = client.post(path, json=body, headers=closed["customer"].headers)
    assert watcher.status_code == 403
    offer = f"/api/v1/tenders/{tid}/rebidding/offer/prepare"
    assert client.post(offer, json={"lines": []}).status_code == 401
    none = client.post(offer, json={"lines": []}, headers=closed["a"].headers)
    assert none.status_code == 409 and none.get_json()["error"]["code"] == "rebidding_none"
    assert client.get("/api/v1/tenders/999999/rebidding/rounds").status_code == 404


def test_the_openapi_document_lists_the_round(app, client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/v1/tenders/{tender_id}/rebidding/rounds"]
    assert "get" in paths["/api/v1/tenders/{tender_id}/rebidding/rounds"]
    assert "post" in paths["/api/v1/tenders/{tender_id}/rebidding/offer"]


def test_the_pages_show_the_round_to_each_viewer(app, client, closed):
    from tests.e2e.helpers import login, post_form

    tid, number = closed["tender"]["id"], closed["tender"]["number"]
    review = f"/cabinet/tenders/{tid}/review"
    assert login(client, closed["customer"].email).status_code == 302
    page = client.get(review).get_data(as_text=True)
    assert 'id="rebidding-form"' in page
    soon = (clock.now() + dt.timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M")
    refused = post_form(
        client, review, f"/cabinet/tenders/{tid}/rebidding", {"lots": "1", "deadline": soon}
    )
    assert refused.status_code == 302
    page = client.get(review).get_data(as_text=True)
    assert "at least 60 minutes" in page and "Re-bidding round 1" not in page
    post_form(client, review, f"/cabinet/tenders/{tid}/rebidding", {"lots": "1"})
    page = client.get(review).get_data(as_text=True)
    assert "deadline: " in page and "deadline: [" not in page  # each message, not a list
    later = (clock.now() + dt.timedelta(hours=3)).astimezone(dt.timezone(dt.timedelta(hours=3)))
    post_form(
        client,
        review,
        f"/cabinet/tenders/{tid}/rebidding",
        {"lots": "1", "deadline": later.strftime("%Y-%m-%dT%H:%M"), "scope": "prices"},
    )
    page = client.get(review).get_data(as_text=True)
    assert "Re-bidding round 1" in page and 'id="rebidding-form"' not in page
    assert "Unit prices before and after the round" in page
    client.get("/logout")
    client.post("/logout")

    anonymous = app.test_client().get(f"/tenders/{number}").get_data(as_text=True)
    assert "Re-bidding round 1" in anonymous and "data-round-of" in anonymous
    assert "Unit prices before and after" not in anonymous

    supplier = app.test_client()
    assert login(supplier, closed["a"].who.email).status_code == 302
    notice = supplier.get(f"/tenders/{number}").get_data(as_text=True)
    assert 'id="rebidding-offer-link"' in notice
    form = supplier.get(f"/tenders/{number}/rebidding")
    assert form.status_code == 200 and 'data-previous="100.00"' in form.get_data(as_text=True)
    outsider = app.test_client()
    assert login(outsider, caller(app, customer=False, supplier=True).email).status_code == 302
    assert outsider.get(f"/tenders/{number}/rebidding").status_code == 404


def test_protocol_ocds_and_results_show_the_finished_round(app, client, closed):
    import io

    from pypdf import PdfReader

    from results.rebidding import jobs
    from tests.ocds_schema import field_sources, problems

    tid, number = closed["tender"]["id"], closed["tender"]["number"]
    _round(client, closed, lots=[1])
    _improve(client, tid, closed["a"], {"1": "80.00"})
    during = client.get(f"/api/v1/tenders/{tid}/ocds").get_json()
    assert problems(during) == []
    [milestone] = during["releases"][0]["tender"]["milestones"]
    assert milestone["status"] == "scheduled" and milestone["id"] == "rebidding-1"
    clock.advance(dt.timedelta(hours=2, seconds=1))
    with app.app_context():
        assert jobs.close_overdue() == 1
    headers = closed["customer"].headers
    approve_decision(client, tid, headers)
    assert client.post(f"/api/v1/tenders/{tid}/results/publish", headers=headers).status_code == 200

    package = client.get(f"/api/v1/tenders/{tid}/ocds").get_json()
    assert problems(package) == []
    release = package["releases"][0]
    assert all(source is not None for source in field_sources(release).values())
    [milestone] = release["tender"]["milestones"]
    assert milestone["status"] == "met" and milestone["dateMet"]
    improved = [d for d in release["bids"]["details"] if d.get("description")]
    assert len(improved) == 1 and "1: 100.00 -> 80.00" in improved[0]["description"]
    assert improved[0]["id"].endswith("-L1")

    with app.app_context():
        from reports import jobs as report_jobs

        report_jobs.generate_protocol(tid)
    resp = client.get(f"/tenders/{number}/protocol.pdf")
    assert resp.status_code == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
    resp.close()
    assert "Re-bidding rounds" in text and "100.00" in text.replace("\xa0", " ").replace(",", ".")

    page = client.get(f"/tenders/{number}/results", headers=headers)
    assert page.status_code == 200


def test_a_specialist_not_in_charge_of_the_bid_may_not_improve_it(app, client, closed):
    from tests.e2e.helpers import login
    from tests.e2e.test_roles import member

    tid, number = closed["tender"]["id"], closed["tender"]["number"]
    other = member(app, closed["a"].who, ["specialist"], key=True)
    _round(client, closed, lots=[1])
    with app.app_context():  # the invitation reaches those who see the bid only
        from core.extensions import db
        from notifications.models import Notification

        told = set(
            db.session.execute(
                db.select(Notification.user_id).where(Notification.kind == "rebidding.announced")
            ).scalars()
        )
        assert closed["a"].who.user_id in told and other.who.user_id not in told
    refused = _improve(client, tid, other, {"1": "80.00"}, expect=403)
    assert refused["error"]["code"] == "forbidden"
    body = {"lines": [{"position": "1", "unit_price": "80.00"}], "key_id": other.key_id}
    submitted = client.post(
        f"/api/v1/tenders/{tid}/rebidding/offer",
        json={**body, "signature": sign(other.private_key, {"not": "the payload"})},
        headers=other.headers,
    )
    assert submitted.status_code == 403
    page = app.test_client()
    assert login(page, other.who.email).status_code == 302
    assert page.get(f"/tenders/{number}/rebidding").status_code == 404
    assert _improve(client, tid, closed["a"], {"1": "80.00"})["number"] == 2


def _criterion_id(app, tender_id: int, name: str) -> int:
    from sqlalchemy import select

    from core.extensions import db
    from positions.models import Criterion
    from tenders.models import Lot

    with app.app_context():
        return db.session.execute(
            select(Criterion.id)
            .join(Lot, Lot.id == Criterion.lot_id)
            .where(Lot.tender_id == tender_id, Criterion.name == name)
        ).scalar_one()


def closed_with_criteria(app, client) -> dict:
    """A closed tender whose lot 1 has criteria: a (90.00, warranty 24 months) and b (95.00,
    warranty 12 months)."""
    from tenders import jobs
    from tests.factories import draft_body

    tender = published(app, deadline=dt.timedelta(minutes=90), lots=draft_body()["lots"][:1])
    warranty = _criterion_id(app, tender["id"], "Гарантия")
    a, b = bidder(app, client), bidder(app, client)
    months = lambda n: [{"lot": 1, "criterion": warranty, "value": n}]  # noqa: E731
    bid(app, a, tender["id"], {"1": "90.00", "2": "100.00"}, criteria=months("24"))
    bid(app, b, tender["id"], {"1": "95.00"}, criteria=months("12"))
    clock.advance(dt.timedelta(minutes=91))
    with app.app_context():
        assert jobs.close_at_deadline(tender["id"]) == "closed"
    return {"tender": tender, "customer": tender["customer"], "a": a, "b": b, "warranty": warranty}


def test_the_round_form_offers_the_criteria_when_the_round_takes_them(app, client):
    """A prices-only round shows prices alone; a round that takes criteria shows the lot's
    criteria with the invitee's current values (the API's invitation gives them too)."""
    from results.rebidding import jobs as rebidding_jobs
    from tests.e2e.helpers import login

    closed = closed_with_criteria(app, client)
    number, warranty = closed["tender"]["number"], closed["warranty"]
    supplier = app.test_client()
    assert login(supplier, closed["b"].who.email).status_code == 302
    rounds = f"/api/v1/tenders/{closed['tender']['id']}/rebidding/rounds"

    _round(client, closed, scope="prices")
    page = supplier.get(f"/tenders/{number}/rebidding").get_data(as_text=True)
    assert 'data-previous="95.00"' in page and 'id="round-criteria"' not in page
    [shown] = client.get(rounds, headers=closed["b"].who.headers).get_json()["rounds"]
    assert shown["invitation"]["criteria"] == []

    clock.advance(dt.timedelta(hours=3))
    with app.app_context():
        rebidding_jobs.close_overdue()
    _round(client, closed, scope="prices_and_criteria")
    page = supplier.get(f"/tenders/{number}/rebidding").get_data(as_text=True)
    assert 'id="round-criteria"' in page
    assert f'id="crit-1-{warranty}"' in page and 'value="12"' in page
    assert f'data-field="criteria.1.{warranty}"' in page  # where a refusal is shown
    shown = client.get(rounds, headers=closed["b"].who.headers).get_json()["rounds"][-1]
    assert shown["invitation"]["criteria"] == [{"lot": 1, "criterion": warranty, "value": "12"}]
