"""Qualified signatures (issue 24) through the API: GOST certificates as keys, a tender that
requires them, the whole bid path with a CAdES file made by `openssl cms -sign` with the GOST
engine, the refusals (4xx naming the reason), the explanation, receipts and the review."""

from __future__ import annotations

import base64

import pytest

from tests.e2e.api_helpers import caller, published
from tests.e2e.bidding_helpers import bidder, offer, sign
from tests.e2e.results_helpers import approve_decision
from tests.gost_helpers import LEGAL, OTHER, certificate_pem, sign_b64


def _supplier(app, identity=LEGAL):
    return caller(app, customer=False, supplier=True, inn=identity["inn"], ogrn=identity["ogrn"])


def _prepare(client, who, tender_id, body):
    resp = client.post(f"/api/v1/tenders/{tender_id}/bid/prepare", json=body, headers=who.headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _submit(client, who, tender_id, body, signature, key_id=None):
    payload = {**body, "signature": signature}
    if key_id is not None:
        payload["key_id"] = key_id
    return client.post(
        f"/api/v1/tenders/{tender_id}/bid/revisions", json=payload, headers=who.headers
    )


def test_register_a_qualified_certificate(app, client, db, gost_trust):
    who = _supplier(app)
    resp = client.post(
        "/api/v1/keys", json={"pem": certificate_pem("le512"), "label": ""}, headers=who.headers
    )
    assert resp.status_code == 201, resp.get_json()
    key = resp.get_json()
    assert key["algorithm"] == "gost2012-512" and key["certificate"] is True
    assert "INN 5012123454" in key["subject"] and "SNILS 11223344595" in key["subject"]
    again = client.post("/api/v1/keys", json={"pem": certificate_pem("le512")}, headers=who.headers)
    assert again.status_code == 409


@pytest.mark.parametrize(
    "name,words",
    [
        ("plain", "not a qualified one"),
        ("expired", "had expired"),
        ("revoked", "revoked"),
        ("untrusted", "not issued by a certification centre the platform trusts"),
    ],
)
def test_certificates_refused_at_registration(app, client, db, gost_trust, name, words):
    who = _supplier(app)
    resp = client.post("/api/v1/keys", json={"pem": certificate_pem(name)}, headers=who.headers)
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert words in error["message"] and "pem" in error["fields"]


@pytest.mark.parametrize("name", ["le256", "le512"])
def test_whole_bid_path_with_a_gost_signature(app, client, db, gost_trust, tmp_path, name):
    tender = published(app, criteria=False, qualified_signature_required=True)
    assert tender["qualified_signature_required"] is True
    who = _supplier(app)
    body = offer({"1": "90.00"})
    prepared = _prepare(client, who, tender["id"], body)
    message = base64.b64decode(prepared["canonical_b64"])
    resp = _submit(client, who, tender["id"], body, sign_b64(name, message, tmp_path))
    assert resp.status_code == 201, resp.get_json()
    accepted = resp.get_json()
    signed_with = accepted["signed_with"]
    assert signed_with["kind"] == "qualified"
    assert signed_with["signer"]["name"] == "Поставкин Сергей Петрович"
    assert signed_with["signer"]["snils"] == LEGAL["snils"]
    assert signed_with["signer"]["inn"] == LEGAL["inn"]
    # The certificate became the user's key; anyone re-verifies the stored signature later.
    keys = client.get("/api/v1/keys", headers=who.headers).get_json()
    assert [k["id"] for k in keys] == [accepted["signing_key_id"]]
    stored = client.post(
        "/api/v1/signatures/verify",
        json={
            "fingerprint": keys[0]["fingerprint"],
            "payload": prepared["payload"],
            "signature": sign_b64(name, message, tmp_path),
        },
    )
    assert stored.status_code == 200 and stored.get_json()["algorithm"].startswith("gost2012")


def test_receipt_pdf_names_the_qualified_signer(app, client, db, gost_trust, tmp_path):
    from reports import receipt
    from reports.service import receipt_data

    tender = published(app, criteria=False, qualified_signature_required=True)
    who = _supplier(app)
    body = offer({"1": "90.00"})
    prepared = _prepare(client, who, tender["id"], body)
    message = base64.b64decode(prepared["canonical_b64"])
    resp = _submit(client, who, tender["id"], body, sign_b64("le256", message, tmp_path))
    assert resp.status_code == 201, resp.get_json()
    with app.test_request_context():
        from accounts.models import Organization
        from bids.models import Bid, BidRevision
        from core.extensions import db as database
        from tenders.models import Tender

        t = database.session.get(Tender, tender["id"])
        org = database.session.get(Organization, who.org_id)
        bid = database.session.execute(
            database.select(Bid).where(Bid.tender_id == t.id)
        ).scalar_one()
        revision = database.session.execute(
            database.select(BidRevision).where(BidRevision.bid_id == bid.id)
        ).scalar_one()
        data = receipt_data(t, org, revision)
        assert "Поставкин Сергей Петрович" in data.signature_kind
        assert "112-233-445 95" in data.signature_kind
        assert data.qualified_signer["ogrn"] == LEGAL["ogrn"]
        rendered = receipt.render(data)
    assert rendered.startswith(b"%PDF")


def test_ecdsa_key_refused_where_qualified_is_required(app, client, db, gost_trust):
    tender = published(app, criteria=False, qualified_signature_required=True)
    b = bidder(app)
    body = offer({"1": "90.00"})
    prepared = _prepare(client, b.who, tender["id"], body)
    resp = _submit(
        client, b.who, tender["id"], body, sign(b.private_key, prepared["payload"]), b.key_id
    )
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert "only bids signed with a qualified electronic signature" in error["message"]
    assert "key_id" in error["fields"]


def test_ecdsa_still_accepted_where_not_required(app, client, db, gost_trust):
    tender = published(app, criteria=False)
    b = bidder(app)
    body = offer({"1": "90.00"})
    prepared = _prepare(client, b.who, tender["id"], body)
    resp = _submit(
        client, b.who, tender["id"], body, sign(b.private_key, prepared["payload"]), b.key_id
    )
    assert resp.status_code == 201 and resp.get_json()["signed_with"]["kind"] == "simple"


def test_certificate_of_another_organization_names_both_inns(app, client, db, gost_trust, tmp_path):
    tender = published(app, criteria=False, qualified_signature_required=True)
    who = _supplier(app)  # the bidder is LEGAL; the certificate is OTHER's
    body = offer({"1": "90.00"})
    prepared = _prepare(client, who, tender["id"], body)
    message = base64.b64decode(prepared["canonical_b64"])
    resp = _submit(client, who, tender["id"], body, sign_b64("other256", message, tmp_path))
    assert resp.status_code == 422
    text = resp.get_json()["error"]["message"]
    assert OTHER["inn"] in text and LEGAL["inn"] in text


@pytest.mark.parametrize(
    "case,words",
    [
        ("other_bytes", "other bytes"),
        ("expired", "had expired"),
        ("revoked", "revoked"),
        ("untrusted", "trusts"),
        ("plain", "not a qualified one"),
        ("garbage", "could not be read"),
        ("not_base64", "could not be read"),
    ],
)
def test_refusals_are_422_with_the_reason(app, client, db, gost_trust, tmp_path, case, words):
    tender = published(app, criteria=False, qualified_signature_required=True)
    who = _supplier(app)
    body = offer({"1": "90.00"})
    prepared = _prepare(client, who, tender["id"], body)
    message = base64.b64decode(prepared["canonical_b64"])
    signature = {
        "other_bytes": lambda: sign_b64("le256", message + b" ", tmp_path),
        "garbage": lambda: base64.b64encode(b"\x30\x82" + b"\xff" * 300).decode(),
        "not_base64": lambda: "MII!!not base64 at all!!",
    }.get(case, lambda: sign_b64(case, message, tmp_path))()
    resp = _submit(client, who, tender["id"], body, signature)
    assert resp.status_code == 422, resp.get_json()
    assert words in resp.get_json()["error"]["message"]
    # Nothing was stored.
    assert client.get(f"/api/v1/tenders/{tender['id']}/bid", headers=who.headers).status_code == 404


def test_raw_signature_without_key_id_is_refused(app, client, db, gost_trust):
    tender = published(app, criteria=False)
    who = _supplier(app)
    body = offer({"1": "90.00"})
    _prepare(client, who, tender["id"], body)
    resp = _submit(client, who, tender["id"], body, base64.b64encode(b"x" * 64).decode())
    assert resp.status_code == 422 and "key_id" in resp.get_json()["error"]["fields"]


def test_explain_a_qualified_signature(app, client, db, gost_trust, tmp_path):
    who = _supplier(app)
    challenge = client.get("/api/v1/signatures/challenge", headers=who.headers).get_json()
    message = base64.b64decode(challenge["canonical_b64"])
    good = {"payload": challenge["payload"], "signature": sign_b64("le256", message, tmp_path)}
    resp = client.post("/api/v1/signatures/qualified/check", json=good, headers=who.headers)
    report = resp.get_json()
    assert resp.status_code == 200 and report["valid"] is True
    assert (
        all(c["passed"] for c in report["checks"]) and report["signer"]["snils"] == LEGAL["snils"]
    )
    revoked = {
        "content_b64": challenge["canonical_b64"],
        "signature": sign_b64("revoked", message, tmp_path),
    }
    report = client.post(
        "/api/v1/signatures/qualified/check", json=revoked, headers=who.headers
    ).get_json()
    assert report["valid"] is False and report["checks"][-1]["name"] == "Not revoked"
    assert "revoked" in report["checks"][-1]["message"]
    both = client.post(
        "/api/v1/signatures/qualified/check",
        json={**good, "content_b64": "AA=="},
        headers=who.headers,
    )
    assert both.status_code == 422
    not_base64 = client.post(
        "/api/v1/signatures/qualified/check",
        json={"content_b64": "not base64!", "signature": good["signature"]},
        headers=who.headers,
    )
    assert not_base64.status_code == 422
    assert "content_b64" in not_base64.get_json()["error"]["fields"]
    anonymous = client.post("/api/v1/signatures/qualified/check", json=good)
    assert anonymous.status_code == 401


def test_no_trusted_centre_configured_is_a_clear_refusal(app, client, db, tmp_path):
    app.config.update(SIGNATURE_TRUSTED_CA_DIR=str(tmp_path / "none"))
    try:
        who = _supplier(app)
        resp = client.post(
            "/api/v1/keys", json={"pem": certificate_pem("le256")}, headers=who.headers
        )
        assert resp.status_code == 422
        assert "no trusted certification centres" in resp.get_json()["error"]["message"]
    finally:
        app.config.update(SIGNATURE_TRUSTED_CA_DIR=None)


def test_review_and_protocol_name_the_qualified_signer(app, client, db, gost_trust, tmp_path):
    import datetime as dt

    from core import clock, jobs
    from reports import protocol
    from reports.service import protocol_data
    from tests.e2e.helpers import login

    customer = caller(app, name="ПАО Заказчик")
    tender = published(app, customer, criteria=False, qualified_signature_required=True)
    who = _supplier(app)
    body = offer({"1": "90.00"})
    prepared = _prepare(client, who, tender["id"], body)
    message = base64.b64decode(prepared["canonical_b64"])
    assert (
        _submit(client, who, tender["id"], body, sign_b64("le512", message, tmp_path)).status_code
        == 201
    )
    clock.advance(dt.timedelta(days=11))
    with app.app_context():
        assert jobs.run_job("tenders.jobs.close_overdue") >= 1
    login(client, customer.email)
    page = client.get(f"/cabinet/tenders/{tender['id']}/review").get_data(as_text=True)
    assert "Поставкин Сергей Петрович" in page and "112-233-445 95" in page
    assert "GOST R 34.10-2012 (512)" in page  # English: the tests read the source texts
    clock.advance(dt.timedelta(hours=1))
    approve_decision(client, tender["id"], customer.headers)
    resp = client.post(f"/api/v1/tenders/{tender['id']}/results/publish", headers=customer.headers)
    assert resp.status_code == 200, resp.get_json()
    with app.test_request_context():
        from core.extensions import db as database
        from reports.results import published_results
        from tenders.models import Tender

        t = database.session.get(Tender, tender["id"])
        data = protocol_data(t, published_results(t), clock.now())
        (participant,) = data.participants
        assert "Поставкин Сергей Петрович" in participant.signed_with
        assert "SNILS 112-233-445 95" in participant.signed_with
        assert protocol.render(data).startswith(b"%PDF")


def test_csv_bid_with_a_qualified_signature(app, client, db, gost_trust, tmp_path):
    tender = published(app, criteria=False, qualified_signature_required=True)
    who = _supplier(app)
    upload = client.post(
        f"/api/v1/tenders/{tender['id']}/bid/csv",
        query_string={"filename": "prices.csv"},
        data="№;Цена\n1;90\n".encode(),
        headers={**who.headers, "Content-Type": "text/csv"},
    )
    assert upload.status_code == 201, upload.get_json()
    base = f"/api/v1/tenders/{tender['id']}/bid/csv/{upload.get_json()['id']}"
    prepared = client.post(f"{base}/prepare", json={}, headers=who.headers)
    assert prepared.status_code == 200, prepared.get_json()
    message = base64.b64decode(prepared.get_json()["canonical_b64"])
    signature = sign_b64("le256", message, tmp_path)
    resp = client.post(f"{base}/submit", json={"signature": signature}, headers=who.headers)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["signed_with"]["signer"]["inn"] == LEGAL["inn"]


def _store_der(name: str) -> str:
    """A certificate as CryptoPro's plug-in exports it (base64 DER, no PEM armour)."""
    return "".join(line for line in certificate_pem(name).splitlines() if "-----" not in line)


def test_the_certificates_in_the_store_that_can_sign_for_the_organization(
    app, client, db, gost_trust
):
    """What the bid page asks for the certificates CryptoPro's plug-in lists: usable ones
    with the signer, the others with the reason a signature with them would be refused."""
    who = _supplier(app)
    names = ["le256", "le512", "other256", "revoked", "plain", "expired", "untrusted", "junk"]
    store = [_store_der(n) for n in names[:-1]] + [base64.b64encode(b"not a certificate").decode()]
    resp = client.post(
        "/api/v1/signatures/qualified/certificates",
        json={"certificates": store},
        headers=who.headers,
    )
    assert resp.status_code == 200, resp.get_json()
    answers = {names[a["index"]]: a for a in resp.get_json()["certificates"]}
    assert [n for n in names if answers[n]["usable"]] == ["le256", "le512"]
    assert answers["le256"]["signer"]["name"] == "Поставкин Сергей Петрович"
    assert answers["le256"]["problem"] is None and len(answers["le256"]["fingerprint"]) == 64
    other = answers["other256"]["problem"]
    assert "another organization" in other and OTHER["inn"] in other and LEGAL["inn"] in other
    for name, words in (
        ("revoked", "revoked"),
        ("plain", "not a qualified one"),
        ("expired", "had expired"),
        ("untrusted", "not issued by a certification centre the platform trusts"),
        ("junk", "could not be read"),
    ):
        assert words in answers[name]["problem"], (name, answers[name]["problem"])
    assert answers["junk"]["signer"] is None and answers["revoked"]["signer"] is not None
    # Another organization's certificate is the usable one for that organization.
    theirs = client.post(
        "/api/v1/signatures/qualified/certificates",
        json={"certificates": [_store_der("le256"), _store_der("other256")]},
        headers=_supplier(app, OTHER).headers,
    ).get_json()["certificates"]
    assert [a["usable"] for a in theirs] == [False, True]


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "certificates"),
        ({"certificates": []}, "certificates"),
        ({"certificates": "MIIB"}, "certificates"),
        ({"certificates": [1]}, "certificates.0"),
        ({"certificates": ["MIIBMIIB", "MIIB" * 7000]}, "certificates.1"),
        ({"certificates": ["MIIBMIIB"] * 101}, "certificates"),
    ],
)
def test_certificate_check_refuses_bad_input(app, client, db, gost_trust, body, field):
    resp = client.post(
        "/api/v1/signatures/qualified/certificates", json=body, headers=_supplier(app).headers
    )
    assert resp.status_code == 422, resp.get_json()
    assert field in resp.get_json()["error"]["fields"]


