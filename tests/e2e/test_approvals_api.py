"""Approval chains through the API: settings, approval before publication, amendments and
cancellation, approval of a bid payload; every denial answers 4xx and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from accounts.models import User
from accounts.service import create_token
from approvals.models import ApprovalRequest
from core.mail import OutgoingEmail
from core.transaction import commit
from notifications.models import Notification
from tenders.models import Tender
from tests.e2e.api_helpers import draft_body
from tests.e2e.bidding_helpers import offer, sign
from tests.factories import make_org, make_user


@dataclass
class Member:
    user_id: int
    headers: dict


@dataclass
class Org:
    id: int
    people: dict[str, Member]

    def __getitem__(self, who: str) -> Member:
        return self.people[who]


ROLES = {
    "admin": ("administrator",),
    "manager": ("manager",),
    "manager2": ("manager",),
    "specialist": ("specialist",),
    "observer": ("observer",),
}


def organization(app, *, customer=True, supplier=False, keys=False) -> Org:
    """A committed organization with one member per role (each with a token)."""
    from signatures.service import register_key

    people = {}
    with app.test_request_context():
        org = make_org(is_customer=customer, is_supplier=supplier)
        for who, roles in ROLES.items():
            user = make_user(org, roles=roles)
            _, token = create_token(user, org.id, "test")
            people[who] = Member(user.id, {"Authorization": f"Bearer {token}"})
            if keys:
                from cryptography.hazmat.primitives import serialization
                from cryptography.hazmat.primitives.asymmetric import ec

                private = ec.generate_private_key(ec.SECP256R1())
                pem = (
                    private.public_key()
                    .public_bytes(
                        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                    )
                    .decode()
                )
                people[who].key_id = register_key(user, pem, "test").id
                people[who].private = private
        org_id = org.id
        commit()
    return Org(org_id, people)


def _settings(client, org: Org, **body):
    resp = client.put("/api/v1/approval-settings", json=body, headers=org["admin"].headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _draft(client, org: Org, who="specialist") -> int:
    resp = client.post("/api/v1/tenders", json=draft_body(), headers=org[who].headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def _send(client, org: Org, tender_id: int, who="specialist", **body):
    body = {"action": "publish", "comment": "Прошу согласовать", **body}
    return client.post(
        f"/api/v1/tenders/{tender_id}/approvals", json=body, headers=org[who].headers
    )


def _error(resp, status: int, code: str, *words: str) -> dict:
    assert resp.status_code == status, resp.get_json()
    error = resp.get_json()["error"]
    assert error["code"] == code, error
    for word in words:
        assert word in error["message"], error
    return error


def _state(db, request_id: int) -> str:
    db.session.expire_all()
    return db.session.get(ApprovalRequest, request_id).state


# -- settings ----------------------------------------------------------------------------------


def test_only_an_administrator_changes_the_settings(app, client, db):
    org = organization(app)
    shown = client.get("/api/v1/approval-settings", headers=org["specialist"].headers)
    assert shown.status_code == 200
    assert shown.get_json() == {
        "publication": False,
        "approvers": 1,
        "other_approver": True,
        "bids": False,
        "managers": 2,
    }
    for who in ("manager", "specialist", "observer"):
        resp = client.put(
            "/api/v1/approval-settings", json={"publication": True}, headers=org[who].headers
        )
        _error(resp, 403, "forbidden", "administrator")
    assert client.put("/api/v1/approval-settings", json={"publication": True}).status_code == 401
    assert _settings(client, org, publication=True, approvers=2)["approvers"] == 2


def test_the_number_of_approvers_is_checked_against_the_managers(app, client, db):
    org = organization(app)
    resp = client.put(
        "/api/v1/approval-settings",
        json={"publication": True, "approvers": 3},
        headers=org["admin"].headers,
    )
    error = _error(resp, 422, "invalid")
    assert "fewer managers (2)" in error["fields"]["approvers"][0]
    for bad in ({"approvers": 0}, {"approvers": "many"}, {"publication": "maybe"}):
        resp = client.put("/api/v1/approval-settings", json=bad, headers=org["admin"].headers)
        _error(resp, 422, "invalid")
    shown = client.get("/api/v1/approval-settings", headers=org["admin"].headers).get_json()
    assert shown["publication"] is False and shown["approvers"] == 1  # nothing changed


# -- approval before publication -----------------------------------------------------------------


def test_prepare_approve_publish(app, client, db, mailbox):
    org = organization(app)
    _settings(client, org, publication=True, approvers=1)
    tender_id = _draft(client, org)
    # Not approved yet: publication is refused, naming the draft's version.
    resp = client.post(f"/api/v1/tenders/{tender_id}/publish", headers=org["specialist"].headers)
    _error(resp, 409, "approval_required", "not approved")
    db.session.get(User, org["manager2"].user_id).locale = "ru"
    commit()
    sent = _send(client, org, tender_id)
    assert sent.status_code == 201, sent.get_json()
    req = sent.get_json()
    # Each manager's mail is in its own language.
    db.session.expire_all()
    subjects = dict(
        db.session.execute(
            select(OutgoingEmail.user_id, OutgoingEmail.subject).where(
                OutgoingEmail.kind == "approval"
            )
        ).all()
    )
    number = db.session.get(Tender, tender_id).number
    assert subjects == {
        org["manager"].user_id: f"Tender {number}: waiting for your approval",
        org["manager2"].user_id: f"Закупка {number}: ждёт вашего согласования",
    }
    assert req["state"] == "pending" and req["required"] == 1 and len(req["version"]) == 64
    # The managers hear of it (inbox), the requester does not.
    db.session.expire_all()
    inbox = db.session.execute(
        select(Notification.user_id).where(Notification.kind == "approval.requested")
    ).scalars()
    assert set(inbox) == {org["manager"].user_id, org["manager2"].user_id}
    waiting = client.get("/api/v1/approvals", headers=org["manager"].headers).get_json()
    assert [r["id"] for r in waiting] == [req["id"]]
    resp = client.post(
        f"/api/v1/approvals/{req['id']}/approve",
        json={"comment": "Согласовано", "version": req["version"]},
        headers=org["manager"].headers,
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["state"] == "approved"
    resp = client.post(f"/api/v1/tenders/{tender_id}/publish", headers=org["specialist"].headers)
    assert resp.status_code == 200, resp.get_json()
    timeline = client.get(
        f"/api/v1/tenders/{tender_id}/approvals", headers=org["observer"].headers
    ).get_json()
    assert [s["kind"] for s in timeline[0]["steps"]] == ["requested", "approved", "done"]
    assert timeline[0]["steps"][1]["comment"] == "Согласовано"
    assert timeline[0]["state"] == "done"


def test_publication_without_the_setting_is_direct(app, client, db):
    org = organization(app)
    tender_id = _draft(client, org)
    _error(_send(client, org, tender_id), 409, "approval_not_required")
    resp = client.post(f"/api/v1/tenders/{tender_id}/publish", headers=org["specialist"].headers)
    assert resp.status_code == 200, resp.get_json()


def test_a_changed_draft_needs_approval_again(app, client, db):
    org = organization(app)
    _settings(client, org, publication=True)
    tender_id = _draft(client, org)
    req = _send(client, org, tender_id).get_json()
    changed = client.patch(
        f"/api/v1/tenders/{tender_id}",
        json={"title": "Другой кабель"},
        headers=org["specialist"].headers,
    )
    assert changed.status_code == 200
    resp = client.post(
        f"/api/v1/approvals/{req['id']}/approve", json={}, headers=org["manager"].headers
    )
    _error(resp, 409, "approval_stale", req["version"][:12], "changed")
    assert _state(db, req["id"]) == "pending"
    # Sent again: the older request is replaced; approved; then changed again after approval.
    again = _send(client, org, tender_id).get_json()
    assert _state(db, req["id"]) == "superseded"
    resp = client.post(
        f"/api/v1/approvals/{again['id']}/approve", json={}, headers=org["manager"].headers
    )
    assert resp.status_code == 200
    client.patch(
        f"/api/v1/tenders/{tender_id}",
        json={"description": "Изменено"},
        headers=org["specialist"].headers,
    )
    resp = client.post(f"/api/v1/tenders/{tender_id}/publish", headers=org["specialist"].headers)
    _error(resp, 409, "approval_required")
    db.session.expire_all()
    assert db.session.get(Tender, tender_id).status == "draft"


def test_adding_a_position_changes_the_version(app, client, db):
    org = organization(app)
    _settings(client, org, publication=True)
    tender_id = _draft(client, org)
    req = _send(client, org, tender_id).get_json()
    lot_id = client.get(
        f"/api/v1/tenders/{tender_id}", headers=org["specialist"].headers
    ).get_json()["lots"][0]["id"]
    resp = client.post(
        f"/api/v1/tenders/{tender_id}/lots/{lot_id}/positions",
        json={
            "positions": [{"number": "9", "name": "Кабель", "quantity": "5", "unit_code": "006"}]
        },
        headers=org["specialist"].headers,
    )
    assert resp.status_code == 201, resp.get_json()
    resp = client.post(
        f"/api/v1/approvals/{req['id']}/approve", json={}, headers=org["manager"].headers
    )
    _error(resp, 409, "approval_stale")


def test_denials_of_each_role(app, client, db):
    org = organization(app)
    _settings(client, org, publication=True, approvers=2)
    tender_id = _draft(client, org, who="manager")
    # An observer may not send; an administrator without the manager role neither.
    _error(_send(client, org, tender_id, who="observer"), 403, "forbidden")
    _error(_send(client, org, tender_id, who="admin"), 403, "forbidden")
    req = _send(client, org, tender_id, who="manager").get_json()
    url = f"/api/v1/approvals/{req['id']}"
    # The requester may not approve its own request; specialists, observers, admins neither.
    _error(
        client.post(url + "/approve", json={}, headers=org["manager"].headers), 403, "own_request"
    )
    for who in ("specialist", "observer", "admin"):
        _error(client.post(url + "/approve", json={}, headers=org[who].headers), 403, "forbidden")
        resp = client.post(url + "/return", json={"comment": "нет"}, headers=org[who].headers)
        _error(resp, 403, "forbidden")
    # Another organization's manager.
    other = organization(app)
    resp = client.post(url + "/approve", json={}, headers=other["manager"].headers)
    _error(resp, 403, "forbidden", "another organization")
    assert client.get(url, headers=other["manager"].headers).status_code == 403
    resp = client.get(f"/api/v1/tenders/{tender_id}/approvals", headers=other["manager"].headers)
    assert resp.status_code == 404  # another organization's draft does not exist for it
    assert client.post(url + "/approve", json={}).status_code == 401
    # A version that is not the one waiting.
    resp = client.post(
        url + "/approve", json={"version": "0" * 64}, headers=org["manager2"].headers
    )
    _error(resp, 409, "approval_stale", "000000000000")
    assert _state(db, req["id"]) == "pending"
    # One approval of two: still pending; the same manager twice is refused.
    assert (
        client.post(url + "/approve", json={}, headers=org["manager2"].headers).status_code == 200
    )
    assert _state(db, req["id"]) == "pending"
    _error(
        client.post(url + "/approve", json={}, headers=org["manager2"].headers),
        409,
        "approval_closed",
    )
    resp = client.post(f"/api/v1/tenders/{tender_id}/publish", headers=org["manager"].headers)
    _error(resp, 409, "approval_required")


def test_a_returned_draft_goes_back_to_its_author(app, client, db):
    org = organization(app)
    _settings(client, org, publication=True)
    tender_id = _draft(client, org)
    req = _send(client, org, tender_id).get_json()
    url = f"/api/v1/approvals/{req['id']}/return"
    _error(client.post(url, json={"comment": "  "}, headers=org["manager"].headers), 422, "invalid")
    assert _state(db, req["id"]) == "pending"
    resp = client.post(
        url, json={"comment": "Уточните сроки поставки"}, headers=org["manager"].headers
    )
    assert resp.status_code == 200 and resp.get_json()["state"] == "returned"
    db.session.expire_all()
    note = db.session.execute(
        select(Notification).where(Notification.kind == "approval.returned")
    ).scalar_one()
    assert note.user_id == org["specialist"].user_id
    assert note.payload["summary"] == "Уточните сроки поставки"
    # A returned request cannot be approved any more.
    resp = client.post(
        f"/api/v1/approvals/{req['id']}/approve", json={}, headers=org["manager2"].headers
    )
    _error(resp, 409, "approval_closed", "returned")


def test_amendment_and_cancellation_follow_the_setting(app, client, db):
    org = organization(app)
    tender_id = _draft(client, org)
    assert (
        client.post(
            f"/api/v1/tenders/{tender_id}/publish", headers=org["specialist"].headers
        ).status_code
        == 200
    )
    _settings(client, org, publication=True)
    amendment = {"summary": "Уточнено описание", "description": "Новое описание"}
    resp = client.post(
        f"/api/v1/tenders/{tender_id}/amendments", json=amendment, headers=org["specialist"].headers
    )
    _error(resp, 409, "approval_required", "amendment")
    req = _send(client, org, tender_id, action="amend", amendment=amendment).get_json()
    resp = client.post(
        f"/api/v1/approvals/{req['id']}/carry-out", headers=org["specialist"].headers
    )
    _error(resp, 409, "approval_required")
    client.post(f"/api/v1/approvals/{req['id']}/approve", json={}, headers=org["manager"].headers)
    # Another amendment than the approved one is still refused.
    other = {**amendment, "description": "Иное описание"}
    resp = client.post(
        f"/api/v1/tenders/{tender_id}/amendments", json=other, headers=org["specialist"].headers
    )
    _error(resp, 409, "approval_required")
    for who in ("observer", "admin"):
        resp = client.post(f"/api/v1/approvals/{req['id']}/carry-out", headers=org[who].headers)
        _error(resp, 403, "forbidden")
    resp = client.post(
        f"/api/v1/approvals/{req['id']}/carry-out", headers=org["specialist"].headers
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["state"] == "done"
    shown = client.get(f"/api/v1/tenders/{tender_id}").get_json()
    assert shown["description"] == "Новое описание"
    # Cancellation.
    resp = client.post(
        f"/api/v1/tenders/{tender_id}/cancel",
        json={"reason": "Потребность отпала"},
        headers=org["specialist"].headers,
    )
    _error(resp, 409, "approval_required", "cancel")
    req = _send(client, org, tender_id, action="cancel", reason="Потребность отпала").get_json()
    client.post(f"/api/v1/approvals/{req['id']}/approve", json={}, headers=org["manager"].headers)
    resp = client.post(
        f"/api/v1/tenders/{tender_id}/cancel",
        json={"reason": "Потребность отпала"},
        headers=org["specialist"].headers,
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "cancelled"


def test_bad_requests_name_the_field(app, client, db):
    org = organization(app)
    _settings(client, org, publication=True)
    tender_id = _draft(client, org)
    _error(_send(client, org, tender_id, action="sign"), 422, "invalid")
    _error(_send(client, org, tender_id, comment="x" * 3000), 422, "invalid")
    _error(_send(client, org, tender_id, action="amend"), 409, "conflict")  # a draft
    resp = client.post("/api/v1/approvals/999999/approve", json={}, headers=org["manager"].headers)
    _error(resp, 404, "not_found")
    assert db.session.execute(select(ApprovalRequest)).first() is None


# -- approval before a bid is signed -------------------------------------------------------------


def _published(app, client) -> int:
    customer = organization(app)
    tender_id = _draft(client, customer)
    resp = client.post(
        f"/api/v1/tenders/{tender_id}/publish", headers=customer["specialist"].headers
    )
    assert resp.status_code == 200, resp.get_json()
    return tender_id


OFFER = offer(
    {"1": "90.00", "2": "100.00", "3": "500.00"},
    [{"lot": 1, "criterion": None, "value": "24"}],
)


def _offer(client, tender_id, headers, prices=None):
    tender = client.get(f"/api/v1/tenders/{tender_id}").get_json()
    guarantee = tender["lots"][0]["criteria"][0]["id"]
    return offer(
        prices or {"1": "90.00", "2": "100.00", "3": "500.00"},
        [{"lot": 1, "criterion": guarantee, "value": "24"}],
    )


def _sign_and_submit(client, member, tender_id, body):
    prepared = client.post(
        f"/api/v1/tenders/{tender_id}/bid/prepare", json=body, headers=member.headers
    )
    assert prepared.status_code == 200, prepared.get_json()
    signature = sign(member.private, prepared.get_json()["payload"])
    return client.post(
        f"/api/v1/tenders/{tender_id}/bid/revisions",
        json={**body, "key_id": member.key_id, "signature": signature},
        headers=member.headers,
    )


def test_only_an_approved_payload_is_signed(app, client, db):
    tender_id = _published(app, client)
    supplier = organization(app, customer=False, supplier=True, keys=True)
    _settings(client, supplier, bids=True)
    body = _offer(client, tender_id, supplier["specialist"].headers)
    resp = _sign_and_submit(client, supplier["specialist"], tender_id, body)
    _error(resp, 409, "approval_required", "not been approved")
    url = f"/api/v1/tenders/{tender_id}/bid/approvals"
    sent = client.post(
        url,
        json={**body, "comment": "Цены согласованы с ОМТС"},
        headers=supplier["specialist"].headers,
    )
    assert sent.status_code == 201, sent.get_json()
    req = sent.get_json()
    assert req["content"]["payload"]["lines"][0]["unit_price"] == "90.00"
    # The specialist cannot approve; an observer neither.
    for who in ("specialist", "observer"):
        resp = client.post(
            f"/api/v1/approvals/{req['id']}/approve", json={}, headers=supplier[who].headers
        )
        _error(resp, 403, "forbidden")
    resp = client.post(
        f"/api/v1/approvals/{req['id']}/approve",
        json={"version": req["version"]},
        headers=supplier["manager"].headers,
    )
    assert resp.status_code == 200, resp.get_json()
    # Another offer than the approved one is refused; the approved one is accepted.
    changed = _offer(client, tender_id, None, {"1": "89.00", "2": "100.00", "3": "500.00"})
    _error(
        _sign_and_submit(client, supplier["specialist"], tender_id, changed),
        409,
        "approval_required",
    )
    resp = _sign_and_submit(client, supplier["specialist"], tender_id, body)
    assert resp.status_code == 201, resp.get_json()
    # The approved payload was signed once: the next revision needs approval again.
    resp = _sign_and_submit(client, supplier["specialist"], tender_id, body)
    _error(resp, 409, "approval_required")
    # A manager signs directly.
    resp = _sign_and_submit(client, supplier["manager"], tender_id, changed)
    assert resp.status_code == 201, resp.get_json()
    timeline = client.get(url, headers=supplier["specialist"].headers).get_json()
    assert [s["kind"] for s in timeline[0]["steps"]] == ["requested", "approved"]


def test_a_bid_approval_after_a_new_revision_is_stale(app, client, db):
    tender_id = _published(app, client)
    supplier = organization(app, customer=False, supplier=True, keys=True)
    _settings(client, supplier, bids=True)
    body = _offer(client, tender_id, None)
    url = f"/api/v1/tenders/{tender_id}/bid/approvals"
    req = client.post(url, json=body, headers=supplier["specialist"].headers).get_json()
    # Meanwhile a manager submits another offer itself: the payload sent can no longer be signed.
    changed = _offer(client, tender_id, None, {"1": "80.00", "2": "100.00", "3": "500.00"})
    assert _sign_and_submit(client, supplier["manager"], tender_id, changed).status_code == 201
    resp = client.post(
        f"/api/v1/approvals/{req['id']}/approve", json={}, headers=supplier["manager2"].headers
    )
    _error(resp, 409, "approval_stale", "new revision")


def test_bid_approval_without_the_setting_or_by_strangers(app, client, db):
    tender_id = _published(app, client)
    supplier = organization(app, customer=False, supplier=True, keys=True)
    body = _offer(client, tender_id, None)
    url = f"/api/v1/tenders/{tender_id}/bid/approvals"
    _error(
        client.post(url, json=body, headers=supplier["specialist"].headers),
        409,
        "approval_not_required",
    )
    # Without the setting a specialist signs directly.
    assert _sign_and_submit(client, supplier["specialist"], tender_id, body).status_code == 201
    _settings(client, supplier, bids=True)
    bad = {"lines": [{"position": "1", "unit_price": "-5"}]}
    _error(client.post(url, json=bad, headers=supplier["specialist"].headers), 422, "invalid")
    changed = _offer(client, tender_id, None, {"1": "85.00", "2": "100.00", "3": "500.00"})
    req = client.post(url, json=changed, headers=supplier["specialist"].headers).get_json()
    other = organization(app, customer=False, supplier=True)
    resp = client.post(
        f"/api/v1/approvals/{req['id']}/approve", json={}, headers=other["manager"].headers
    )
    _error(resp, 403, "forbidden")
    assert _state(db, req["id"]) == "pending"


def test_round_offers_are_signed_by_a_manager_when_bids_need_approval(app, client, db):
    """The bid setting holds in a re-bidding round: a specialist's improved offer is refused
    (409 approval_required, saying a manager signs it) and a manager's is accepted."""
    import datetime as dt

    from core import clock
    from tenders import jobs

    customer = organization(app)
    tender_id = _draft(client, customer)
    resp = client.post(
        f"/api/v1/tenders/{tender_id}/publish", headers=customer["specialist"].headers
    )
    assert resp.status_code == 200, resp.get_json()
    supplier = organization(app, customer=False, supplier=True, keys=True)
    body = _offer(client, tender_id, None)
    assert _sign_and_submit(client, supplier["manager"], tender_id, body).status_code == 201
    _settings(client, supplier, bids=True)
    resp = client.put(  # the specialist is in charge of the bid: only approval stops it
        f"/api/v1/tenders/{tender_id}/bid/responsible",
        json={"user_id": supplier["specialist"].user_id},
        headers=supplier["manager"].headers,
    )
    assert resp.status_code == 200, resp.get_json()
    deadline = dt.datetime.fromisoformat(
        client.get(f"/api/v1/tenders/{tender_id}").get_json()["bid_deadline"]
    )
    clock.advance(deadline - clock.now() + dt.timedelta(minutes=1))
    with app.app_context():
        assert jobs.close_at_deadline(tender_id) == "closed"
    resp = client.post(
        f"/api/v1/tenders/{tender_id}/rebidding/rounds",
        json={"lots": [1], "deadline": (clock.now() + dt.timedelta(hours=2)).isoformat()},
        headers=customer["specialist"].headers,
    )
    assert resp.status_code == 201, resp.get_json()

    base = f"/api/v1/tenders/{tender_id}/rebidding/offer"
    improved = {"lines": [{"position": "1", "unit_price": "85.00"}]}

    def submit(who):
        prepared = client.post(base + "/prepare", json=improved, headers=supplier[who].headers)
        assert prepared.status_code == 200, prepared.get_json()
        signature = sign(supplier[who].private, prepared.get_json()["payload"])
        return client.post(
            base,
            json={**improved, "key_id": supplier[who].key_id, "signature": signature},
            headers=supplier[who].headers,
        )

    error = _error(
        submit("specialist"), 409, "approval_required", "a manager of the organization signs"
    )
    assert "re-bidding round" in error["message"]
    resp = submit("manager")
    assert resp.status_code == 201, resp.get_json()


