"""The registry: quick search in Russian and English, filters, sorting, paging."""

import pytest

from tests.e2e.api_helpers import caller, draft_body, future, published


@pytest.fixture()
def catalogue(app, client, db):
    ural = caller(app, name="AO Uralskiy Zavod", region_code="66")
    moscow = caller(app, name="PAO Moskovskaya Set", region_code="77")
    cable = published(app, ural)
    cement = published(
        app,
        moscow,
        title="Поставка цемента М500",
        region_code="77",
        categories=["23.51"],
        sme_only=True,
        bid_deadline=future(20),
        description="Цемент навалом",
        lots=[
            {
                "title": "Цемент",
                "positions": [
                    {
                        "number": "1",
                        "name": "Цемент портландцемент ЦЕМ I 42,5Н",
                        "quantity": "200",
                        "unit_code": "168",
                        "max_unit_price": "7800",
                    }
                ],
            }
        ],
    )
    repair = published(
        app,
        moscow,
        title="Office repair works",
        region_code="77",
        categories=["43.3"],
        description="Repair of the head office",
        lots=[
            {
                "title": "Works",
                "positions": [
                    {
                        "number": "1",
                        "name": "Painting of walls",
                        "quantity": "1",
                        "unit_code": "876",
                        "max_unit_price": "2500000",
                    }
                ],
            }
        ],
    )
    draft = client.post(
        "/api/v1/tenders", json=draft_body(title="Черновик кабеля"), headers=ural.headers
    ).get_json()
    return {
        "cable": cable,
        "cement": cement,
        "repair": repair,
        "draft": draft,
        "ural": ural,
        "moscow": moscow,
    }


def _numbers(client, query: str) -> set[str]:
    resp = client.get("/api/v1/tenders?" + query)
    assert resp.status_code == 200, resp.get_json()
    return {t["number"] for t in resp.get_json()["items"]}


def test_russian_words_match_other_forms(client, catalogue):
    cable, cement = catalogue["cable"]["number"], catalogue["cement"]["number"]
    assert cable in _numbers(client, "q=кабеля")  # title says "кабельной", positions "Кабель"
    assert cable in _numbers(client, "q=подстанций")
    assert cement in _numbers(client, "q=цементом")
    assert cement not in _numbers(client, "q=кабель")
    assert catalogue["repair"]["number"] in _numbers(client, "q=painting")
    assert catalogue["draft"]["number"] not in _numbers(client, "q=черновик")  # drafts hidden


def test_search_by_number(client, catalogue):
    number = catalogue["cement"]["number"]
    assert _numbers(client, f"q={number}") == {number}
    assert number in _numbers(client, f"q={number[-6:]}")


def test_filters(client, catalogue):
    cable, cement, repair = (catalogue[k]["number"] for k in ("cable", "cement", "repair"))
    assert _numbers(client, "region=77") >= {cement, repair} and cable not in _numbers(
        client, "region=77"
    )
    assert cable in _numbers(client, "region=66,78")
    assert _numbers(client, "category=C") >= {cable, cement} and repair not in _numbers(
        client, "category=C"
    )
    assert cable in _numbers(client, "category=27")  # 27.32 is in class 27
    assert repair in _numbers(client, "category=F")
    assert cement in _numbers(client, "sme_only=true") and cable not in _numbers(
        client, "sme_only=true"
    )
    assert _numbers(client, "customer=Uralskiy") >= {cable}
    assert cement not in _numbers(client, "customer=Uralskiy")
    assert repair in _numbers(client, "price_min=2000000") and cable not in _numbers(
        client, "price_min=2000000"
    )
    assert cable in _numbers(client, "price_max=300000")
    assert cement in _numbers(client, f"deadline_from={future(15)[:10]}")
    assert cable not in _numbers(client, f"deadline_from={future(15)[:10]}")
    assert cable in _numbers(client, "stage=bidding")


def test_sorting_and_paging(client, catalogue):
    resp = client.get("/api/v1/tenders?sort=value_desc&per_page=2&customer=Moskovskaya").get_json()
    assert resp["total"] == 2 and resp["items"][0]["number"] == catalogue["repair"]["number"]
    resp = client.get("/api/v1/tenders?sort=deadline_asc&per_page=1&page=2&customer=Moskovskaya")
    assert resp.get_json()["items"][0]["number"] == catalogue["cement"]["number"]


def test_bad_filters_are_named(client, db):
    resp = client.get(
        "/api/v1/tenders?region=00&sort=random&per_page=1000&price_min=abc"
        "&published_from=yesterday&category=ZZ.9"
    )
    assert resp.status_code == 422
    assert {"region.0", "sort", "per_page", "price_min", "published_from", "category"} <= set(
        resp.get_json()["error"]["fields"]
    )


def test_registry_links_carry_the_filters_only(client, catalogue):
    """A query-string name that is not a filter never reaches the links' url_for (endpoint
    made a 500, _anchor and _external rewrote the pager's and the export's links)."""
    resp = client.get("/tenders?per_page=1&customer=Moskovskaya&endpoint=x&_anchor=y&_external=1")
    assert resp.status_code == 200, resp.status_code
    page = resp.get_data(as_text=True)
    assert "page=2" in page and "customer=Moskovskaya" in page
    assert "endpoint=x" not in page and "#y" not in page and "http://" not in page.split("<main")[1]