def test_certificate_check_needs_a_login(client, db):
    resp = client.post(
        "/api/v1/signatures/qualified/certificates", json={"certificates": [_store_der("le256")]}
    )
    assert resp.status_code == 401


def qualified_round(app, client, tmp_path):
    """A closed tender that requires КЭП, bid on by LEGAL (le256) and OTHER (other256), with a
    re-bidding round on lot 1 running for two hours. Returns the tender and LEGAL's bidder
    (which also has an ECDSA key)."""
    import datetime as dt

    from core import clock
    from tenders import jobs

    tender = published(
        app, criteria=False, qualified_signature_required=True, deadline=dt.timedelta(minutes=90)
    )
    tid = tender["id"]
    legal = bidder(app, client, inn=LEGAL["inn"], ogrn=LEGAL["ogrn"])  # an ECDSA key as well
    for who, name, price in (
        (legal.who, "le256", "92.00"),
        (_supplier(app, OTHER), "other256", "91.00"),
    ):
        body = offer({"1": price})
        message = base64.b64decode(_prepare(client, who, tid, body)["canonical_b64"])
        resp = _submit(client, who, tid, body, sign_b64(name, message, tmp_path))
        assert resp.status_code == 201, resp.get_json()
    clock.advance(dt.timedelta(minutes=91))
    with app.app_context():
        assert jobs.close_at_deadline(tid) == "closed"
    deadline = (clock.now() + dt.timedelta(hours=2)).isoformat()
    resp = client.post(
        f"/api/v1/tenders/{tid}/rebidding/rounds",
        json={"lots": [1], "deadline": deadline},
        headers=tender["customer"].headers,
    )
    assert resp.status_code == 201, resp.get_json()
    return tender, legal


