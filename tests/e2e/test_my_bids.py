""" "My bids" and followed tenders: the rows as the visibility allows, filters and their
refusals, sorting and paging, exports, and who may see what (issue 22)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest

from core import clock
from tests.e2e.api_helpers import caller, published
from tests.e2e.bidding_helpers import bid, bidder
from tests.e2e.helpers import login
from tests.e2e.results_helpers import close_and_publish


def _criteria(tender, warranty="24"):
    ids = {c["name"]: c["id"] for c in tender["lots"][0]["criteria"]}
    return [
        {"lot": 1, "criterion": ids["Гарантия"], "value": warranty},
        {"lot": 1, "criterion": ids["Отсрочка платежа"], "value": "нет"},
    ]


def _bids(client, who, **params):
    resp = client.get("/api/v1/bids", query_string=params, headers=who.headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _row(page, tender_id):
    return next(r for r in page["items"] if r["tender"]["id"] == tender_id)


def test_rows_follow_the_visibility_of_each_tender(app, client, db):
    a, b = bidder(app, client, name="OOO Alfa"), bidder(app, client, name="OOO Beta")
    open_t = published(app, visibility="open_after_own_bid")
    rank_t = published(app, visibility="rank_only")
    sealed = published(app, visibility="sealed")
    for t in (open_t, rank_t, sealed):
        bid(app, a, t["id"], {"1": "90.00", "2": "110.00", "3": "500"}, _criteria(t))
        bid(app, b, t["id"], {"1": "85.00", "3": "450"}, _criteria(t))
    page = _bids(client, a.who)
    assert page["total"] == 3 and len(page["items"]) == 3
    row = _row(page, open_t["id"])
    assert row["level"] == "offers" and row["participants"] == 2 and row["stage"] == "bidding"
    assert row["revision"]["number"] == 1 and row["revision"]["total"] == "243000.00"
    lots = {lot["lot"]: lot for lot in row["lots"]}
    # Lot 1 per position: A leads on position 2 only (B did not price it), best = 85 x 1500
    # + 110 x 800; lot 2 whole: B's 450 x 40 beats A's 500 x 40.
    assert lots[1]["positions"] == 2 and lots[1]["leading"] == 1
    assert lots[1]["own_total"] == "223000.00" and lots[1]["best_total"] == "215500.00"
    assert lots[2]["own_rank"] == 2 and lots[2]["best_total"] == "18000.00"
    # rank_only shows the same standing (own rank and best price), never competitors' rows.
    assert _row(page, rank_t["id"])["level"] == "rank"
    assert _row(page, rank_t["id"])["lots"] == row["lots"]
    # Sealed: the number of bids only, as on the notice.
    sealed_row = _row(page, sealed["id"])
    assert sealed_row["level"] == "count" and sealed_row["lots"] == []
    assert sealed_row["participants"] == 2
    # B leads lot 2 and position 1.
    b_lots = {lot["lot"]: lot for lot in _row(_bids(client, b.who), open_t["id"])["lots"]}
    assert b_lots[2]["own_rank"] == 1 and b_lots[1]["leading"] == 1


def test_results_per_position_and_the_won_lost_filter(app, client, db):
    a, b = bidder(app, client), bidder(app, client)
    t = published(app, criteria=False, deadline=dt.timedelta(hours=2))
    bid(app, a, t["id"], {"1": "90.00", "2": "110.00", "3": "500"})
    bid(app, b, t["id"], {"1": "85.00", "3": "450"})
    lost_t = published(app, criteria=False, deadline=dt.timedelta(hours=2))
    bid(app, a, lost_t["id"], {"1": "95.00"})
    bid(app, b, lost_t["id"], {"1": "80.00"})
    other = published(app, criteria=False)  # still open, for the stage filter
    bid(app, a, other["id"], {"1": "70.00"})
    close_and_publish(app, client, {"tender": t, "customer": t["customer"]})
    close_and_publish(app, client, {"tender": lost_t, "customer": lost_t["customer"]})
    row = _row(_bids(client, a.who), t["id"])
    assert row["stage"] == "results" and row["level"] == "results"
    res = row["results"]
    assert (res["won"], res["lost"], res["disqualified"], res["units_total"]) == (1, 2, 0, 3)
    assert res["won_total"] == "88000.00"
    units = {(u["lot"], u["position"]): u for u in res["units"]}
    assert units[(1, "2")]["outcome"] == "won" and units[(1, "1")]["outcome"] == "lost"
    assert units[(1, "1")]["winning_price"] == "85.00" and units[(1, "1")]["rank"] == 2
    assert units[(2, None)]["outcome"] == "lost"
    won = _bids(client, a.who, outcome="won")
    assert [r["tender"]["id"] for r in won["items"]] == [t["id"]]
    lost = _bids(client, a.who, outcome="lost")
    assert [r["tender"]["id"] for r in lost["items"]] == [lost_t["id"]]
    assert _bids(client, b.who, outcome="won")["total"] == 2
    bidding = _bids(client, a.who, stage="bidding")
    assert [r["tender"]["id"] for r in bidding["items"]] == [other["id"]]
    assert _bids(client, a.who, stage="bidding,results")["total"] == 3
    clock.reset()


def test_filters_sorting_and_paging(app, client, db):
    a = bidder(app, client)
    first = caller(app, name="OOO First customer")
    second = caller(app, name="OOO Second customer")
    made = []
    for days, customer, price in ((3, first, "10"), (5, second, "30"), (8, first, "20")):
        t = published(app, customer, criteria=False, deadline=dt.timedelta(days=days))
        bid(app, a, t["id"], {"1": price})
        made.append(t)
    ids = [t["id"] for t in made]
    assert [r["tender"]["id"] for r in _bids(client, a.who)["items"]] == ids[::-1]
    assert [r["tender"]["id"] for r in _bids(client, a.who, sort="deadline")["items"]] == ids
    by_total = _bids(client, a.who, sort="-total")["items"]
    assert [r["tender"]["id"] for r in by_total] == [ids[1], ids[2], ids[0]]
    assert [r["tender"]["id"] for r in _bids(client, a.who, customer=first.org_id)["items"]] == [
        ids[2],
        ids[0],
    ]
    day = (clock.now() + dt.timedelta(days=5)).date().isoformat()
    assert [
        r["tender"]["id"] for r in _bids(client, a.who, deadline_from=day, deadline_to=day)["items"]
    ] == [ids[1]]
    page2 = _bids(client, a.who, per_page=2, page=2)
    assert page2["total"] == 3 and [r["tender"]["id"] for r in page2["items"]] == [ids[0]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"stage": "finished"}, "stage"),
        ({"outcome": "maybe"}, "outcome"),
        ({"customer": "0"}, "customer"),
        ({"customer": "abc"}, "customer"),
        ({"deadline_from": "2026-13-01"}, "deadline_from"),
        ({"deadline_from": "2026-12-10", "deadline_to": "2026-12-01"}, "deadline_to"),
        ({"sort": "price"}, "sort"),
        ({"sort": "followed"}, "sort"),
        ({"per_page": "1000"}, "per_page"),
        ({"page": "0"}, "page"),
    ],
)
def test_impossible_filters_are_refused_naming_the_parameter(app, client, db, params, field):
    a = bidder(app, client)
    resp = client.get("/api/v1/bids", query_string=params, headers=a.headers)
    assert resp.status_code == 422
    assert [k.split(".")[0] for k in resp.get_json()["error"]["fields"]] == [field]


def test_the_page_names_a_bad_filter_and_applies_the_rest(app, client, db):
    a = bidder(app, client)
    t = published(app, criteria=False)
    bid(app, a, t["id"], {"1": "50"})
    login(client, a.who.email)
    resp = client.get("/cabinet/bids?deadline_from=yesterday&stage=bidding")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="filter-errors"' in html and "Deadline from" in html
    assert t["number"] in html  # the valid stage filter still applies
    page = client.get("/cabinet/bids").get_data(as_text=True)
    assert t["number"] in page and 'class="countdown"' in page


def test_unknown_query_names_stay_out_of_the_page_links(app, client, db):
    """Names url_for takes as its own (kind, fmt, endpoint, _external, _anchor) were copied
    into the page's links: a 500, or links pointing elsewhere."""
    a = bidder(app, client)
    login(client, a.who.email)
    for path in ("/cabinet/bids", "/cabinet/followed"):
        resp = client.get(path + "?kind=x&fmt=pdf&endpoint=x&_external=1&_anchor=zz&stage=bidding")
        assert resp.status_code == 200, path
        html = resp.get_data(as_text=True)
        assert "#zz" not in html and "http://localhost/cabinet" not in html
        assert "stage=bidding" in html  # the filters still ride along


