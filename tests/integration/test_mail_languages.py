"""Mail goes out in its recipient's language (users.locale; none set: the platform's
default): a Russian and an English-speaking user get the same news each in their own words,
with the formats of their language (docs/i18n.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock, formats
from core.events import record_event
from core.transaction import commit
from notifications import jobs as n_jobs
from notifications import subscriptions
from tenders import service as tenders
from tests.e2e.api_helpers import draft_body
from tests.factories import make_org, make_user


def _reader(locale, **sub):
    user = make_user(make_org(is_customer=False, is_supplier=True), locale=locale)
    if sub:
        subscriptions.create(user, {"by_email": True, "in_cabinet": True, **sub})
    return user


def _publish(**overrides):
    from tenders.schemas import TenderCreate

    org = make_org(is_customer=True, is_supplier=False, name="ООО «Заказчик»")
    user = make_user(org)
    tender = tenders.create_draft(user, org, TenderCreate().load(draft_body(**overrides)))
    tenders.publish(user, org, tender.id)
    return tender


def _text(msg) -> str:
    return msg.get_body(("plain",)).get_content()


def _html(msg) -> str:
    return msg.get_body(("html",)).get_content()


@pytest.fixture()
def readers(app, ctx, db):
    """A Russian, an English-speaking and a user with no setting, all subscribed."""
    return {
        lang: _reader(lang, categories=["27"], frequency="instant") for lang in ("ru", "en", None)
    }


def test_instant_alerts_are_rendered_once_per_language(app, db, mailbox, readers, russian):
    tender = _publish()
    commit()
    ru, en, unset = (mailbox.to(readers[k].email) for k in ("ru", "en", None))
    assert len(ru) == len(en) == len(unset) == 1
    assert ru[0]["Subject"] == f"Новая закупка {tender.number}: {tender.title}"
    assert en[0]["Subject"] == f"New tender {tender.number}: {tender.title}"
    assert unset[0]["Subject"] == ru[0]["Subject"]  # no setting: Russian, the default
    ru_text, en_text = _text(ru[0]), _text(en[0])
    assert f"Здравствуйте, {readers['ru'].name}!" in ru_text
    assert "Регион: Свердловская область" in ru_text and "Регион: 66" not in ru_text
    deadline = formats.moment(tender.bid_deadline, tender.timezone, "ru")
    assert f"Приём заявок до: {deadline}" in ru_text and "МСК" in deadline
    assert "Вы получили это письмо, потому что подписались" in ru_text
    assert f"Hello {readers['en'].name}," in en_text
    assert "Region: Sverdlovsk Oblast" in en_text
    assert formats.moment(tender.bid_deadline, tender.timezone, "en") in en_text
    assert '<html lang="ru">' in _html(ru[0]) and '<html lang="en">' in _html(en[0])
    assert "Подписка" not in _html(en[0]) and "Open the lots" not in _html(ru[0])
    # Each greeting and unsubscribe link is the recipient's own.
    assert readers["en"].name not in ru_text and readers["ru"].name not in en_text
    assert ru[0]["List-Unsubscribe"] != en[0]["List-Unsubscribe"]


def test_an_extension_is_mailed_to_each_in_its_language(app, db, mailbox, readers, russian):
    tender = _publish()
    for user in readers.values():
        subscriptions.follow(user, tender.id)
    commit()
    mailbox.clear()
    record_event("tender.extended", tender.id, {"number": tender.number, "extensions": 1})
    commit()
    ru = mailbox.to(readers["ru"].email)[0]
    en = mailbox.to(readers["en"].email)[0]
    at_ru = formats.moment(tender.bid_deadline, tender.timezone, "ru")
    at_en = formats.moment(tender.bid_deadline, tender.timezone, "en")
    assert ru["Subject"] == f"Закупка {tender.number}: срок подачи заявок продлён до {at_ru}"
    assert en["Subject"] == f"Tender {tender.number}: bidding extended until {at_en}"
    assert f"Срок окончания подачи заявок перенесён на {at_ru} (автопродление № 1)." in _text(ru)
    assert "Вы следите за этой закупкой." in _text(ru)
    assert f"The bid deadline moved to {at_en} (auto-extension 1)." in _text(en)
    assert mailbox.to(readers[None].email)[0]["Subject"] == ru["Subject"]


def test_daily_digests_in_each_readers_language(app, ctx, db, mailbox, russian):
    ru = _reader("ru", categories=["27"], frequency="daily")
    en = _reader("en", categories=["27"], frequency="daily")
    commit()
    for _ in range(2):
        _publish()
    commit()
    clock.freeze(clock.now() + dt.timedelta(days=1, hours=1))
    assert n_jobs.send_digests() >= 2
    [ru_mail], [en_mail] = mailbox.to(ru.email), mailbox.to(en.email)
    assert ru_mail["Subject"] == "2 новые закупки для вас"
    assert en_mail["Subject"] == "2 new tenders for you"
    assert "найдены 2 новые закупки" in _text(ru_mail)
    assert "Свердловская область" in _text(ru_mail) and "Sverdlovsk Oblast" in _text(en_mail)


def test_operator_decisions_reach_each_member_in_its_language(app, ctx, db, mailbox, russian):
    from accounts.service import decide_accreditation

    org = make_org(name="ООО Ромашка", accreditation_status="pending")
    ru, en = make_user(org, locale="ru"), make_user(org, roles=["specialist"], locale="en")
    operator = make_user(is_operator=True)
    commit()
    decide_accreditation(operator, org.id, True)
    commit()
    [ru_mail], [en_mail] = mailbox.to(ru.email), mailbox.to(en.email)
    assert ru_mail["Subject"] == "ООО Ромашка: аккредитация получена"
    assert en_mail["Subject"] == "ООО Ромашка: accredited"
    assert "Вы получили это письмо как сотрудник организации ООО Ромашка." in _html(ru_mail)
    assert "because you are a member of ООО Ромашка" in _html(en_mail)


def test_the_inbox_words_notifications_in_the_readers_language(app, db, mailbox, russian):
    from tests.e2e.helpers import login

    with app.app_context():  # the requests below get app contexts of their own
        ru = _reader("ru", categories=["27"]).email
        en = _reader("en", categories=["27"]).email
        commit()
        number = _publish().number
        commit()
    for email, headline in (
        (ru, "Новая закупка по вашей подписке"),
        (en, "New tender matching your subscription"),
    ):
        with app.test_client() as client:
            login(client, email)
            page = client.get("/cabinet/notifications").get_data(as_text=True)
            assert f"{headline}: {number}" in page, email


def test_a_results_mail_words_and_formats_each_result_in_russian(app, ctx):
    from decimal import Decimal

    from flask import render_template
    from flask_babel import force_locale

    rows = [
        {"position": "1", "lot": None, "name": "Щит", "result": "disqualified", "rank": None,
         "price": Decimal("1234.5"), "winning_price": Decimal("1000"), "reason": "Нет сертификата"},
        {"position": None, "lot": 2, "name": "Кабель", "result": "won", "rank": 1,
         "price": Decimal("90"), "winning_price": Decimal("90"), "reason": None},
    ]  # fmt: skip
    context = {
        "subject": "",
        "user": {"name": "Иван"},
        "tender": {"number": "T-1", "title": "Щиты"},
        "kind": "tender.results_published",
        "payload": {},
        "link": "http://localhost/tenders/T-1#results",
        "reason": "bidder",
        "unsubscribe_url": "http://localhost/unsubscribe/x",
        "results": rows,
    }
    with force_locale("ru"):
        text = render_template("mail/tender_results.txt", **context)
        html = render_template("mail/tender_results.html", **context)
    assert "Итоги закупки T-1 — Щиты опубликованы." in text
    assert (
        "1 Щит: отклонена, ваша цена 1\u00a0234,50, цена победителя 1\u00a0000,00; "
        "основание: Нет сертификата" in text
    )
    assert "лот 2 Кабель: победитель, место 1, ваша цена 90,00\n" in text
    assert "Вы получили это письмо, потому что ваша организация участвовала" in text
    assert '<th align="left">Позиция</th>' in html and "<td>лот 2</td>" in html
    assert "Основание: Нет сертификата" in html and "1\u00a0234,50" in html
