"""Invitations, password reset, several organizations per user, profile edits (audited)."""

import re

from sqlalchemy import select

from accounts.models import Membership, Organization
from audit.models import AuditEvent
from tests.e2e.helpers import csrf_of, login, post_form
from tests.factories import make_org, make_user


def test_admin_invites_a_new_colleague(app, db, mailbox):
    org = make_org(name="OOO Priglashenie")
    admin = make_user(org)
    admin_client, new_client = app.test_client(), app.test_client()
    login(admin_client, admin.email)
    resp = post_form(
        admin_client,
        "/members",
        "/members/invite",
        {"email": "Colleague@Example.test", "roles": "specialist"},
    )
    assert resp.status_code == 302
    link = mailbox.link("colleague@example.test", "/invite/")
    page = new_client.get(link)
    assert "OOO Priglashenie" in page.get_data(as_text=True)
    resp = post_form(new_client, link, link, {"name": "Kollega", "password": "short"})
    assert resp.status_code == 422 and "at least 10 characters" in resp.get_data(as_text=True)
    resp = post_form(new_client, link, link, {"name": "Kollega", "password": "Long-enough-pass-9"})
    assert resp.status_code == 302
    assert "OOO Priglashenie" in new_client.get("/cabinet").get_data(as_text=True)
    members = admin_client.get("/members").get_data(as_text=True)
    assert "colleague@example.test" in members
    # The link works once.
    assert new_client.get(link).status_code == 422


def test_existing_user_joins_second_organization_and_switches(app, db, mailbox):
    first, second = make_org(name="OOO Pervaya"), make_org(name="AO Vtoraya")
    buyer = make_user(first)
    admin2 = make_user(second)
    admin_client, buyer_client = app.test_client(), app.test_client()
    login(admin_client, admin2.email)
    post_form(
        admin_client, "/members", "/members/invite", {"email": buyer.email, "roles": "specialist"}
    )
    link = mailbox.link(buyer.email, "/invite/")
    login(buyer_client, buyer.email)
    assert post_form(buyer_client, link, link, {}).status_code == 302
    page = buyer_client.get("/cabinet").get_data(as_text=True)
    assert "<h1>AO Vtoraya</h1>" in page  # the joined organization became active
    assert 'name="org_id"' in page  # the switcher appears with two organizations
    resp = post_form(buyer_client, "/cabinet", "/switch-org", {"org_id": first.id})
    assert resp.status_code == 302
    assert "<h1>OOO Pervaya</h1>" in buyer_client.get("/cabinet").get_data(as_text=True)
    me = buyer_client.get("/api/v1/me").get_json()
    assert {m["organization"]["name"] for m in me["memberships"]} == {"OOO Pervaya", "AO Vtoraya"}
    # A new login acts for the organization joined first (the buyer's own), not for the
    # first by name (AO Vtoraya, which invited the buyer as a specialist).
    again = app.test_client()
    login(again, buyer.email)
    assert "<h1>OOO Pervaya</h1>" in again.get("/cabinet").get_data(as_text=True)


def test_invitation_for_someone_else_is_refused(app, db, mailbox):
    org = make_org()
    admin, stranger = make_user(org), make_user()
    admin_client, stranger_client = app.test_client(), app.test_client()
    login(admin_client, admin.email)
    post_form(
        admin_client,
        "/members",
        "/members/invite",
        {"email": "target@example.test", "roles": "specialist"},
    )
    link = mailbox.link("target@example.test", "/invite/")
    login(stranger_client, stranger.email)
    assert post_form(stranger_client, link, link, {}).status_code == 403
    assert (
        db.session.execute(select(Membership).where(Membership.user_id == stranger.id)).first()
        is None
    )


def test_password_reset_works_once_and_ends_other_sessions(app, db, mailbox):
    user = make_user(make_org())
    old_session, reset_client = app.test_client(), app.test_client()
    login(old_session, user.email)
    assert old_session.get("/cabinet").status_code == 200
    post_form(reset_client, "/password/forgot", "/password/forgot", {"email": user.email})
    link = mailbox.link(user.email, "/password/reset/")
    assert post_form(reset_client, link, link, {"password": "Brand-new-pass-5"}).status_code == 302
    assert login(reset_client, user.email, "Brand-new-pass-5").status_code == 302
    assert old_session.get("/cabinet").status_code == 302  # logged out by the change
    resp = post_form(reset_client, link, link, {"password": "Another-new-pass-6"})
    assert resp.status_code == 422 and "already been used" in resp.get_data(as_text=True)


def test_unknown_email_reset_says_nothing_different(client, db, mailbox):
    resp = post_form(
        client, "/password/forgot", "/password/forgot", {"email": "nobody@example.test"}
    )
    assert resp.status_code == 302 and mailbox.to("nobody@example.test") == []


def test_admin_edits_profile_and_it_is_audited(app, client, db):
    # Not accredited yet: everything applies at once (test_organization_changes: afterwards).
    org = make_org(accreditation_status="pending")
    admin = make_user(org)
    login(client, admin.email)
    resp = post_form(
        client,
        "/cabinet",
        "/cabinet",
        {
            "name": "OOO Pereimenovannaya",
            "region_code": "16",
            "kpp": "165501001",
            "roles": ["customer"],
            "ogrn": org.ogrn,
        },
    )
    assert resp.status_code == 302
    db.session.expire_all()
    org = db.session.get(Organization, org.id)
    assert (org.name, org.region_code, org.roles) == ("OOO Pereimenovannaya", "16", ["customer"])
    event = db.session.execute(
        select(AuditEvent).where(
            AuditEvent.action == "organization.updated", AuditEvent.object_id == str(org.id)
        )
    ).scalar_one()
    assert event.actor_user_id == admin.id and event.payload["name"] == "OOO Pereimenovannaya"


def test_last_admin_cannot_be_removed_but_a_member_can(app, client, db):
    org = make_org()
    admin, member = make_user(org), make_user(org, roles=["specialist"])
    second_admin_client = app.test_client()
    login(client, admin.email)
    token = csrf_of(client, "/members")
    resp = client.post(f"/members/{member.id}/remove", data={"csrf_token": token})
    assert resp.status_code == 302
    other_admin = make_user(make_org())
    login(second_admin_client, other_admin.email)
    # An admin of another organization cannot remove this one's admin.
    resp = second_admin_client.post(
        f"/members/{admin.id}/remove", data={"csrf_token": csrf_of(second_admin_client, "/members")}
    )
    assert resp.status_code == 404
    assert re.search(admin.email, client.get("/members").get_data(as_text=True))
    resp = client.post(
        f"/members/{admin.id}/remove", data={"csrf_token": csrf_of(client, "/members")}
    )
    assert resp.status_code == 409 and "last administrator" in resp.get_data(as_text=True)