def test_who_may_see_which_bids(app, client, db):
    """Another organization, a customer, anonymous callers and a specialist who did not
    submit the bid see none of it."""
    from accounts.models import Membership
    from accounts.service import create_token
    from core.extensions import db as database
    from core.transaction import commit
    from tests.factories import make_user

    a, other = bidder(app, client), bidder(app, client)
    t = published(app, criteria=False)
    bid(app, a, t["id"], {"1": "50"})
    assert _bids(client, other.who)["total"] == 0  # another organization
    resp = client.get("/api/v1/bids", headers=t["customer"].headers)
    assert resp.status_code == 403  # a customer organization has no bids to list
    assert client.get("/api/v1/bids").status_code == 401
    assert client.get("/cabinet/bids").status_code == 302  # to the login page
    with app.test_request_context():
        specialist = make_user(roles=("specialist",))
        database.session.add(
            Membership(user_id=specialist.id, organization_id=a.who.org_id, roles=["specialist"])
        )
        observer = make_user()
        database.session.add(
            Membership(user_id=observer.id, organization_id=a.who.org_id, roles=["observer"])
        )
        database.session.flush()
        _, spec_token = create_token(specialist, a.who.org_id, "test")
        _, obs_token = create_token(observer, a.who.org_id, "test")
        commit()
    spec = {"Authorization": f"Bearer {spec_token}"}
    resp = client.get("/api/v1/bids", headers=spec)
    assert resp.status_code == 200 and resp.get_json()["total"] == 0
    obs = client.get("/api/v1/bids", headers={"Authorization": f"Bearer {obs_token}"})
    assert obs.get_json()["total"] == 1  # an observer sees every bid of the organization
    # The specialist follows the tender: the row shows no bid of the organization.
    assert client.put(f"/api/v1/tenders/{t['id']}/follow", headers=spec).status_code == 200
    row = client.get("/api/v1/followed", headers=spec).get_json()["items"][0]
    assert row["bid"] is None and row["revision"] is None and row["lots"] == []


