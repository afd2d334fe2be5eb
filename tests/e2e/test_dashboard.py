"""The customer dashboard (issue 22): figures from SQL aggregates, the period's validation,
the exports (formula-safe) and every denial (another organization, a supplier, anonymous)."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from core import clock, jobs
from tests.e2e.api_helpers import caller, published
from tests.e2e.bidding_helpers import bid, bidder
from tests.e2e.helpers import login
from tests.e2e.results_helpers import close_and_publish


def _criteria(tender) -> list[dict]:
    ids = {c["name"]: c["id"] for c in tender["lots"][0]["criteria"]}
    return [
        {"lot": 1, "criterion": ids["Гарантия"], "value": "24"},
        {"lot": 1, "criterion": ids["Отсрочка платежа"], "value": "нет"},
    ]


def _dashboard(client, org_id: int, headers: dict, **query):
    return client.get(
        f"/api/v1/organizations/{org_id}/dashboard", query_string=query, headers=headers
    )


@pytest.fixture()
def buyer(app, client, db):
    """A customer with a tender whose results are published (two bidders, one SME, one
    extension), one still open, and one of another customer."""
    customer = caller(app, name='=HYPERLINK("x")')  # a formula in a name: exports defuse it
    tender = published(app, customer, deadline=dt.timedelta(minutes=20))
    a = bidder(app, client, name="ООО Альфа", is_sme=True)
    b = bidder(app, client, name="ООО Бета", is_sme=False)
    bid(app, a, tender["id"], {"1": "90.00", "2": "110", "3": "1000"}, _criteria(tender))
    bid(app, b, tender["id"], {"1": "85.00", "3": "1100"}, _criteria(tender))
    close_and_publish(app, client, {"tender": tender, "customer": customer})
    published(app, customer)  # open: counts by stage only
    other = published(app)  # another customer's
    bid(app, a, other["id"], {"1": "80.00", "3": "900"}, _criteria(other))
    return customer, a, other


def test_figures(app, client, buyer):
    customer, _, _ = buyer
    resp = _dashboard(client, customer.org_id, customer.headers)
    assert resp.status_code == 200, resp.get_json()
    data = resp.get_json()
    today = clock.now().date()
    assert data["to"] == today.isoformat() and data["from"] < data["to"]
    assert data["tenders"] == 2
    stages = {s["status"]: s["tenders"] for s in data["stages"]}
    assert stages["published"] == 1 and stages["results_published"] == 1 and stages["draft"] == 0
    p = data["participation"]
    # Lot 1: both bid; lot 2 (whole): both bid -> 4 offers over 2 lots.
    assert (p["lots"], p["offers"], p["average_per_lot"]) == (2, 4, "2.00")
    assert (p["participations"], p["sme"], p["sme_percent"]) == (2, 1, "50.00")
    s = data["savings"]
    # Awarded: position 1 at 85 (max 95.50 x 1500), position 2 at 110 (max 120 x 800); lot 2
    # has no maximum price.
    assert s["tenders"] == 1
    assert s["reference"] == "239250.00" and s["savings"] == "23750.00" and s["percent"] == "9.93"
    assert len(data["months"]) in (12, 13)
    this_month = data["months"][-1]
    assert this_month["month"] == today.strftime("%Y-%m") and this_month["tenders"] == 2
    assert this_month["savings"] == "23750.00"
    e = data["extensions"]
    assert (e["tenders"], e["extended"], e["total"], e["average"], e["most"]) == (
        1,
        1,
        1,
        "1.00",
        1,
    )
    assert data["categories"][0]["code"] == "27.3" and data["categories"][0]["tenders"] == 2


def test_period_filters_and_bad_periods(app, client, buyer):
    customer, _, _ = buyer
    old = _dashboard(
        client, customer.org_id, customer.headers, **{"from": "2020-01-01", "to": "2020-03-31"}
    ).get_json()
    assert old["tenders"] == 0 and [m["month"] for m in old["months"]] == [
        "2020-01",
        "2020-02",
        "2020-03",
    ]
    assert old["savings"]["percent"] is None and old["participation"]["average_per_lot"] is None
    for query, field in (
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-05-01", "to": "2026-04-01"}, "to"),
        ({"from": "2001-01-01", "to": "2026-01-01"}, "to"),
    ):
        resp = _dashboard(client, customer.org_id, customer.headers, **query)
        assert resp.status_code == 422, query
        assert field in resp.get_json()["error"]["fields"], resp.get_json()


def test_denials(app, client, buyer):
    customer, supplier, _ = buyer
    assert _dashboard(client, customer.org_id, {}).status_code == 401
    other_customer = caller(app)
    assert _dashboard(client, customer.org_id, other_customer.headers).status_code == 403
    assert _dashboard(client, customer.org_id, supplier.headers).status_code == 403
    # A supplier's own organization buys nothing: no dashboard.
    assert _dashboard(client, supplier.who.org_id, supplier.headers).status_code == 403
    # A token reaches its own organization only: another id, existing or not, is refused.
    assert _dashboard(client, 999_999, customer.headers).status_code == 403
    # Inside the organization: those who see all its procedures; a specialist sees its own.
    from tests.e2e.test_roles import member

    specialist = member(app, customer, ["specialist"])
    assert _dashboard(client, customer.org_id, specialist.headers).status_code == 403
    observer = member(app, customer, ["observer"])
    assert _dashboard(client, customer.org_id, observer.headers).status_code == 200
    # Pages: anonymous goes to the login; a supplier is refused.
    assert client.get("/cabinet/dashboard").status_code in (302, 401)
    assert client.get("/cabinet/dashboard.csv").status_code in (302, 401)
    _login(app, client, supplier.who.user_id)
    assert client.get("/cabinet/dashboard").status_code == 403
    assert client.get("/cabinet/dashboard.xlsx").status_code == 403


def _login(app, client, user_id: int) -> None:
    from accounts.models import User
    from core.extensions import db

    with app.app_context():
        email = db.session.get(User, user_id).email
    login(client, email)


def test_page_and_exports(app, client, buyer):
    customer, _, _ = buyer
    _login(app, client, customer.user_id)
    page = client.get("/cabinet/dashboard")
    assert page.status_code == 200
    text = page.get_data(True)
    assert 'id="fig-savings"' in text and "23,750.00" in text and 'class="bar-chart"' in text
    assert client.get("/cabinet/dashboard?from=2026-02-30").status_code == 422
    csv = client.get("/cabinet/dashboard.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    body = csv.get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in body and "\n=HYPERLINK" not in body and ";=HYPERLINK" not in body
    assert "23750,00" in body
    assert client.get("/cabinet/dashboard.csv?to=nope").status_code == 422
    xlsx = client.get("/cabinet/dashboard.xlsx")
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(xlsx.get_data()))
    summary = book.worksheets[0]
    cells = {row[0].value: row[1] for row in summary.iter_rows(min_row=2) if row[0].value}
    assert cells["Organization"].data_type == "s" and cells["Organization"].value.startswith("=")
    assert cells["Savings, RUB"].value == 23750


def test_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    op = spec["paths"]["/api/v1/organizations/{org_id}/dashboard"]["get"]
    assert {"401", "403", "404", "422"} <= set(op["responses"])


def test_closed_tender_counts_participation_before_results(app, client, db):
    customer = caller(app)
    tender = published(app, customer)
    a = bidder(app, client, is_sme=False)
    bid(app, a, tender["id"], {"1": "90.00"}, _criteria(tender))
    data = _dashboard(client, customer.org_id, customer.headers).get_json()
    assert data["participation"]["participations"] == 0  # bidding open: not counted yet
    clock.advance(dt.timedelta(days=11))
    with app.app_context():
        assert jobs.run_job("tenders.jobs.close_overdue") >= 1
    data = _dashboard(client, customer.org_id, customer.headers).get_json()
    p = data["participation"]
    assert (p["lots"], p["offers"], p["participations"], p["sme"]) == (2, 1, 1, 0)
    assert data["savings"]["tenders"] == 0
    # A tender of one lot: each standing bid takes part in it.
    from tests.factories import one_position_lots

    single = published(app, customer, lots=one_position_lots())
    for who in (a, bidder(app, client, is_sme=True)):
        bid(app, who, single["id"], {"1": "50.00"})
    clock.advance(dt.timedelta(days=11))
    with app.app_context():
        assert jobs.run_job("tenders.jobs.close_overdue") >= 1
    p = _dashboard(client, customer.org_id, customer.headers).get_json()["participation"]
    assert (p["lots"], p["offers"], p["participations"], p["sme"]) == (3, 3, 3, 1)
    assert p["average_per_lot"] == "1.00" and p["sme_percent"] == "33.33"


def test_russian_dashboard_and_history_hold_no_untranslated_english(app, client, buyer, russian):
    from tests.i18n_check import untranslated_english

    customer, _, _ = buyer
    _login(app, client, customer.user_id)
    page = client.get("/cabinet/dashboard").get_data(True)
    assert "Сводка заказчика" in page
    assert untranslated_english(page, {"CSV", "Excel", "xlsx", "HYPERLINK", "User"}) == []
    with app.app_context():
        from core.extensions import db
        from tenders.models import Tender

        number = db.session.execute(
            db.select(Tender.number).where(
                Tender.customer_id == customer.org_id, Tender.status == "results_published"
            )
        ).scalar_one()
    page = client.get(f"/tenders/{number}?history_lot=2").get_data(True)
    section = page[page.index('<section id="price-history"') : page.index('<section id="criteria"')]
    assert "История цен" in section
    assert untranslated_english(section) == []
