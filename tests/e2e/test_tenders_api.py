"""Customers create, publish, amend, cancel and copy tenders through the API; the denials."""

from tests.e2e.api_helpers import caller, draft_body, future


def _create(client, who, **overrides):
    resp = client.post("/api/v1/tenders", json=draft_body(**overrides), headers=who.headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_create_publish_and_read_a_tender(app, client, db):
    customer = caller(app)
    tender = _create(client, customer)
    assert tender["status"] == "draft" and tender["number"].startswith("T-")
    assert tender["estimated_value"] == "239250.00"  # 1500*95.50 + 800*120
    assert tender["itemized"] is True
    assert {c["code"] for c in tender["categories"]} == {"27.3", "27.32"}
    # A draft is invisible to others.
    assert client.get(f"/api/v1/tenders/{tender['id']}").status_code == 404
    resp = client.post(f"/api/v1/tenders/{tender['id']}/publish", headers=customer.headers)
    assert resp.status_code == 200, resp.get_json()
    public = client.get(f"/api/v1/tenders/{tender['id']}").get_json()
    assert public["status"] == "published" and public["published_at"]
    assert public["extension_policy"] == {
        "window_minutes": 30,
        "extension_minutes": 30,
        "mode": "from_deadline",
        "trigger_rank": None,
        "max_extensions": None,
        "latest_close": None,
        "extensions_count": 0,
    }
    lots = public["lots"]
    assert [lot["positions_count"] for lot in lots] == [2, 1]
    assert lots[0]["criteria"][0]["required"] is True
    page = client.get(f"/api/v1/tenders/{tender['id']}/positions?per_page=2").get_json()
    assert page["total"] == 3 and [p["number"] for p in page["items"]] == ["1", "2"]
    assert page["items"][1]["unit"] == "м" and page["items"][0]["max_unit_price"] == "95.50"


def test_publication_lists_every_problem(app, client, db):
    customer = caller(app)
    body = draft_body(bid_deadline=future(-1), categories=[])
    body["lots"][0]["price_weight"] = "50"
    body["lots"][0]["criteria"][1]["options"] = [{"label": "нет", "score": "0"}]
    body["lots"][1]["positions"] = []
    tender = _create(
        client, customer, **{k: body[k] for k in ("bid_deadline", "categories", "lots")}
    )
    resp = client.post(f"/api/v1/tenders/{tender['id']}/publish", headers=customer.headers)
    assert resp.status_code == 422
    fields = resp.get_json()["error"]["fields"]
    assert "bid_deadline" in fields and "lots.2.positions" in fields
    assert "lots.1.price_weight" in fields and "lots.1.criteria.1.options" in fields
    assert (
        client.get(f"/api/v1/tenders/{tender['id']}", headers=customer.headers).get_json()["status"]
        == "draft"
    )


def test_bad_input_names_the_fields(app, client, db):
    customer = caller(app)
    body = draft_body(region_code="00", bid_deadline="tomorrow")
    body["lots"][0]["positions"][0].update(quantity=1.5, unit_code="parsec")
    body["lots"][0]["positions"][1].update(max_unit_price="12.345")
    resp = client.post("/api/v1/tenders", json=body, headers=customer.headers)
    assert resp.status_code == 422
    fields = resp.get_json()["error"]["fields"]
    for name in (
        "region_code",
        "bid_deadline",
        "lots.0.positions.0.quantity",
        "lots.0.positions.1.max_unit_price",
    ):
        assert name in fields, (name, fields)


def test_supplier_cannot_create_and_strangers_cannot_edit(app, client, db):
    supplier = caller(app, customer=False, supplier=True)
    assert (
        client.post("/api/v1/tenders", json=draft_body(), headers=supplier.headers).status_code
        == 403
    )
    pending = caller(app, accreditation_status="pending")
    assert (
        client.post("/api/v1/tenders", json=draft_body(), headers=pending.headers).status_code
        == 403
    )
    owner, other = caller(app), caller(app)
    tender = _create(client, owner)
    tid = tender["id"]
    assert (
        client.patch(
            f"/api/v1/tenders/{tid}", json={"title": "x"}, headers=other.headers
        ).status_code
        == 404
    )  # a draft does not exist for others
    client.post(f"/api/v1/tenders/{tid}/publish", headers=owner.headers)
    for method, url, body in (
        ("patch", f"/api/v1/tenders/{tid}", {"title": "Hijacked"}),
        ("post", f"/api/v1/tenders/{tid}/cancel", {"reason": "because"}),
        ("post", f"/api/v1/tenders/{tid}/amendments", {"summary": "mine now", "description": "x"}),
    ):
        resp = getattr(client, method)(url, json=body, headers=other.headers)
        assert resp.status_code == 403, (url, resp.get_json())
    assert client.get(f"/api/v1/tenders/{tid}").get_json()["title"] == tender["title"]


def test_published_tender_is_changed_only_by_amendments(app, client, db):
    owner = caller(app)
    tender = _create(client, owner)
    tid = tender["id"]
    client.post(f"/api/v1/tenders/{tid}/publish", headers=owner.headers)
    # No editing of the header, extension policy or positions once published.
    for body in ({"extension_minutes": 5}, {"title": "New"}):
        assert (
            client.patch(f"/api/v1/tenders/{tid}", json=body, headers=owner.headers).status_code
            == 409
        )
    lot_id = client.get(f"/api/v1/tenders/{tid}").get_json()["lots"][0]["id"]
    resp = client.post(
        f"/api/v1/tenders/{tid}/lots/{lot_id}/positions",
        headers=owner.headers,
        json={"positions": [{"number": "9", "name": "x", "quantity": "1", "unit_code": "796"}]},
    )
    assert resp.status_code == 409
    # The deadline only moves later.
    resp = client.post(
        f"/api/v1/tenders/{tid}/amendments",
        headers=owner.headers,
        json={"summary": "Earlier", "bid_deadline": future(9)},
    )
    assert (
        resp.status_code == 422 and "later" in resp.get_json()["error"]["fields"]["bid_deadline"][0]
    )
    resp = client.post(
        f"/api/v1/tenders/{tid}/amendments",
        headers=owner.headers,
        json={
            "summary": "More time and a clearer spec",
            "bid_deadline": future(14),
            "specifications": {"1": "ГОСТ 31996-2012, барабаны по 500 м"},
        },
    )
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["number"] == 1
    assert set(resp.get_json()["changes"]) == {"bid_deadline", "specifications"}
    notice = client.get(f"/api/v1/tenders/{tid}").get_json()
    assert notice["amendment_count"] == 1 and notice["bid_deadline"] > notice["original_deadline"]
    page = client.get(f"/api/v1/tenders/{tid}/positions").get_json()
    assert page["items"][0]["specification"].startswith("ГОСТ")
    amendments = client.get(f"/api/v1/tenders/{tid}/amendments").get_json()
    assert [a["number"] for a in amendments] == [1]


def test_cancel_and_copy(app, client, db):
    owner = caller(app)
    tender = _create(client, owner)
    tid = tender["id"]
    client.post(f"/api/v1/tenders/{tid}/publish", headers=owner.headers)
    assert (
        client.post(
            f"/api/v1/tenders/{tid}/cancel", json={"reason": ""}, headers=owner.headers
        ).status_code
        == 422
    )
    resp = client.post(
        f"/api/v1/tenders/{tid}/cancel", json={"reason": "Budget withdrawn"}, headers=owner.headers
    )
    assert resp.status_code == 200 and resp.get_json()["status"] == "cancelled"
    assert client.post(f"/api/v1/tenders/{tid}/publish", headers=owner.headers).status_code == 409
    copy = client.post(f"/api/v1/tenders/{tid}/copy", headers=owner.headers).get_json()
    assert copy["status"] == "draft" and copy["number"] != tender["number"]
    assert copy["bid_deadline"] is None
    assert [lot["positions_count"] for lot in copy["lots"]] == [2, 1]
    assert copy["lots"][0]["criteria"][1]["options"][1]["label"] == "30 дней"


def test_questions_are_anonymous_and_close_on_time(app, client, db):
    import datetime as dt

    from core import clock

    owner = caller(app)
    supplier = caller(app, customer=False, supplier=True, name="OOO Sekretny Postavshchik")
    tender = _create(client, owner)
    tid = tender["id"]
    client.post(f"/api/v1/tenders/{tid}/publish", headers=owner.headers)
    resp = client.post(
        f"/api/v1/tenders/{tid}/questions",
        headers=supplier.headers,
        json={"text": "Допускается ли поставка кабеля на барабанах по 1000 м?"},
    )
    assert resp.status_code == 201
    qid = resp.get_json()["id"]
    assert (
        client.post(
            f"/api/v1/tenders/{tid}/questions",
            headers=owner.headers,
            json={"text": "Own question?"},
        ).status_code
        == 403
    )
    resp = client.post(
        f"/api/v1/tenders/{tid}/questions/{qid}/answer",
        headers=supplier.headers,
        json={"answer": "I answer myself"},
    )
    assert resp.status_code == 403
    resp = client.post(
        f"/api/v1/tenders/{tid}/questions/{qid}/answer",
        headers=owner.headers,
        json={"answer": "Да, допускается."},
    )
    assert resp.status_code == 200
    for headers in ({}, supplier.headers, owner.headers):
        resp = client.get(f"/api/v1/tenders/{tid}/questions", headers=headers)
        assert "Sekretny" not in resp.get_data(as_text=True)
        [question] = resp.get_json()
        assert set(question) == {"id", "text", "answer", "asked_at", "answered_at"}
        assert question["answer"] == "Да, допускается."
    notice = client.get(f"/api/v1/tenders/{tid}").get_data(as_text=True)
    assert "Sekretny" not in notice
    clock.advance(dt.timedelta(days=8))  # past questions_until (7 days)
    resp = client.post(
        f"/api/v1/tenders/{tid}/questions",
        headers=supplier.headers,
        json={"text": "Ещё один вопрос после срока?"},
    )
    assert resp.status_code == 409 and "closed" in resp.get_json()["error"]["message"]


def test_russian_numbers_and_lot_edits_through_the_api(app, client, db):
    """Issue 19.2/19.3: the API reads "68 500,00" as the forms do, edits a draft's lot in
    place, and numbers the lots 1..n once one is removed."""
    customer = caller(app)
    body = draft_body()
    body["lots"][0]["positions"][0].update(quantity="1 500", max_unit_price="68\u00a0500,00")
    body["lots"][1]["price_weight"] = "100,0"
    tender = _create(client, customer, lots=body["lots"])
    assert tender["estimated_value"] == "102846000.00"  # 1500 * 68500 + 800 * 120
    tid, (first, second) = tender["id"], tender["lots"]
    url = f"/api/v1/tenders/{tid}/lots/{second['id']}"
    resp = client.patch(
        url,
        json={"title": "Муфты и наконечники", "price_weight": "100,00"},
        headers=customer.headers,
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["title"] == "Муфты и наконечники"
    resp = client.patch(url, json={"price_weight": "170"}, headers=customer.headers)
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"] == {"price_weight": ["Must be at most 100."]}
    resp = client.delete(f"/api/v1/tenders/{tid}/lots/{first['id']}", headers=customer.headers)
    assert resp.status_code == 204
    lots = client.get(f"/api/v1/tenders/{tid}", headers=customer.headers).get_json()["lots"]
    assert [(lot["number"], lot["title"]) for lot in lots] == [(1, "Муфты и наконечники")]
    resp = client.post(f"/api/v1/tenders/{tid}/publish", headers=customer.headers)
    assert resp.status_code == 200, resp.get_json()
    resp = client.patch(url, json={"title": "Поздно"}, headers=customer.headers)
    assert resp.status_code == 409
    # The document says what a decimal may look like.
    spec = client.get("/api/v1/openapi.json").get_json()
    weight = spec["components"]["schemas"]["LotUpdate"]["properties"]["price_weight"]
    assert weight["type"] == "string" and "68 500,00" in weight["description"]