def test_followed_tenders_list_follow_and_unfollow(app, client, db):
    a = bidder(app, client)
    mine, watched = published(app, criteria=False), published(app, criteria=False)
    bid(app, a, mine["id"], {"1": "50"})
    for t in (mine, watched):
        resp = client.put(f"/api/v1/tenders/{t['id']}/follow", headers=a.headers)
        assert resp.status_code == 200
    page = client.get("/api/v1/followed", headers=a.headers).get_json()
    assert [r["tender"]["id"] for r in page["items"]] == [watched["id"], mine["id"]]
    assert all(r["following"] for r in page["items"])
    rows = {r["tender"]["id"]: r for r in page["items"]}
    assert (
        rows[mine["id"]]["revision"]["total"] == "75000.00" and rows[watched["id"]]["bid"] is None
    )
    assert _row(_bids(client, a.who), mine["id"])["following"] is True
    client.delete(f"/api/v1/tenders/{watched['id']}/follow", headers=a.headers)
    assert client.get("/api/v1/followed", headers=a.headers).get_json()["total"] == 1
    # From a list: the form returns to the list it was sent from (a path of this site only).
    login(client, a.who.email)
    registry = client.get("/tenders").get_data(as_text=True)
    assert (
        f'data-tender="{watched["id"]}" data-number="{watched["number"]}" data-following="0"'
        in (registry)
    )
    token = _csrf(registry)
    resp = client.post(
        f"/tenders/{watched['number']}/follow", data={"csrf_token": token, "next": "/tenders?q=x"}
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/tenders?q=x")
    resp = client.post(
        f"/tenders/{watched['number']}/unfollow",
        data={"csrf_token": token, "next": "https://evil.example/"},
    )
    assert resp.headers["Location"].endswith(f"/tenders/{watched['number']}")
    client.get("/cabinet/followed")  # the flashes
    followed_page = client.get("/cabinet/followed").get_data(as_text=True)
    assert f'data-tender="{mine["id"]}"' in followed_page
    assert f'data-tender="{watched["id"]}"' not in followed_page


def _csrf(html: str) -> str:
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_exports_csv_and_xlsx_are_formula_safe(app, client, db):
    a = bidder(app, client)
    t = published(app, criteria=False, title='=HYPERLINK("http://evil")')
    bid(app, a, t["id"], {"1": "50.50"})
    login(client, a.who.email)
    resp = client.get("/cabinet/bids.csv")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    text = resp.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "Number" and rows[1][0] == t["number"]
    assert rows[1][1].startswith("'=")  # neutralized
    assert rows[1][10] == "75750,00"
    book = openpyxl.load_workbook(io.BytesIO(client.get("/cabinet/bids.xlsx").data))
    sheet = book.active
    assert sheet.cell(2, 1).value == t["number"]
    assert sheet.cell(2, 2).data_type == "s" and sheet.cell(2, 2).value.startswith("=")
    assert sheet.cell(2, 11).value == pytest.approx(75750.0)
    assert client.get("/cabinet/followed.csv").status_code == 200


def test_exports_in_chunks_keep_every_row_in_order(app, client, db, monkeypatch):
    from workspaces import service

    a = bidder(app, client)
    tenders = [published(app, criteria=False) for _ in range(3)]
    for t in tenders:
        bid(app, a, t["id"], {"1": "50.50"})
    login(client, a.who.email)
    whole = client.get("/cabinet/bids.csv?sort=number").data
    monkeypatch.setattr(service, "EXPORT_CHUNK", 2)  # chunks of 2, 1
    assert client.get("/cabinet/bids.csv?sort=number").data == whole
    rows = list(csv.reader(io.StringIO(whole.decode("utf-8-sig")), delimiter=";"))
    assert [r[0] for r in rows[1:]] == sorted(t["number"] for t in tenders)


def test_exports_refuse_or_omit_what_the_caller_may_not_see(app, client, db):
    """The exports answer as the pages do: anonymous to the login page, a customer refused,
    another organization without the bid's tender."""
    a, other = bidder(app, client), bidder(app, client)
    t = published(app, criteria=False)
    bid(app, a, t["id"], {"1": "50"})
    for path in ("/cabinet/bids.csv", "/cabinet/bids.xlsx", "/cabinet/followed.csv"):
        assert client.get(path).status_code == 302, path  # to the login page
    login(client, t["customer"].email)
    for path in ("/cabinet/bids.csv", "/cabinet/bids.xlsx"):
        assert client.get(path).status_code == 403, path
    rival = app.test_client()
    login(rival, other.who.email)
    resp = rival.get("/cabinet/bids.csv")
    assert resp.status_code == 200 and t["number"] not in resp.get_data(as_text=True)


def test_russian_workspace_pages_hold_no_untranslated_english(app, client, db, russian):
    from tests.i18n_check import untranslated_english

    a, b = bidder(app, client, name="ООО «Альфа»"), bidder(app, client, name="ООО «Бета»")
    customer = caller(app, name="АО «Заказчик»")
    open_t = published(app, customer, title="Поставка кабеля", deadline=dt.timedelta(hours=3))
    done = published(app, customer, title="Поставка муфт", criteria=False)
    bid(app, a, open_t["id"], {"1": "90.00", "3": "500"}, _criteria(open_t))
    bid(app, b, open_t["id"], {"1": "85.00", "3": "450"}, _criteria(open_t, "36"))
    bid(app, a, done["id"], {"1": "90.00"})
    close_and_publish(app, client, {"tender": done, "customer": customer})
    client.put(f"/api/v1/tenders/{open_t['id']}/follow", headers=a.headers)
    login(client, a.who.email)
    client.get("/cabinet")  # the welcome flash names the user (test data, in English)
    for path in ("/cabinet/bids", "/cabinet/followed", f"/tenders/{open_t['number']}"):
        page = client.get(path)
        assert page.status_code == 200, path
        html = page.get_data(as_text=True)
        assert untranslated_english(html) == [], path
    assert "Мои заявки" in client.get("/cabinet/bids").get_data(as_text=True)
    bad = client.get("/cabinet/bids?deadline_to=2026-01-01&deadline_from=2026-02-01")
    assert bad.status_code == 422
    assert "Конец периода раньше его начала." in bad.get_data(as_text=True)
    clock.reset()


def test_a_specialist_sees_the_bids_it_submitted(app, client, db):
    from accounts.models import Membership, Organization, User
    from core.extensions import db as database
    from core.transaction import commit
    from signatures.service import register_key
    from tests.factories import make_user, signed_submit

    a = bidder(app, client)
    mine, theirs = published(app, criteria=False), published(app, criteria=False)
    bid(app, a, theirs["id"], {"1": "50"})
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    with app.test_request_context():
        org = database.session.get(Organization, a.who.org_id)
        specialist = make_user()
        database.session.add(
            Membership(user_id=specialist.id, organization_id=org.id, roles=["specialist"])
        )
        private = ec.generate_private_key(ec.SECP256R1())
        pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        key = register_key(specialist, pem.decode(), "test")
        commit()
        user = database.session.get(User, specialist.id)
        signed_submit((user, org, key, private), mine["id"], {"1": "60"})
        from accounts.service import create_token

        _, token = create_token(user, org.id, "test")
        commit()
    page = client.get("/api/v1/bids", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [r["tender"]["id"] for r in page["items"]] == [mine["id"]]
    assert _bids(client, a.who)["total"] == 2  # the manager sees both
