"""What production runs, end to end over HTTP: serve.py with eventlet (psycopg2 made green) on
the run's database, PostgreSQL in the PostgreSQL run. Every write that stores thousands of rows
at once (COPY on PostgreSQL) goes through it: bids of 1,500 lines by JSON and by CSV, the close
and evaluation by the in-process jobs, a disqualification, publication and a correction; in
the PostgreSQL run also a 50,000-line bid from the .xlsx template, and the news of a tender
mailed by a real RQ worker in each subscriber's language."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess
import sys
import time
import zipfile
from decimal import Decimal

import pytest
import requests

from core import clock
from core.transaction import commit
from positions.xlsx_rules import CONTENT_TYPE
from tests.e2e.api_helpers import caller, draft_body
from tests.e2e.bidding_helpers import Bidder, bidder, offer, sign
from tests.e2e.conftest import ROOT
from tests.gost_helpers import CA_DIR as GOST_CA_DIR
from tests.gost_helpers import CRL_DIR as GOST_CRL_DIR

pytestmark = pytest.mark.live

LINES = 1500  # past core.bulk.COPY_FROM: the COPY path
LOT_MAX = 10_000  # positions of a lot (tenders.schemas)
EVENTLET = {"mode": "eventlet"}
EVENTLET_INPROCESS_JOBS = {"mode": "eventlet", "JOBS_MODE": "inprocess"}


def _api(base: str, headers: dict) -> requests.Session:
    session = requests.Session()
    session.headers.update(headers)
    session.base = base  # type: ignore[attr-defined]
    return session


def _call(api: requests.Session, method: str, path: str, expect: int, **kwargs) -> dict:
    resp = api.request(method, api.base + path, timeout=120, **kwargs)  # type: ignore[attr-defined]
    assert resp.status_code == expect, f"{method} {path}: {resp.status_code} {resp.text[:800]}"
    return resp.json() if resp.content else {}


def _publish(api: requests.Session, deadline: dt.datetime, lines: int = LINES, **policy) -> dict:
    """A published tender of `lines` positions in per-position lots of at most LOT_MAX (one
    lot of LINES by default), made through the server."""
    body = draft_body(bid_deadline=deadline.isoformat(), questions_until=None, **policy)
    body["lots"] = [
        {
            "title": f"Подшипники, часть {first // LOT_MAX + 1}",
            "award_mode": "per_position",
            "positions": [
                {"number": str(n), "name": f"Подшипник {n}", "quantity": "4", "unit_code": "796"}
                for n in range(first + 1, min(first + LOT_MAX, lines) + 1)
            ],
        }
        for first in range(0, lines, LOT_MAX)
    ]
    tender = _call(api, "POST", "/api/v1/tenders", 201, json=body)
    return _call(api, "POST", f"/api/v1/tenders/{tender['id']}/publish", 200)


def _bid_by_json(base: str, b: Bidder, tid: int, prices: dict[str, str]) -> dict:
    api = _api(base, b.headers)
    body = offer(prices)
    prepared = _call(api, "POST", f"/api/v1/tenders/{tid}/bid/prepare", 200, json=body)
    signed = {**body, "key_id": b.key_id, "signature": sign(b.private_key, prepared["payload"])}
    return _call(api, "POST", f"/api/v1/tenders/{tid}/bid/revisions", 201, json=signed)


def _bid_by_csv(base: str, b: Bidder, tid: int, price) -> dict:
    """What a supplier does: download the template, fill every price, upload, preview, sign."""
    api = _api(base, b.headers)
    resp = api.get(f"{base}/api/v1/tenders/{tid}/bid/csv/template", timeout=60)
    assert resp.status_code == 200, resp.text[:500]
    rows = list(
        csv.reader(io.StringIO(resp.content.decode("utf-8-sig"), newline=""), delimiter=";")
    )
    for row in rows[1:]:
        row[-2] = price(int(row[2]))
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    upload = _call(
        api,
        "POST",
        f"/api/v1/tenders/{tid}/bid/csv",
        201,
        params={"filename": "prices.csv"},
        data=out.getvalue().encode("utf-8-sig"),
        headers={"Content-Type": "text/csv"},
    )
    assert upload["positions"] == LINES
    preview = _call(api, "GET", f"/api/v1/tenders/{tid}/bid/csv/{upload['id']}", 200)
    assert preview["counts"]["new"] + preview["counts"].get("changed", 0) >= 1
    path = f"/api/v1/tenders/{tid}/bid/csv/{upload['id']}"
    prepared = _call(api, "POST", path + "/prepare", 200, json={})
    signature = sign(b.private_key, prepared["payload"])
    return _call(
        api, "POST", path + "/submit", 201, json={"key_id": b.key_id, "signature": signature}
    )


@pytest.mark.parametrize("server", [EVENTLET], indirect=True)
def test_bids_of_thousands_of_lines_through_a_green_web_process(app, server):
    base, _ = server
    client = app.test_client()
    customer = _api(base, caller(app).headers)
    tender = _publish(customer, clock.now() + dt.timedelta(days=10))
    tid = tender["id"]
    a, b = bidder(app, client), bidder(app, client)

    first = _bid_by_json(base, a, tid, {str(n): f"{100 + n}.00" for n in range(1, LINES + 1)})
    assert first["number"] == 1
    revised = _bid_by_json(base, a, tid, {str(n): f"{99 + n}.50" for n in range(1, LINES + 1)})
    assert revised["number"] == 2
    by_csv = _bid_by_csv(base, b, tid, lambda n: f"{90 + n},25")
    assert by_csv["number"] == 1
    assert by_csv["total"] == f"{sum(4 * (90 + n) + 1 for n in range(1, LINES + 1))}.00"

    mine = _call(_api(base, b.headers), "GET", f"/api/v1/tenders/{tid}/bid", 200)
    assert len(mine["revisions"]) == 1
    assert _stored_lines(app, tid) == {1: LINES, 2: LINES}  # per revision number: all lines


def _stored_lines(app, tid: int) -> dict[int, int]:
    from sqlalchemy import func, select

    from bids.models import Bid, BidLine, BidRevision
    from core.extensions import db

    with app.app_context():
        rows = db.session.execute(
            select(BidRevision.number, func.count(BidLine.id))
            .join(Bid, Bid.id == BidRevision.bid_id)
            .join(BidLine, BidLine.revision_id == BidRevision.id)
            .where(Bid.tender_id == tid)
            .group_by(BidRevision.id, BidRevision.number)
        ).all()
        db.session.remove()
    counts: dict[int, int] = {}
    for number, count in rows:
        assert counts.get(number, count) == count
        counts[number] = count
    return counts


def _wait_for(what: str, check, timeout: float = 60):
    """Poll until check() gives a true value (the server's jobs run on their own time)."""
    give_up = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < give_up, f"timed out waiting for {what}"
        time.sleep(0.3)


@pytest.mark.parametrize("server", [EVENTLET_INPROCESS_JOBS], indirect=True)
def test_close_evaluation_disqualification_and_correction_in_a_green_web_process(app, server):
    """The embedded layout (jobs in the web process) closes and evaluates at the deadline;
    the customer disqualifies, publishes and corrects the results, each through the server."""
    base, _ = server
    client = app.test_client()
    customer = _api(base, caller(app).headers)
    a, b = bidder(app, client), bidder(app, client)
    # long enough to publish and bid on a loaded machine; no extension, so it closes then
    deadline = clock.now() + dt.timedelta(seconds=15)
    tid = _publish(customer, deadline, max_extensions=0)["id"]
    _bid_by_json(base, a, tid, {str(n): f"{100 + n}.00" for n in range(1, LINES + 1)})
    _bid_by_csv(base, b, tid, lambda n: f"{100 + n - (n % 2)},00")  # cheaper on odd positions

    def evaluated():
        resp = customer.get(f"{base}/api/v1/tenders/{tid}/evaluation", timeout=60)
        return resp.json() if resp.status_code == 200 else None

    def closed():
        return _call(customer, "GET", f"/api/v1/tenders/{tid}", 200)["status"] == "closed"

    _wait_for("the close", closed, timeout=90)
    evaluation = _wait_for("the evaluation", evaluated)
    assert evaluation["total"] == LINES and evaluation["awarded"] == LINES
    odd = next(r for r in evaluation["rows"] if r["position"] == "1")
    ranked = sorted((o["rank"], o["unit_price"]) for o in odd["offers"])
    assert ranked == [(1, "100.00"), (2, "101.00")]

    numbers = {
        who.key_id: _call(_api(base, who.headers), "GET", f"/api/v1/tenders/{tid}/bid", 200)[
            "participant_number"
        ]
        for who in (a, b)
    }
    dq = {"participant": numbers[b.key_id], "lot": 1, "reason": "Сертификат соответствия отозван"}
    _call(customer, "POST", f"/api/v1/tenders/{tid}/disqualifications", 201, json=dq)
    _call(customer, "POST", f"/api/v1/tenders/{tid}/decision", 200, json={"items": []})
    _call(customer, "POST", f"/api/v1/tenders/{tid}/decision/votes", 200, json={"vote": "for"})
    _call(customer, "POST", f"/api/v1/tenders/{tid}/decision/close", 200)
    published = _call(customer, "POST", f"/api/v1/tenders/{tid}/results/publish", 200)
    assert published["status"] == "results_published"
    results = _call(customer, "GET", f"/api/v1/tenders/{tid}/results", 200)
    assert _winner(results, "1") == numbers[a.key_id]  # b's cheaper offer is out

    correction = {
        "reason": "Жалоба участника: участник 1 представил недостоверные сведения",
        "changes": [
            {
                "action": "disqualify",
                "participant": numbers[a.key_id],
                "lot": 1,
                "reason": "Сведения",
            }
        ],
    }
    path = f"/api/v1/tenders/{tid}/results/corrections"
    corrected = _call(customer, "POST", path, 201, json=correction)
    assert corrected["version"]["number"] == 2
    results = _call(customer, "GET", f"/api/v1/tenders/{tid}/results", 200)
    assert results["version"] == 2 and _winner(results, "1") is None  # nobody admissible left


def _winner(detail: dict, position: str):
    award = next(a for a in detail["awards"] if a["position"] == position)
    winner = next((o for o in award["offers"] if o["rank"] == 1), None)
    return winner["participant"] if winner else None


@pytest.mark.parametrize("server", [EVENTLET_INPROCESS_JOBS], indirect=True)
def test_mail_links_point_where_the_process_serves(app, server, smtp_server):
    """Without BASE_URL (make run PORT=5401), links follow the address serve.py listens on;
    a forged Host header changes nothing (a reset link must never go to another host)."""
    base, env = server
    assert "BASE_URL" not in env
    smtp_server.clear()
    body = {
        "org_name": "ООО Ромашка",
        "inn": "5012123454",
        "kpp": "501201001",
        "ogrn": "1025000123422",
        "region_code": "50",
        "roles": ["supplier"],
        "name": "Роман",
        "email": "roman@romashka.example",
        "password": "Correct-horse-42-staple",
    }
    resp = requests.post(
        f"{base}/api/v1/registrations", json=body, headers={"Host": "evil.example"}, timeout=30
    )
    assert resp.status_code == 202, resp.text
    with smtp_server.cond:
        assert smtp_server.cond.wait_for(lambda: smtp_server.to(body["email"]), timeout=30)
    link = smtp_server.link(body["email"], "/confirm/")
    assert link.startswith(base + "/confirm/"), link
    assert requests.get(link, timeout=30, allow_redirects=False).status_code == 302


def _subscriber(app, locale: str) -> tuple[str, str]:
    """A supplier of this language subscribed to instant mail of category 27 (draft_body's)."""
    from notifications import subscriptions
    from tests.factories import make_org, make_user

    with app.test_request_context():
        user = make_user(make_org(is_customer=False, is_supplier=True), locale=locale)
        data = {"categories": ["27"], "by_email": True, "in_cabinet": True}
        subscriptions.create(user, {**data, "frequency": "instant"})
        email, name = user.email, user.name
        commit()
    return email, name


def _rq_worker(env: dict) -> None:
    """A real RQ worker process (`flask jobs worker --burst`): it runs what is queued, then
    what those jobs queue, and stops when the queue is empty."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "jobs", "worker", "--burst"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-4000:]


@pytest.mark.production_layout  # once, in the PostgreSQL run
@pytest.mark.parametrize("server", [EVENTLET], indirect=True)
def test_a_real_worker_mails_each_subscriber_in_their_language(app, server, smtp_server):
    """A tender published through the green web process; its news is rendered and mailed by
    a real RQ worker process, in Russian to the Russian supplier and in English to the other
    (users.locale), with each one's greeting."""
    base, env = server
    (ru, ru_name), (en, en_name) = _subscriber(app, "ru"), _subscriber(app, "en")
    smtp_server.clear()
    customer = _api(base, caller(app).headers)
    draft = _call(customer, "POST", "/api/v1/tenders", 201, json=draft_body())
    tender = _call(customer, "POST", f"/api/v1/tenders/{draft['id']}/publish", 200)
    assert not smtp_server.to(ru) and not smtp_server.to(en)  # the web process mails nothing
    _rq_worker(env)
    with smtp_server.cond:
        assert smtp_server.cond.wait_for(lambda: smtp_server.to(ru) and smtp_server.to(en), 30)
    ru_mail, en_mail = smtp_server.to(ru)[-1], smtp_server.to(en)[-1]
    assert ru_mail["Subject"] == f"Новая закупка {tender['number']}: {tender['title']}"
    assert en_mail["Subject"] == f"New tender {tender['number']}: {tender['title']}"
    ru_text = ru_mail.get_body(("plain",)).get_content()
    en_text = en_mail.get_body(("plain",)).get_content()
    assert f"Здравствуйте, {ru_name}!" in ru_text and "Регион: Свердловская область" in ru_text
    assert f"Hello {en_name}," in en_text and "Region: Sverdlovsk Oblast" in en_text
    assert en_name not in ru_text and ru_name not in en_text


XLSX_LINES = 50_000  # the row limit of a bid file (CSV_MAX_ROWS)
_ROW = re.compile(r'<row r="(\d+)"[^>]*>')


def _filled(workbook: bytes, price) -> bytes:
    """The template with every price cell (the one before the note, the last column) given
    a number, as a spreadsheet saves a typed number; the rest of the file as it came."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                rows = data.decode().split("</row>")
                filled = 0
                for i, chunk in enumerate(rows):
                    found = _ROW.search(chunk)
                    if found is None or found[1] == "1":  # after the last row; the header
                        continue
                    note = chunk.rfind("<c ")
                    cell = chunk.rfind("<c ", 0, note)
                    empty = chunk[cell:note]
                    assert empty.endswith("/>"), empty  # a new bid's template: no prices
                    number = int(found[1]) - 1  # positions 1, 2, ... from row 2
                    value = f"{empty[:-2]}><v>{price(number)}</v></c>"
                    rows[i] = chunk[:cell] + value + chunk[note:]
                    filled += 1
                assert filled == XLSX_LINES, filled
                data = "</row>".join(rows).encode()
            target.writestr(info, data)
    return out.getvalue()


@pytest.mark.production_layout  # once, in the PostgreSQL run
@pytest.mark.parametrize("server", [EVENTLET], indirect=True)
def test_a_bid_of_fifty_thousand_lines_from_excel_through_a_green_web_process(app, server):
    """The largest bid file there is, as a workbook: the .xlsx template of a 50,000-position
    tender downloaded, every price filled, uploaded, previewed, signed and stored through
    serve.py with eventlet (COPY on PostgreSQL)."""
    base, _ = server
    customer = _api(base, caller(app).headers)
    tid = _publish(customer, clock.now() + dt.timedelta(days=10), lines=XLSX_LINES)["id"]
    b = bidder(app, app.test_client())
    api = _api(base, b.headers)
    resp = api.get(
        f"{base}/api/v1/tenders/{tid}/bid/csv/template", params={"format": "xlsx"}, timeout=120
    )
    assert resp.status_code == 200, resp.text[:500]
    assert resp.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    data = _filled(resp.content, lambda n: f"{100 + n % 900}.{n % 100:02d}")
    upload = _call(
        api,
        "POST",
        f"/api/v1/tenders/{tid}/bid/csv",
        201,
        params={"filename": "prices.xlsx"},
        data=data,
        headers={"Content-Type": CONTENT_TYPE},
    )
    assert upload["encoding"] == "xlsx" and upload["positions"] == XLSX_LINES
    path = f"/api/v1/tenders/{tid}/bid/csv/{upload['id']}"
    preview = _call(api, "GET", path, 200)
    assert preview["counts"]["new"] == XLSX_LINES
    prepared = _call(api, "POST", path + "/prepare", 200, json={})
    signature = sign(b.private_key, prepared["payload"])
    stored = _call(
        api, "POST", path + "/submit", 201, json={"key_id": b.key_id, "signature": signature}
    )
    total = sum(4 * Decimal(f"{100 + n % 900}.{n % 100:02d}") for n in range(1, XLSX_LINES + 1))
    assert stored["number"] == 1 and stored["total"] == f"{total:.2f}"
    assert _stored_lines(app, tid) == {1: XLSX_LINES}


# The test certification centre and its CRLs, as an operator configures a web process.
QUALIFIED = {
    "mode": "eventlet",
    "SIGNATURE_TRUSTED_CA_DIR": str(GOST_CA_DIR),
    "SIGNATURE_CRL_DIR": str(GOST_CRL_DIR),
}


@pytest.mark.production_layout  # once, in the PostgreSQL run
@pytest.mark.parametrize("server", [QUALIFIED], indirect=True)
def test_an_approved_offer_signed_with_a_gost_certificate_through_a_green_web_process(
    app, server, tmp_path
):
    """Roles, a bid approval chain and a qualified signature as production runs them: the
    supplier requires a manager's approval; its specialist prepares and sends the offer, the
    manager approves that exact payload, and the specialist signs it with its GOST
    certificate (OpenSSL's GOST engine inside the eventlet process); a specialist's
    signature before the approval, or an ECDSA one on this tender, is refused."""
    import base64

    from tests.e2e.api_helpers import published
    from tests.e2e.test_roles import member
    from tests.gost_helpers import LEGAL, sign_b64

    base, _ = server
    client = app.test_client()
    tender = published(app, criteria=False, qualified_signature_required=True)
    tid = tender["id"]
    manager = caller(app, customer=False, supplier=True, inn=LEGAL["inn"], ogrn=LEGAL["ogrn"])
    specialist = member(app, manager, ["specialist"])
    boss, api = _api(base, manager.headers), _api(base, specialist.headers)
    _call(boss, "PUT", "/api/v1/approval-settings", 200, json={"bids": True})

    body = offer({"1": "90.00"})
    prepared = _call(api, "POST", f"/api/v1/tenders/{tid}/bid/prepare", 200, json=body)
    message = base64.b64decode(prepared["canonical_b64"])
    signed = {**body, "signature": sign_b64("le256", message, tmp_path)}
    early = _call(api, "POST", f"/api/v1/tenders/{tid}/bid/revisions", 409, json=signed)
    assert early["error"]["code"] == "approval_required"

    sent = {**body, "comment": "Цена согласована с коммерческим отделом"}
    req = _call(api, "POST", f"/api/v1/tenders/{tid}/bid/approvals", 201, json=sent)
    _call(boss, "POST", f"/api/v1/approvals/{req['id']}/approve", 200, json={})
    accepted = _call(api, "POST", f"/api/v1/tenders/{tid}/bid/revisions", 201, json=signed)
    assert accepted["number"] == 1
    signer = accepted["signed_with"]["signer"]
    assert (signer["inn"], signer["snils"]) == (LEGAL["inn"], LEGAL["snils"])

    ecdsa = bidder(app, client)  # another supplier with a plain key: refused on this tender
    plain = offer({"1": "85.00"})
    other = _api(base, ecdsa.headers)
    ready = _call(other, "POST", f"/api/v1/tenders/{tid}/bid/prepare", 200, json=plain)
    refused = {
        **plain,
        "key_id": ecdsa.key_id,
        "signature": sign(ecdsa.private_key, ready["payload"]),
    }
    resp = other.post(base + f"/api/v1/tenders/{tid}/bid/revisions", json=refused, timeout=60)
    assert resp.status_code == 422 and "qualified" in resp.text


@pytest.mark.production_layout  # once, in the PostgreSQL run
@pytest.mark.parametrize("server", [QUALIFIED], indirect=True)
def test_a_round_on_a_qualified_tender_and_the_commission_mail_through_a_green_web_process(
    app, server, smtp_server, gost_trust, tmp_path
):
    """This session's rules as production runs them: in a re-bidding round on a tender that
    requires КЭП, the eventlet process refuses a browser key and accepts the bidder's GOST
    certificate; a specialist of an organization that requires bid approval is refused (a
    manager signs round offers); the commission's request to vote is mailed by a real RQ
    worker to the other manager."""
    import base64

    from tests.e2e.test_qualified_signatures_api import qualified_round
    from tests.e2e.test_roles import member
    from tests.gost_helpers import LEGAL, sign_b64

    base, env = server
    tender, legal = qualified_round(app, app.test_client(), tmp_path)
    tid = tender["id"]
    supplier = _api(base, legal.who.headers)
    url = f"/api/v1/tenders/{tid}/rebidding/offer"
    body = {"lines": [{"position": "1", "unit_price": "89.00"}]}
    prepared = _call(supplier, "POST", url + "/prepare", 200, json=body)
    message = base64.b64decode(prepared["canonical_b64"])

    simple = {
        **body,
        "key_id": legal.key_id,
        "signature": sign(legal.private_key, prepared["payload"]),
    }
    refused = _call(supplier, "POST", url, 422, json=simple)
    assert "only bids signed with a qualified electronic signature" in refused["error"]["message"]
    specialist = member(app, legal.who, ["specialist"])
    _call(supplier, "PUT", "/api/v1/approval-settings", 200, json={"bids": True})
    in_charge = {"user_id": specialist.user_id}  # only the approval setting stops it then
    _call(supplier, "PUT", f"/api/v1/tenders/{tid}/bid/responsible", 200, json=in_charge)
    theirs = _api(base, specialist.headers)
    ready = _call(theirs, "POST", url + "/prepare", 200, json=body)
    own = {
        **body,
        "signature": sign_b64("le256", base64.b64decode(ready["canonical_b64"]), tmp_path),
    }
    early = _call(theirs, "POST", url, 409, json=own)
    assert early["error"]["code"] == "approval_required"
    signed = {**body, "signature": sign_b64("le256", message, tmp_path)}
    accepted = _call(supplier, "POST", url, 201, json=signed)  # an administrator and manager
    assert accepted["signed_with"]["signer"]["inn"] == LEGAL["inn"]

    other_manager = member(app, tender["customer"], ["manager"])
    smtp_server.clear()
    customer = _api(base, tender["customer"].headers)
    _call(customer, "POST", f"/api/v1/tenders/{tid}/decision", 200, json={"items": []})
    assert not smtp_server.to(other_manager.email)  # the web process mails nothing itself
    _rq_worker(env)
    with smtp_server.cond:
        assert smtp_server.cond.wait_for(lambda: smtp_server.to(other_manager.email), 30)
    mail = smtp_server.to(other_manager.email)[-1]
    assert mail["Subject"] == f"Tender {tender['number']}: please vote on the decision"
    assert f"/cabinet/tenders/{tid}/review#commission" in mail.get_body(("plain",)).get_content()
