"""The approval pages: settings, the draft editor's and the bid form's panels, in Russian
without untranslated English; the pages' refusals (a non-administrator, one's own request,
a missing comment) change nothing."""

from __future__ import annotations

import re

from approvals import service as approvals
from approvals.models import ApprovalRequest
from bids.schemas import OfferIn
from core.transaction import commit
from tenders import service as tenders
from tenders.schemas import TenderCreate
from tests.e2e.api_helpers import draft_body
from tests.e2e.helpers import csrf_of, login
from tests.factories import make_org, make_supplier, make_user, published_tender
from tests.i18n_check import untranslated_english


def _customer(db):
    org = make_org(name="ООО «Заказчик»", is_supplier=False)
    admin = make_user(org, roles=("administrator",), name="Анна")
    specialist = make_user(org, roles=("specialist",), name="Борис")
    manager = make_user(org, roles=("manager",), name="Вера")
    approvals.save_settings(admin, org, {"publication": True, "approvers": 1})
    tender = tenders.create_draft(specialist, org, TenderCreate().load(draft_body()))
    req = approvals.send_tender(specialist, org, tender.id, "publish", "Прошу согласовать")
    commit()
    return org, admin, specialist, manager, tender, req


def _russian(page, section: str | None = None) -> str:
    """The page (or its <section id=...>), checked for English outside the catalog."""
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    if section:
        start = text.index(f'<section id="{section}"')
        text = text[start : text.index("</section>", start)]
    text = re.sub(r"[0-9a-f]{12,64}", "", text)  # versions (hashes)
    assert untranslated_english(text) == []
    return text


def test_russian_approval_pages(app, client, db, russian):
    with app.test_request_context():
        org, admin, specialist, manager, tender, req = _customer(db)
        tender_id = tender.id
        emails = (manager.email, specialist.email)
    login(client, emails[0])
    text = _russian(client.get("/cabinet/approvals"))
    assert "Ждут моего решения" in text and "Прошу согласовать" in text
    text = _russian(client.get(f"/cabinet/tenders/{tender_id}"), "approval")
    assert "Согласовать версию" in text and "ждёт согласования" in text.lower()
    page = client.get("/cabinet").get_data(as_text=True)
    assert "1 запрос ждёт вашего решения" in page


def test_russian_bid_approval_panel(app, client, db, russian):
    with app.test_request_context():
        tender = published_tender(criteria=False)
        user, org, _key, _private = make_supplier(name="ООО «Поставщик»")
        user.name = "Анна"
        admin_email = user.email
        specialist = make_user(org, roles=("specialist",), name="Иван")
        approvals.save_settings(user, org, {"bids": True})
        offer = OfferIn().load(
            {
                "lines": [
                    {"position": "1", "unit_price": "90"},
                    {"position": "3", "unit_price": "500"},
                ]
            }
        )
        approvals.send_bid(specialist, org, tender.id, offer, "Прошу согласовать цены")
        number = tender.number
        commit()
    login(client, admin_email)
    text = _russian(client.get(f"/tenders/{number}/bid"), "approval")
    assert "Согласование заявки" in text and "Прошу согласовать цены" in text
    assert "ваша подпись не требует согласования" in text


