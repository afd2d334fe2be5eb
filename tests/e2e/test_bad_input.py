"""Input nobody should send gets a clear 4xx naming what is wrong, never a 500: control
characters in any text, JSON nested thousands deep, options without labels, ids past the
largest the database holds."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app import IdConverter
from core.input_check import MAX_JSON_DEPTH
from tests.e2e.api_helpers import caller, draft_body
from tests.e2e.helpers import login, post_form
from tests.factories import make_org, make_user

NUL = "a\u0000b"


def _refused(resp, field: str) -> dict:
    assert resp.status_code == 422, resp.get_data(as_text=True)
    error = resp.get_json()["error"]
    assert error["code"] == "invalid" and field in error["fields"], error
    assert "control character" in error["message"] and field in error["message"]
    return error


def test_nul_in_api_bodies_is_refused_naming_the_field(app, client, db):
    who = caller(app)
    _refused(client.post("/api/v1/tokens", json={"name": NUL}, headers=who.headers), "name")
    resp = client.post("/api/v1/tenders", json=draft_body(title=NUL), headers=who.headers)
    _refused(resp, "title")
    body = draft_body()
    body["lots"][0]["title"] = NUL
    resp = client.post("/api/v1/tenders", json=body, headers=who.headers)
    _refused(resp, "lots.0.title")
    resp = client.post(
        "/api/v1/subscriptions", json={"name": NUL, "keywords": ["кабель"]}, headers=who.headers
    )
    _refused(resp, "name")
    resp = client.post(
        "/api/v1/subscriptions", json={"keywords": ["ok", "x\u001by"]}, headers=who.headers
    )
    _refused(resp, "keywords.1")
    names = [t["name"] for t in client.get("/api/v1/tokens", headers=who.headers).get_json()]
    assert names == ["test"]  # nothing stored


@pytest.mark.parametrize("char", ["\u0001", "\u000b", "\u001f", "\u007f", "\ud800"])
def test_every_refused_character_and_lone_surrogates(app, client, db, char):
    who = caller(app)
    body = json.dumps({"name": f"x{char}y"})  # escaped: a lone surrogate is only sent so
    resp = client.post(
        "/api/v1/tokens", data=body, content_type="application/json", headers=who.headers
    )
    error = _refused(resp, "name")
    assert f"U+{ord(char):04X}" in error["message"]


def test_tabs_and_line_breaks_stay_legitimate(app, client, db):
    who = caller(app)
    description = "Поставка:\n\tкабель;\r\n\tмуфты."
    resp = client.post(
        "/api/v1/tenders", json=draft_body(description=description), headers=who.headers
    )
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["description"] == description


def test_nul_in_query_strings_and_paths(client, db):
    _refused(client.get("/api/v1/tenders?q=%00"), "q")
    for url in ("/tenders?q=%00", "/tenders/%00", "/tenders?%00=1"):
        resp = client.get(url)
        assert resp.status_code == 422, url
        page = resp.get_data(as_text=True)
        assert "control character (U+0000)" in page and "Traceback" not in page, url
    assert "The address" in client.get("/tenders/%00").get_data(as_text=True)
    assert "&#39;q&#39;" in client.get("/tenders?q=%00").get_data(as_text=True)
    resp = client.get("/api/v1/tenders?%00=1")
    assert resp.status_code == 422 and "\\u0000" in resp.get_json()["error"]["message"]


def test_nul_in_html_forms_is_refused_naming_the_field(client, db):
    user = make_user(make_org())
    login(client, user.email)
    resp = post_form(client, "/tokens", "/tokens", {"name": NUL})
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "The field &#39;name&#39; contains a control character (U+0000)" in page
    assert "tnd_" not in page and NUL not in client.get("/tokens").get_data(as_text=True)
    anonymous = client.application.test_client()
    resp = post_form(anonymous, "/register", "/register", {"org_name": NUL})
    assert resp.status_code == 422 and "&#39;org_name&#39;" in resp.get_data(as_text=True)


def test_choice_option_without_label_is_a_field_error(app, client, db):
    who = caller(app)
    body = draft_body()
    body["lots"][0]["criteria"][1]["options"] = [{"score": "1"}]
    resp = client.post("/api/v1/tenders", json=body, headers=who.headers)
    assert resp.status_code == 422, resp.get_data(as_text=True)
    assert "lots.0.criteria.1.options.0.label" in resp.get_json()["error"]["fields"]

    tender = client.post("/api/v1/tenders", json=draft_body(), headers=who.headers).get_json()
    tid, lot = tender["id"], tender["lots"][0]["id"]
    criterion = {"name": "Срок", "kind": "choice", "options": [{"score": "1"}]}
    resp = client.post(
        f"/api/v1/tenders/{tid}/lots/{lot}/criteria", json=criterion, headers=who.headers
    )
    assert resp.status_code == 422 and "options.0.label" in resp.get_json()["error"]["fields"]
    lot_body = {"title": "Ещё", "criteria": [criterion]}
    resp = client.post(f"/api/v1/tenders/{tid}/lots", json=lot_body, headers=who.headers)
    assert resp.status_code == 422
    assert "criteria.0.options.0.label" in resp.get_json()["error"]["fields"]


@pytest.mark.parametrize("depth", [5000, MAX_JSON_DEPTH + 1])
def test_deeply_nested_json_is_a_400(app, client, db, depth):
    who = caller(app)
    for body in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        resp = client.post(
            "/api/v1/tokens", data=body, content_type="application/json", headers=who.headers
        )
        assert resp.status_code == 400, resp.get_data(as_text=True)
        assert f"deeper than {MAX_JSON_DEPTH}" in resp.get_json()["error"]["message"]


def test_nesting_within_the_limit_reaches_the_schema(app, client, db):
    who = caller(app)
    nested = {"name": "ok", "extra": [[[[["deep", {"still": ["fine"]}]]]]]}
    resp = client.post("/api/v1/tokens", json=nested, headers=who.headers)
    assert resp.status_code == 201


def test_ids_past_the_largest_are_404_for_every_method(app, client, db):
    who = caller(app)
    assert re.fullmatch(IdConverter.regex, str(2**31 - 1))
    checked = 0
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        for huge in (2**31, 2**63, 10**30):
            path = re.sub(r"<int:\w+>", str(huge), rule.rule)
            path = re.sub(r"<\w+>", "T-1", path)
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                resp = client.open(path, method=method, headers=who.headers, json={})
                assert resp.status_code == 404, (method, path, resp.status_code)
                checked += 1
    assert checked > 300


# -- every string the API accepts, from its own OpenAPI document --------------------------

REFUSED_SAMPLES = ("\u0000", "\u0001", "\u0008", "\u000b", "\u000c", "\u001b", "\u007f")


def _resolve(schema: dict, components: dict) -> tuple[dict, str | None]:
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[1]
        return components[name], name
    return schema, None


def _string_fields(schema: dict, components: dict, path=(), seen=frozenset()):
    """(path, schema) of every string a request body can hold; arrays at index 0."""
    schema, name = _resolve(schema, components)
    if name in seen:
        return
    seen = seen | {name} if name else seen
    kind = schema.get("type")
    if kind == "string" and path:
        yield path
    elif kind == "array":
        yield from _string_fields(schema["items"], components, (*path, 0), seen)
    elif kind == "object" or "properties" in schema:
        for key, sub in schema.get("properties", {}).items():
            yield from _string_fields(sub, components, (*path, key), seen)


def _body_holding(path: tuple, value: str):
    """The smallest JSON document with `value` at `path` (ints are list indexes)."""
    for step in reversed(path):
        value = [value] if isinstance(step, int) else {step: value}
    return value


def _operations(spec: dict):
    for url, ops in spec["paths"].items():
        concrete = re.sub(r"{\w+}", "1", url)
        for method, op in ops.items():
            yield method.upper(), concrete, op


def test_every_json_string_field_of_the_api_refuses_control_characters(app, client, db):
    who = caller(app)
    spec = client.get("/api/v1/openapi.json").get_json()
    components = spec["components"]["schemas"]
    checked = 0
    for method, url, op in _operations(spec):
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if not body:
            continue
        for path in _string_fields(body["schema"], components):
            char = REFUSED_SAMPLES[checked % len(REFUSED_SAMPLES)]
            data = _body_holding(path, f"ok{char}ok")
            resp = client.open(url, method=method, json=data, headers=who.headers)
            field = ".".join(str(p) for p in path)
            assert resp.status_code == 422, (method, url, field, resp.status_code)
            messages = resp.get_json()["error"]["fields"].get(field, [""])
            assert f"control character (U+{ord(char):04X})" in messages[0], (url, field)
            checked += 1
    assert checked > 100, checked  # the walk found the API's strings (tenders hold dozens)


def test_every_query_parameter_of_the_api_refuses_control_characters(app, client, db):
    who = caller(app)
    spec = client.get("/api/v1/openapi.json").get_json()
    checked = 0
    for method, url, op in _operations(spec):
        for param in op.get("parameters", []):
            if param["in"] != "query":
                continue
            char = REFUSED_SAMPLES[checked % len(REFUSED_SAMPLES)]
            query = {param["name"]: f"1{char}"}
            resp = client.open(url, method=method, query_string=query, headers=who.headers)
            assert resp.status_code == 422, (method, url, param["name"], resp.status_code)
            messages = resp.get_json()["error"]["fields"].get(param["name"], [""])
            assert f"control character (U+{ord(char):04X})" in messages[0], (url, param)
            checked += 1
    assert checked > 30


def test_control_characters_in_json_keys_are_refused(app, client, db):
    who = caller(app)
    resp = client.post("/api/v1/tokens", json={"name": "ok", "x\u0000": 1}, headers=who.headers)
    assert resp.status_code == 422
    assert "x\\u0000" in resp.get_json()["error"]["fields"]


def _csv_with_a_late_control(char: str) -> bytes:
    """A UTF-8 CSV (with BOM) over 64 KB whose last row's name holds a control character."""
    rows = [f"{n};Болт М{n} оцинкованный, ГОСТ 7798-70;10;шт;12.50" for n in range(1, 1500)]
    rows.append(f"1500;Гайка{char}М12;10;шт;1")
    text = "position;name;quantity;unit;max unit price\n" + "\n".join(rows) + "\n"
    data = ("\ufeff" + text).encode()
    assert len(data) > 64 * 1024
    return data


