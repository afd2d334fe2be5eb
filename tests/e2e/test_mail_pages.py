"""Pages about mail (issue 19.14 and the notifications): the alert's unsubscribe link and the
page it opens, the registration checkbox naming the daily digest, the operator's list of mail
that failed. Mails are made in-process; the pages are asked through the test client."""

from __future__ import annotations

import datetime as dt

from flask import render_template

from core import clock
from core.mail import OutgoingEmail
from core.transaction import commit
from notifications import subscriptions
from notifications.models import Subscription
from tests.factories import make_org, make_user, published_tender
from tests.integration.test_mail_wording import ACCOUNT_FOOTER
from tests.integration.test_notifications import _matched, _supplier, customer

__all__ = ["customer"]  # the fixture


def _only_sub(user) -> int:
    [sub] = subscriptions.user_subscriptions(user)
    return sub.id


def test_alert_mail_says_why_and_the_unsubscribe_page_names_the_mail(app, ctx, db, client, mailbox):
    reader = make_user(make_org(is_customer=False, is_supplier=True))
    subscriptions.create(
        reader,
        {"name": "Кабель", "categories": ["27"], "by_email": True, "frequency": "instant"},
    )
    commit()
    published_tender(commit=False)
    commit()
    [msg] = mailbox.to(reader.email)
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert ACCOUNT_FOOTER not in html and ACCOUNT_FOOTER not in text
    assert "because you subscribed to new tenders" in html
    assert "because you subscribed to new tenders" in text

    path = msg["List-Unsubscribe"].strip("<>").removeprefix("http://localhost")
    page = client.get(path).get_data(as_text=True)
    assert "New-tender alerts of your subscription “Кабель” (a mail per new tender)" in page


def test_digest_footer_and_registration_checkbox_name_the_daily_digest(app, ctx, client):
    html = render_template(
        "mail/tender_digest.html",
        subject="2 new tenders for you",
        user={"name": "Иван"},
        tenders=[],
        settings_url="http://localhost/cabinet/subscriptions",
        unsubscribe_url="http://localhost/unsubscribe/x",
    )
    assert "daily digest because you subscribed" in html and ACCOUNT_FOOTER not in html
    page = client.get("/register").get_data(as_text=True)
    assert "as a daily digest" in page


def test_unsubscribe_link_switches_mail_off_and_refuses_tampering(
    app, ctx, db, client, mailbox, customer
):
    reader = _supplier(categories=["27"])
    commit()
    published_tender(customer, commit=False)
    commit()
    [msg] = mailbox.to(reader.email)
    url = msg["List-Unsubscribe"].strip("<>")
    path = url.removeprefix("http://localhost")
    token = path.rsplit("/", 1)[1]

    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    resp = client.post(tampered, data={"List-Unsubscribe": "One-Click"})
    assert resp.status_code == 400
    assert db.session.get(Subscription, _only_sub(reader)).by_email is True

    page = client.get(path)  # GET only asks (link scanners must not unsubscribe)
    assert page.status_code == 200 and b"Unsubscribe" in page.data
    assert db.session.get(Subscription, _only_sub(reader)).by_email is True
    resp = client.post(path, data={"List-Unsubscribe": "One-Click"})  # RFC 8058, no login
    assert resp.status_code == 200
    db.session.expire_all()
    assert db.session.get(Subscription, _only_sub(reader)).by_email is False
    assert token in url

    mailbox.clear()
    published_tender(customer, commit=False, title="Ещё кабель")
    commit()
    assert mailbox.to(reader.email) == []  # still in the cabinet, no more mail


def test_operator_sees_mail_that_failed_every_try(app, ctx, db, client, mailbox, customer):
    from tests.e2e.helpers import login

    reader = _supplier(categories=["27"])
    operator = make_user(is_operator=True)
    commit()
    app.config["MAIL_PORT"], real_port = 1, app.config["MAIL_PORT"]
    try:
        tender = published_tender(customer, commit=False)
        commit()
        for _ in range(app.config["MAIL_MAX_ATTEMPTS"]):
            clock.advance(dt.timedelta(hours=7))
            app.extensions["jobs"].run_due()
    finally:
        app.config["MAIL_PORT"] = real_port
    mail = db.session.get(OutgoingEmail, _matched(tender.id)[reader.id].mail_id)
    db.session.refresh(mail)
    assert mail.status == "failed"
    login(client, operator.email)
    page = client.get("/operator/mail").get_data(as_text=True)
    assert reader.email in page and "failed" in page
