"""What mails say (issue 19.14): subjects that read as English, the disqualification reason
last. What the pages about mail say: tests/e2e/test_mail_pages.py."""

from __future__ import annotations

from decimal import Decimal

from flask import render_template

from core.transaction import commit
from tests.factories import make_org, make_user

ACCOUNT_FOOTER = "because of an action on your account"


def test_accreditation_subjects_read_as_english(app, ctx, db, mailbox):
    from accounts.service import decide_accreditation

    operator = make_user(is_operator=True)
    rejected = make_org(name="ООО Ромашка", accreditation_status="pending")
    accepted = make_org(name="ООО Лютик", accreditation_status="pending")
    no, yes = make_user(rejected), make_user(accepted)
    commit()
    decide_accreditation(operator, rejected.id, False, "Выписка ЕГРЮЛ устарела")
    decide_accreditation(operator, accepted.id, True)
    commit()
    assert mailbox.to(no.email)[-1]["Subject"] == "ООО Ромашка: accreditation rejected"
    [msg] = mailbox.to(yes.email)
    assert msg["Subject"] == "ООО Лютик: accredited"
    html = msg.get_body(("html",)).get_content()
    assert "because you are a member of ООО Лютик" in html and ACCOUNT_FOOTER not in html


def test_results_mail_puts_the_disqualification_reason_last(app, ctx):
    reason = "Не приложены сертификаты (п. 4.2 документации)."
    row = {
        "position": "1",
        "name": "Щит",
        "result": "disqualified",
        "rank": None,
        "price": Decimal("12"),  # numbers: the mail formats them in its language
        "winning_price": Decimal("10"),
        "reason": reason,
    }
    context = {
        "subject": "T-1: Results published",
        "user": {"name": "Иван"},
        "tender": {"number": "T-1", "title": "Щиты"},
        "kind": "tender.results_published",
        "payload": {},
        "link": "http://localhost/tenders/T-1#results",
        "reason": "bidder",
        "unsubscribe_url": "http://localhost/unsubscribe/x",
        "results": [row],
    }
    text = render_template("mail/tender_results.txt", **context)
    line = f"1 Щит: disqualified, your price 12.00, winning price 10.00; reason: {reason}\n"
    assert line in text and ".," not in text
    html = render_template("mail/tender_results.html", **context)
    assert f'disqualified<br><span style="color: #777;">Reason: {reason}</span>' in html
    assert ACCOUNT_FOOTER not in html
