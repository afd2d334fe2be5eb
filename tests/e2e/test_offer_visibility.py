"""Who sees which offers, per DESIGN.md: nobody's prices before one's own bid, participants
anonymous, rank only, sealed."""

import pytest

from tests.e2e.api_helpers import published
from tests.e2e.bidding_helpers import bidder, offer, submit


def _criteria(tender):
    ids = {c["name"]: c["id"] for c in tender["lots"][0]["criteria"]}
    return [
        {"lot": 1, "criterion": ids["Гарантия"], "value": "24"},
        {"lot": 1, "criterion": ids["Отсрочка платежа"], "value": "нет"},
    ]


def _offers(client, tender, headers=None):
    resp = client.get(f"/api/v1/tenders/{tender['id']}/offers", headers=headers or {})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_open_after_own_bid(app, client, db):
    tender = published(app, visibility="open_after_own_bid")
    a, b, late = bidder(app, client, name="OOO Alfa"), bidder(app, client), bidder(app, client)
    assert (
        submit(client, a, tender["id"], offer({"1": "90.00"}, _criteria(tender))).status_code == 201
    )
    assert (
        submit(
            client, b, tender["id"], offer({"1": "85.50", "2": "100"}, _criteria(tender))
        ).status_code
        == 201
    )
    # Before its own bid a supplier sees only how many bids there are.
    view = _offers(client, tender, late.headers)
    assert view["level"] == "count" and view["participants"] == 2 and view["rows"] == []
    assert _offers(client, tender)["level"] == "count"  # the public too
    # With its own bid: every offer, participants anonymous, best price per position.
    view = _offers(client, tender, a.headers)
    assert view["level"] == "offers"
    assert [c["label"] for c in view["columns"]] == ["Participant 1", "Participant 2"]
    assert [c["own"] for c in view["columns"]] == [True, False]
    row1 = view["rows"][0]
    assert row1["prices"] == ["90.00", "85.50"] and row1["best_price"] == "85.50"
    assert "OOO Alfa" not in str(view)
    # The customer sees offers, anonymous, during bidding.
    view = _offers(client, tender, tender["customer"].headers)
    assert view["level"] == "offers" and "OOO Alfa" not in str(view)


def test_rank_only(app, client, db):
    tender = published(app, visibility="rank_only")
    a, b = bidder(app, client), bidder(app, client)
    submit(client, a, tender["id"], offer({"1": "90.00"}, _criteria(tender)))
    submit(client, b, tender["id"], offer({"1": "80.00"}, _criteria(tender)))
    view = _offers(client, tender, a.headers)
    assert view["level"] == "rank" and view["columns"] == []
    row1 = view["rows"][0]
    assert (row1["own_price"], row1["own_rank"], row1["best_price"]) == ("90.00", 2, "80.00")
    assert "prices" not in row1 or not row1.get("prices")


@pytest.mark.parametrize("who", ["supplier", "customer"])
def test_sealed_shows_only_the_count(app, client, db, who):
    tender = published(app, visibility="sealed")
    a = bidder(app, client)
    submit(client, a, tender["id"], offer({"1": "90.00"}, _criteria(tender)))
    headers = a.headers if who == "supplier" else tender["customer"].headers
    view = _offers(client, tender, headers)
    assert view == {
        "level": "count",
        "participants": 1,
        "columns": [],
        "rows": [],
        "page": 1,
        "per_page": 100,
    }


def test_notice_page_follows_the_same_rules(app, client, db):
    from tests.e2e.helpers import login

    tender = published(app, visibility="open_after_own_bid")
    a, late = bidder(app, client), bidder(app, client)
    submit(client, a, tender["id"], offer({"1": "90.00"}, _criteria(tender)))
    url = f"/tenders/{tender['number']}"
    login(client, late.who.email)
    page = client.get(url).get_data(as_text=True)
    assert "become visible once your own bid is in" in page and "90.00" not in page
    assert "Bid / revise my offer" in page
    login(client, a.who.email)
    page = client.get(url).get_data(as_text=True)
    assert ">You<" in page and 'class="num best">90.00' in page