def test_page_refusals_change_nothing(app, client, db):
    with app.test_request_context():
        org, admin, specialist, manager, tender, req = _customer(db)
        req_id, spec_email, admin_email, org_id = req.id, specialist.email, admin.email, org.id
    login(client, spec_email)
    token = csrf_of(client, "/cabinet/approvals")
    # A specialist may not change the settings (the form is read-only, the POST refused).
    resp = client.post(
        "/cabinet/approvals", data={"csrf_token": token, "approvers": "1", "bids": "on"}
    )
    assert resp.status_code == 403
    assert "Only an administrator" in resp.get_data(as_text=True)
    # Nor approve (no manager role), even its own request.
    resp = client.post(
        f"/cabinet/approvals/{req_id}/approve", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Only a manager of the organization" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ApprovalRequest, req_id).state == "pending"
    assert approvals.settings_of(org_id).bids is False
    client.post("/logout", data={"csrf_token": token})
    # The administrator saves the settings through the form; too many approvers refused.
    login(client, admin_email)
    token = csrf_of(client, "/cabinet/approvals")
    resp = client.post(
        "/cabinet/approvals", data={"csrf_token": token, "publication": "on", "approvers": "5"}
    )
    assert resp.status_code == 422
    assert "fewer managers (1)" in resp.get_data(as_text=True)
    resp = client.post(
        "/cabinet/approvals",
        data={"csrf_token": token, "publication": "on", "approvers": "1", "bids": "on"},
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert approvals.settings_of(org_id).bids is True


def test_returning_from_the_page_needs_a_comment(app, client, db):
    with app.test_request_context():
        org, admin, specialist, manager, tender, req = _customer(db)
        req_id, manager_email, tender_id = req.id, manager.email, tender.id
    login(client, manager_email)
    token = csrf_of(client, f"/cabinet/tenders/{tender_id}")
    resp = client.post(
        f"/cabinet/approvals/{req_id}/return",
        data={"csrf_token": token, "comment": ""},
        follow_redirects=True,
    )
    assert "the comment is mandatory" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ApprovalRequest, req_id).state == "pending"
    resp = client.post(
        f"/cabinet/approvals/{req_id}/return",
        data={"csrf_token": token, "comment": "Уточните сроки"},
        follow_redirects=True,
    )
    assert "Returned to the author" in resp.get_data(as_text=True)
    assert "Уточните сроки" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ApprovalRequest, req_id).state == "returned"


def test_amendment_sent_from_the_page_is_carried_out_as_approved(app, client, db):
    from sqlalchemy import select

    from audit.models import AuditEvent
    from core.chains import tender_chain

    with app.test_request_context():
        org = make_org(is_supplier=False)
        admin = make_user(org, roles=("administrator",))
        specialist = make_user(org, roles=("specialist",))
        manager = make_user(org, roles=("manager",))
        tender = published_tender((specialist, org))
        approvals.save_settings(admin, org, {"publication": True})
        commit()
        tender_id, emails = tender.id, (specialist.email, manager.email)
    login(client, emails[0])
    page = f"/cabinet/tenders/{tender_id}"
    token = csrf_of(client, page)
    assert "Send for approval" in client.get(page).get_data(as_text=True)
    resp = client.post(
        f"/cabinet/approvals/tenders/{tender_id}/send",
        data={
            "csrf_token": token,
            "action": "amend",
            "summary": "Уточнена спецификация",
            "specifications_text": "1: Кабель ВВГнг-LS 3x2.5, ГОСТ 31996-2012",
            "timezone": "Europe/Moscow",
        },
        follow_redirects=True,
    )
    assert "Sent for approval" in resp.get_data(as_text=True)
    req = db.session.execute(select(ApprovalRequest)).scalar_one()
    assert req.content["specifications"] == {"1": "Кабель ВВГнг-LS 3x2.5, ГОСТ 31996-2012"}
    client.post("/logout", data={"csrf_token": token})
    login(client, emails[1])
    resp = client.post(
        f"/cabinet/approvals/{req.id}/approve",
        data={"csrf_token": csrf_of(client, page), "version": req.version, "comment": "Да"},
        follow_redirects=True,
    )
    assert "Approved." in resp.get_data(as_text=True)
    resp = client.post(
        f"/cabinet/approvals/{req.id}/carry-out",
        data={"csrf_token": csrf_of(client, page)},
        follow_redirects=True,
    )
    assert "Done." in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ApprovalRequest, req.id).state == "done"
    actions = db.session.execute(
        select(AuditEvent.action, AuditEvent.payload)
        .where(AuditEvent.chain == tender_chain(tender_id), AuditEvent.object_type == "approval")
        .order_by(AuditEvent.seq)
    ).all()
    assert [a for a, _ in actions] == [
        "approval.requested",
        "approval.approved",
        "approval.carried_out",
    ]
    assert actions[1][1]["comment"] == "Да" and actions[1][1]["version"] == req.version