def test_a_re_bidding_round_keeps_the_qualified_rule(app, client, db, gost_trust, tmp_path):
    """An improved offer in a re-bidding round on a tender that requires КЭП is signed like a
    bid: a browser key is refused, another organization's certificate is refused naming both
    INNs, the bidder's own GOST certificate is accepted (no key_id needed)."""
    tender, legal = qualified_round(app, client, tmp_path)
    tid = tender["id"]
    base = f"/api/v1/tenders/{tid}/rebidding/offer"
    body = {"lines": [{"position": "1", "unit_price": "89.00"}]}
    prepared = client.post(base + "/prepare", json=body, headers=legal.who.headers).get_json()
    message = base64.b64decode(prepared["canonical_b64"])
    simple = {
        **body,
        "key_id": legal.key_id,
        "signature": sign(legal.private_key, prepared["payload"]),
    }
    resp = client.post(base, json=simple, headers=legal.who.headers)
    assert resp.status_code == 422, resp.get_json()
    assert (
        "only bids signed with a qualified electronic signature"
        in resp.get_json()["error"]["message"]
    )
    theirs = {**body, "signature": sign_b64("other256", message, tmp_path)}
    resp = client.post(base, json=theirs, headers=legal.who.headers)
    assert resp.status_code == 422, resp.get_json()
    refused = resp.get_json()["error"]["message"]
    assert OTHER["inn"] in refused and LEGAL["inn"] in refused
    own = {**body, "signature": sign_b64("le256", message, tmp_path)}
    resp = client.post(base, json=own, headers=legal.who.headers)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["signed_with"]["kind"] == "qualified"
    assert resp.get_json()["signed_with"]["signer"]["inn"] == LEGAL["inn"]