def _another_specialist(app, org: Org) -> Member:
    """One more specialist of the organization, in charge of nothing yet."""
    with app.test_request_context():
        from accounts.models import Organization
        from core.extensions import db as sa

        user = make_user(sa.session.get(Organization, org.id), roles=("specialist",))
        _, token = create_token(user, org.id, "test")
        member = Member(user.id, {"Authorization": f"Bearer {token}"})
        commit()
    return member


def test_requests_are_read_only_by_those_who_see_the_tender_or_the_bid(app, client, db):
    """A specialist reads the requests of the tenders and bids it is in charge of, not its
    colleagues' (as it does not see those tenders and bids themselves)."""
    org = organization(app)
    _settings(client, org, publication=True)
    tender_id = _draft(client, org)
    req = _send(client, org, tender_id).get_json()
    stranger = _another_specialist(app, org)
    for url in (f"/api/v1/approvals/{req['id']}", f"/api/v1/tenders/{tender_id}/approvals"):
        _error(client.get(url, headers=stranger.headers), 403, "forbidden")
        for who in ("specialist", "manager", "observer"):
            assert client.get(url, headers=org[who].headers).status_code == 200

    tender_id = _published(app, client)
    supplier = organization(app, customer=False, supplier=True, keys=True)
    _settings(client, supplier, bids=True)
    body = _offer(client, tender_id, None)
    url = f"/api/v1/tenders/{tender_id}/bid/approvals"
    req = client.post(url, json=body, headers=supplier["specialist"].headers).get_json()
    resp = client.post(
        f"/api/v1/approvals/{req['id']}/approve", json={}, headers=supplier["manager"].headers
    )
    assert resp.status_code == 200, resp.get_json()
    assert _sign_and_submit(client, supplier["specialist"], tender_id, body).status_code == 201
    stranger = _another_specialist(app, supplier)
    for read in (url, f"/api/v1/approvals/{req['id']}"):
        _error(client.get(read, headers=stranger.headers), 403, "forbidden")
        for who in ("specialist", "manager", "observer"):
            assert client.get(read, headers=supplier[who].headers).status_code == 200
