"""Customers import positions from CSV as Excel writes it; errors name the line; all or nothing."""

from tests.e2e.api_helpers import caller, draft_body


def _draft(client, who):
    body = draft_body(lots=[])
    return client.post("/api/v1/tenders", json=body, headers=who.headers).get_json()


def _import(client, who, tid, data: bytes, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(
        f"/api/v1/tenders/{tid}/positions/import?{query}",
        data=data,
        headers={**who.headers, "Content-Type": "text/csv"},
    )


def test_windows_1251_file_with_semicolons_and_decimal_commas(app, client, db):
    owner = caller(app)
    tender = _draft(client, owner)
    text = (
        "Лот;№;Наименование;Ед. изм.;Количество;Начальная цена за единицу;Место поставки\r\n"
        "1;1;Кабель ВВГнг 3х2,5;м;1 500;95,50;Екатеринбург\r\n"
        '1;2;"Провод; медный";м;800;120;Екатеринбург\r\n'
        "2;3;Муфта концевая;шт.;40;;\r\n"
        "\r\n"
    )
    resp = _import(client, owner, tender["id"], text.encode("cp1251"))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json() == {"imported": 3}
    notice = client.get(f"/api/v1/tenders/{tender['id']}", headers=owner.headers).get_json()
    assert [lot["positions_count"] for lot in notice["lots"]] == [2, 1]
    assert notice["estimated_value"] == "239250.00"
    page = client.get(f"/api/v1/tenders/{tender['id']}/positions", headers=owner.headers).get_json()
    assert page["items"][1]["name"] == "Провод; медный" and page["items"][2]["unit_code"] == "796"


def test_every_error_with_its_line_and_nothing_stored(app, client, db):
    owner = caller(app)
    tender = _draft(client, owner)
    text = (
        "\ufeffposition;name;quantity;unit;max unit price\n"
        "1;Bolt M12;100;pcs;12.50\n"
        "2;Nut M12;-5;pcs;1\n"
        "1;Washer;10;parsec;abc\n"
        "4;;10;pcs;1.234\n"
    )
    resp = _import(client, owner, tender["id"], text.encode())
    assert resp.status_code == 422
    fields = resp.get_json()["error"]["fields"]
    keys = " ".join(fields)
    assert "row 3" in keys and "row 4" in keys and "row 5" in keys, fields
    messages = " ".join(m for ms in fields.values() for m in ms)
    for fragment in ("greater than zero", "unknown unit", "duplicate position 1", "not a number"):
        assert fragment in messages.lower(), (fragment, messages)
    page = client.get(f"/api/v1/tenders/{tender['id']}/positions", headers=owner.headers).get_json()
    assert page["total"] == 0


def test_too_large_file_is_refused_at_once(app, client, db):
    owner = caller(app)
    tender = _draft(client, owner)
    app.config["CSV_MAX_BYTES"], limit = 1000, app.config["CSV_MAX_BYTES"]
    try:
        resp = _import(client, owner, tender["id"], b"position;name;quantity;unit\n" * 100)
    finally:
        app.config["CSV_MAX_BYTES"] = limit
    assert resp.status_code == 422 and "file" in resp.get_json()["error"]["fields"]


def test_excel_workbook_instead_of_csv(app, client, db):
    owner = caller(app)
    tender = _draft(client, owner)
    resp = _import(client, owner, tender["id"], b"PK\x03\x04" + b"\x00" * 200)
    assert resp.status_code == 422 and "xlsx" in resp.get_json()["error"]["message"]


def test_only_the_customer_imports_into_its_draft(app, client, db):
    owner, other = caller(app), caller(app)
    tender = _draft(client, owner)
    resp = _import(client, other, tender["id"], b"position;name;quantity;unit\n1;x;1;pcs\n")
    assert resp.status_code == 404


def test_xlsx_template_from_the_cabinet_filled_and_imported(app, client, db):
    """Issue 23: the cabinet's .xlsx template, filled by openpyxl, imports through the API;
    a wrong workbook answers with its cells and imports nothing."""
    import io

    import openpyxl

    from tests.e2e.helpers import login

    owner = caller(app)
    tender = _draft(client, owner)
    login(client, owner.email)
    resp = client.get(f"/cabinet/tenders/{tender['id']}/positions-template.xlsx")
    assert resp.status_code == 200
    edit = client.get(f"/cabinet/tenders/{tender['id']}").get_data(as_text=True)
    assert "positions-template.xlsx" in edit
    book = openpyxl.load_workbook(io.BytesIO(resp.get_data()))
    sheet = book["Позиции"]
    sheet.append(["1", "1", "Кабель ВВГнг 3х2,5", "", "", 1500, "м", 95.5, "Екатеринбург", None])
    sheet.append(["", "2", "Муфта", "", "", "abc", "шт", None, "", None])
    out = io.BytesIO()
    book.save(out)
    resp = _import(client, owner, tender["id"], out.getvalue())
    assert resp.status_code == 422
    assert list(resp.get_json()["error"]["fields"]) == ["Позиции!F3, Количество"]
    sheet["F3"] = 40
    out = io.BytesIO()
    book.save(out)
    resp = _import(client, owner, tender["id"], out.getvalue())
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json() == {"imported": 2}