@pytest.mark.parametrize("char", ["\u0000", "\u0001", "\u007f"])
def test_control_characters_deep_in_an_uploaded_csv_are_refused(app, client, db, char):
    who = caller(app)
    tender = client.post("/api/v1/tenders", json=draft_body(lots=[]), headers=who.headers)
    tid = tender.get_json()["id"]
    resp = client.post(
        f"/api/v1/tenders/{tid}/positions/import",
        data=_csv_with_a_late_control(char),
        headers={**who.headers, "Content-Type": "text/csv"},
    )
    assert resp.status_code == 422, resp.get_data(as_text=True)[:300]
    message = f"Line 1501 holds a control character (U+{ord(char):04X})"
    assert message in resp.get_json()["error"]["message"]
    page = client.get(f"/api/v1/tenders/{tid}/positions", headers=who.headers).get_json()
    assert page["total"] == 0


# -- settings: a bad value stops the start with a message naming it ------------------------


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("DOCUMENT_MAX_BYTES", "25MB", "DOCUMENT_MAX_BYTES must be an integer, got '25MB'"),
        ("AMENDMENT_MIN_NOTICE_HOURS", "-2", "AMENDMENT_MIN_NOTICE_HOURS must be at least 0"),
        ("PORT", "http", "argument --port: invalid int value: 'http'"),
    ],
)
def test_bad_settings_stop_serve_py_with_a_message(tmp_path, name, raw, message):
    env = {
        **os.environ,
        "APP_ENV": "development",
        "SOCKETIO_ASYNC_MODE": "threading",
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3",
        name: raw,
    }
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(root / "serve.py"), "--host", "127.0.0.1"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert message in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_document_and_amendment_settings_reach_the_app(tmp_path):
    """In a process of its own: a second app in this one would take over the Socket.IO
    extension that the other tests' socket clients use."""
    code = (
        "from app import create_app; "
        "a = create_app({'APP_ENV': 'test', 'SQLALCHEMY_DATABASE_URI': 'sqlite://'}, "
        f"env={{'INSTANCE_PATH': {str(tmp_path)!r}, 'DOCUMENT_MAX_BYTES': '2048', "
        "'AMENDMENT_MIN_NOTICE_HOURS': '48'}); "
        "print(a.config['DOCUMENT_MAX_BYTES'], a.config['AMENDMENT_MIN_NOTICE_HOURS'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2048", "48"]
