"""Subscriptions, matching, event delivery, digests, reminders, unsubscribe, outages."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock, jobs
from core.events import DomainEvent
from core.mail import OutgoingEmail
from core.transaction import commit
from notifications import delivery, inbox, matching, subscriptions
from notifications import jobs as n_jobs
from notifications.models import Notification
from tenders import service as tenders
from tests.factories import make_org, make_user, published_tender


def _supplier(**sub):
    org = make_org(is_customer=False, is_supplier=True)
    user = make_user(org)
    if sub:
        subscriptions.create(user, {"by_email": True, "in_cabinet": True, **sub})
    return user


@pytest.fixture()
def customer(ctx):
    org = make_org(is_customer=True, is_supplier=False)
    return make_user(org), org


def _matched(tender_id: int) -> dict[int, Notification]:
    from sqlalchemy import select

    from core.extensions import db

    rows = db.session.execute(
        select(Notification).where(
            Notification.tender_id == tender_id, Notification.kind == "tender.matched"
        )
    ).scalars()
    return {n.user_id: n for n in rows}


def test_published_tender_reaches_exactly_the_matching_subscribers_once(
    app, ctx, db, mailbox, customer
):
    cat = _supplier(categories=["C"])  # a section: the tender's 27.3 is in its subtree
    region = _supplier(regions=["66"])
    word = _supplier(keywords=["кабель силовой"])  # both words, any form
    both = _supplier(categories=["27"], regions=["66"], frequency="instant")
    cheap = _supplier(categories=["27"], price_max="1000")  # the tender is worth more
    other_region = _supplier(categories=["27"], regions=["77"])
    other_cat = _supplier(categories=["F"])
    other_word = _supplier(keywords=["бетон"])
    twice = _supplier(categories=["27.3"])
    subscriptions.create(twice, {"keywords": ["кабеля"], "by_email": True})
    digest = _supplier(categories=["27"], frequency="daily")
    cabinet_only = _supplier(categories=["27"], by_email=False)
    paused = _supplier(categories=["27"], active=False)
    commit()
    tender = published_tender(customer, commit=False)
    commit()  # the event is delivered by its job after the commit

    got = _matched(tender.id)
    expected = {cat, region, word, both, twice, digest, cabinet_only}
    assert set(got) == {u.id for u in expected}
    for u in (cheap, other_region, other_cat, other_word, paused):
        assert u.id not in got
    assert got[digest.id].email_mode == "digest" and got[digest.id].mail_id is None
    assert got[cabinet_only.id].email_mode == "none"
    mailed = {u.email for u in expected - {digest, cabinet_only}}
    everyone = {u.email for u in expected | {cheap, other_region, other_cat, other_word, paused}}
    assert {m["To"] for m in mailbox.among(everyone)} == mailed
    # "twice" matched two subscriptions: one mail
    assert len(mailbox.among(everyone)) == len(mailed)
    msg = mailbox.to(both.email)[0]
    assert tender.number in msg["Subject"]
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["List-Unsubscribe"].startswith("<http://localhost/unsubscribe/")
    text = msg.get_body(("plain",)).get_content()
    assert f"http://localhost/tenders/{tender.number}#lots" in text
    assert msg.get_body(("html",)) is not None

    # Processing the event again (a relay after a crash) adds nothing.
    event = db.session.execute(
        db.select(DomainEvent).where(
            DomainEvent.tender_id == tender.id, DomainEvent.kind == "tender.published"
        )
    ).scalar_one()
    assert event.processed_at is not None
    event.processed_at = None
    commit()
    assert n_jobs.process_event(event.id) is True
    assert len(_matched(tender.id)) == len(expected)
    assert len(mailbox.among(everyone)) == len(mailed)


def test_customer_staff_get_no_alert_of_their_own_tender(app, ctx, db, mailbox, customer):
    user, org = customer
    org.is_supplier = True
    subscriptions.create(user, {"categories": ["27"]})
    commit()
    tender = published_tender((user, org), commit=False)
    commit()
    assert user.id not in _matched(tender.id)


def test_matching_runs_in_sql_and_counts(app, ctx, db, customer):
    for _ in range(3):
        _supplier(categories=["27.3"])
    _supplier(categories=["01"])
    commit()
    user, org = customer
    tender = published_tender((user, org), commit=False)
    db.session.flush()
    assert matching.count_matches(tender) >= 3


def test_daily_digest_groups_tenders_in_one_mail(app, ctx, db, mailbox, customer):
    reader = _supplier(categories=["27"], frequency="daily")
    commit()
    first = published_tender(customer, commit=False)
    second = published_tender(customer, commit=False, title="Кабель контрольный, вторая поставка")
    commit()
    assert mailbox.to(reader.email) == []  # digest subscribers wait for the daily mail
    clock.freeze(clock.now() + dt.timedelta(days=1, hours=1))
    assert n_jobs.send_digests() >= 1
    [msg] = mailbox.to(reader.email)
    text = msg.get_body(("plain",)).get_content()
    assert first.number in text and second.number in text
    assert msg["Subject"] == "2 new tenders for you"
    assert msg["List-Unsubscribe"]
    assert n_jobs.send_digests() == 0  # nothing twice
    assert len(mailbox.to(reader.email)) == 1


def test_smtp_down_during_publication_mail_arrives_after(app, ctx, db, mailbox, customer):
    reader = _supplier(categories=["27"])
    commit()
    app.config["MAIL_PORT"], real_port = 1, app.config["MAIL_PORT"]
    try:
        tender = published_tender(customer, commit=False)
        commit()
    finally:
        app.config["MAIL_PORT"] = real_port
    n = _matched(tender.id)[reader.id]
    mail = db.session.get(OutgoingEmail, n.mail_id)
    assert mail.status == "pending" and mail.attempts == 1
    assert mailbox.to(reader.email) == []
    clock.advance(dt.timedelta(minutes=5))
    app.extensions["jobs"].run_due()
    db.session.refresh(mail)
    assert mail.status == "sent"
    assert len(mailbox.to(reader.email)) == 1


def test_redis_down_loses_nothing(app, ctx, db, mailbox, customer):
    """The event job cannot be enqueued: the event row waits; the relay delivers it later."""
    reader = _supplier(categories=["27"])
    commit()
    eager = app.extensions["jobs"]
    app.extensions["jobs"] = jobs.RQBackend("redis://127.0.0.1:1/0")  # Redis down
    try:
        tender = published_tender(customer, commit=False)
        commit()  # the publication is stored; enqueueing the event job fails after commit
    finally:
        app.extensions["jobs"] = eager
    assert _matched(tender.id) == {}
    assert mailbox.to(reader.email) == []
    clock.advance(dt.timedelta(minutes=2))
    assert n_jobs.relay_events() >= 1
    assert reader.id in _matched(tender.id)
    assert len(mailbox.to(reader.email)) == 1


def test_followers_and_bidders_hear_of_changes_and_reminders(app, ctx, db, mailbox, customer):
    user, org = customer
    follower = _supplier()
    bystander = _supplier()
    commit()
    tender = published_tender((user, org), commit=False)
    commit()
    subscriptions.follow(follower, tender.id)
    commit()
    tenders.cancel(user, org, tender.id, "Потребность отпала")
    commit()
    [msg] = mailbox.to(follower.email)
    assert "cancelled" in msg["Subject"].lower()
    assert "Потребность отпала" in msg.get_body(("plain",)).get_content()
    assert mailbox.to(bystander.email) == []
    assert inbox.unread_count(follower.id) == 1


def test_deadline_reminders_once_each(app, ctx, db, mailbox, customer):
    follower = _supplier()
    commit()
    deadline = (clock.now() + dt.timedelta(hours=30)).isoformat()
    tender = published_tender(customer, commit=False, bid_deadline=deadline, questions_until=None)
    commit()
    subscriptions.follow(follower, tender.id)
    commit()
    assert n_jobs.send_reminders() == 0
    clock.advance(dt.timedelta(hours=7))  # 23 h left
    assert n_jobs.send_reminders() == 1
    assert n_jobs.send_reminders() == 0  # idempotent
    clock.advance(dt.timedelta(hours=22, minutes=30))  # 30 min left
    assert n_jobs.send_reminders() == 1
    assert n_jobs.send_reminders() == 0
    subjects = [m["Subject"] for m in mailbox.to(follower.email)]
    assert len(subjects) == 2 and "24 hours" in subjects[0] and "1 hour" in subjects[1]
    # Another tender's reminders are its own (dedupe is per tender and user).
    deadline = (clock.now() + dt.timedelta(hours=5)).isoformat()
    other = published_tender(customer, commit=False, bid_deadline=deadline, questions_until=None)
    subscriptions.follow(follower, other.id)
    commit()
    assert n_jobs.send_reminders() == 1
    assert other.number in mailbox.to(follower.email)[-1]["Subject"]


def test_question_answer_reaches_asker_and_followers(app, ctx, db, mailbox, customer):
    user, org = customer
    asker_org = make_org(is_customer=False, is_supplier=True)
    asker = make_user(asker_org)
    follower = _supplier()
    commit()
    tender = published_tender((user, org), commit=False)
    commit()
    subscriptions.follow(follower, tender.id)
    question = tenders.ask(asker, asker_org, tender.id, "Допускается ли аналог?")
    commit()
    # The customer hears of the question at once (issue 19.9): inbox and mail, with the
    # question and a link to the page where it answers; the asker is not named.
    to_customer = mailbox.to(user.email)
    assert len(to_customer) == 1 and "asked a question" in to_customer[0]["Subject"]
    body = to_customer[0].get_body(("plain",)).get_content()
    assert "Допускается ли аналог?" in body and f"/cabinet/tenders/{tender.id}#questions" in body
    assert asker_org.name not in body and asker.email not in body
    assert [n.kind for n, _ in inbox.page(user.id)[0]] == ["question.asked"]
    assert mailbox.to(asker.email) == [] and mailbox.to(follower.email) == []
    tenders.answer(user, org, tender.id, question.id, "Да, допускается.")
    commit()
    assert mailbox.to(asker.email)[0]["Subject"].endswith(": your question was answered")
    assert "clarification" in mailbox.to(follower.email)[0]["Subject"]
    assert "#clarifications" in mailbox.to(asker.email)[0].get_body(("plain",)).get_content()


def test_mark_read_is_per_user(app, ctx, db, customer):
    from core.errors import NotFound

    reader = _supplier(categories=["27"], by_email=False)
    intruder = _supplier()
    commit()
    tender = published_tender(customer, commit=False)
    commit()
    n = _matched(tender.id)[reader.id]
    with pytest.raises(NotFound):
        inbox.mark_read(intruder.id, n.id)
    assert inbox.unread_count(reader.id) == 1
    inbox.mark_read(reader.id, n.id)
    assert inbox.unread_count(reader.id) == 0


def test_default_subscription_follows_declared_categories(app, ctx, db, customer):
    org = make_org(is_customer=False, is_supplier=True)
    admin = make_user(org)
    member = make_user(org, roles=["specialist"], marketing_consent_at=clock.now())
    subscriptions.declare_categories(admin, org.id, ["27.3", "F"])
    subs = {s.user_id: s for u in (admin, member) for s in subscriptions.user_subscriptions(u)}
    assert sorted(c.code for c in subs[admin.id].categories) == ["27.3", "F"]
    assert subs[admin.id].by_email is False  # no consent: cabinet only
    assert subs[member.id].by_email is True
    subscriptions.declare_categories(admin, org.id, ["25"])
    db.session.refresh(subs[admin.id])
    assert [c.code for c in subs[admin.id].categories] == ["25"]


def test_digest_cutoff_uses_digest_hour(app, ctx):
    now = dt.datetime(2026, 5, 5, 3, 0, tzinfo=dt.UTC)  # 06:00 in Moscow
    cutoff = delivery.digest_due_before(now)
    assert cutoff == dt.datetime(2026, 5, 4, 5, 0, tzinfo=dt.UTC)  # yesterday 08:00 Moscow


def test_results_tell_each_participant_its_own_result_per_position(app, ctx, db, mailbox, customer):
    from decimal import Decimal

    from bids.models import Bid
    from core.events import record_event
    from positions.models import Position
    from results.models import Award, AwardOffer

    user, org = customer
    tender = published_tender((user, org), commit=False)
    winner_user, loser_user = _supplier(), _supplier()
    follower = _supplier()
    commit()
    subscriptions.follow(follower, tender.id)
    winner_org = winner_user.memberships[0].organization_id
    loser_org = loser_user.memberships[0].organization_id
    bids = {}
    people = {winner_org: winner_user.id, loser_org: loser_user.id}
    for n, org_id in enumerate((winner_org, loser_org), start=1):
        bids[org_id] = Bid(
            tender_id=tender.id,
            organization_id=org_id,
            participant_number=n,
            responsible_id=people[org_id],
        )
        db.session.add(bids[org_id])
    db.session.flush()
    positions = db.session.execute(
        db.select(Position).where(Position.tender_id == tender.id).order_by(Position.sort_key)
    ).scalars()
    for position in positions:
        if position.lot.award_mode != "per_position":
            continue
        award = Award(
            tender_id=tender.id,
            lot_id=position.lot_id,
            position_id=position.id,
            lot_number=position.lot.number,
            position_number=position.number,
            sort_key=f"{position.lot.number}:{position.sort_key}",
            award_mode="per_position",
            status="awarded",
            winner_bid_id=bids[winner_org].id,
            price=Decimal("90"),
        )
        db.session.add(award)
        db.session.flush()
        for rank, (org_id, price) in enumerate(((winner_org, "90"), (loser_org, "95")), 1):
            db.session.add(
                AwardOffer(
                    award_id=award.id,
                    bid_id=bids[org_id].id,
                    sort_order=rank,
                    rank=rank,
                    status="valid",
                    unit_price=Decimal(price),
                    total=Decimal(price),
                    score=Decimal(100),
                    price_points=Decimal(100),
                    breakdown={},
                    first_offered_at=clock.now(),
                )
            )
    tender.status = "results_published"
    record_event("tender.results_published", tender.id, {"number": tender.number})
    commit()
    win_text = mailbox.to(winner_user.email)[0].get_body(("plain",)).get_content()
    lose_text = mailbox.to(loser_user.email)[0].get_body(("plain",)).get_content()
    follow_text = mailbox.to(follower.email)[0].get_body(("plain",)).get_content()
    assert "1 Кабель ВВГнг-LS 3x2.5: won, rank 1, your price 90.00" in win_text
    assert (
        "1 Кабель ВВГнг-LS 3x2.5: not awarded, rank 2, your price 95.00, winning price 90.00"
        in lose_text
    )
    assert "won" not in follow_text and "#results" in follow_text
    assert inbox.unread_count(winner_user.id) == 1
    [(n, _)] = inbox.page(winner_user.id)[0]
    assert (n.payload["won"], n.payload["bid_on"]) == (2, 2)
    assert inbox.note(n) == "Won 2 of 2 positions or lots bid on."


def test_extensions_reach_the_inbox_each_time_and_mail_at_most_hourly(
    app, ctx, db, mailbox, customer
):
    from core.events import record_event

    follower = _supplier()
    commit()
    tender = published_tender(customer, commit=False)
    subscriptions.follow(follower, tender.id)
    commit()
    for n in (1, 2):
        record_event("tender.extended", tender.id, {"number": tender.number, "extensions": n})
        commit()
        clock.advance(dt.timedelta(minutes=10))
    assert inbox.unread_count(follower.id) == 2
    assert len(mailbox.to(follower.email)) == 1
    clock.advance(dt.timedelta(hours=1))
    record_event("tender.extended", tender.id, {"number": tender.number, "extensions": 3})
    commit()
    assert len(mailbox.to(follower.email)) == 2


def test_accreditation_decision_reaches_the_inbox(app, ctx, db, mailbox):
    from accounts.service import decide_accreditation

    org = make_org(accreditation_status="pending")
    member = make_user(org)
    operator = make_user(is_operator=True)
    commit()
    decide_accreditation(operator, org.id, False, "Выписка ЕГРЮЛ устарела")
    commit()
    [n] = inbox.page(member.id)[0]
    assert n[0].kind == "accreditation.decided" and n[0].payload["status"] == "rejected"
    assert n[0].mail_id is not None and len(mailbox.to(member.email)) == 1


def test_a_failing_event_does_not_hold_back_the_relay(app, ctx, db, mailbox, customer):
    reader = _supplier(categories=["27"])
    commit()
    eager = app.extensions["jobs"]
    app.extensions["jobs"] = jobs.RQBackend("redis://127.0.0.1:1/0")  # Redis down
    try:
        earlier = published_tender(customer, commit=False)
        commit()
        broken = DomainEvent(kind="tender.amended", tender_id=earlier.id, payload=None)
        db.session.add(broken)  # a payload no handler can read, before the next event
        commit()
        tender = published_tender(customer, commit=False, title="Кабель, вторая закупка")
        commit()
    finally:
        app.extensions["jobs"] = eager
    clock.advance(dt.timedelta(minutes=2))
    assert n_jobs.relay_events() == 2  # both publications; the broken event is logged
    assert reader.id in _matched(tender.id)
    assert db.session.get(DomainEvent, broken.id).processed_at is None  # retried next sweep


def test_an_invited_member_gets_the_default_subscription(app, ctx, db, mailbox):
    from accounts.service import accept_invitation, invite, make_link_token

    org = make_org(is_customer=False, is_supplier=True)
    admin = make_user(org)
    subscriptions.declare_categories(admin, org.id, ["27.3"])
    inv = invite(admin, org.id, "newbie@example.test", "member")
    token = make_link_token("invite", {"i": inv.id, "e": inv.email})
    newbie = accept_invitation(token, None, {"name": "Newbie", "password": "Correct-horse-42x"})
    [sub] = subscriptions.user_subscriptions(newbie)
    assert sub.default_for_org_id == org.id and [c.code for c in sub.categories] == ["27.3"]
    assert sub.by_email is False  # no consent given: the cabinet only


def test_a_question_reaches_the_customers_members_who_see_the_tender(
    app, ctx, db, mailbox, customer
):
    """Issue 20: a specialist hears of questions on the tenders in its charge only; an
    observer of every one."""
    user, org = customer
    in_charge = make_user(org, roles=["specialist"])
    other = make_user(org, roles=["specialist"])
    observer = make_user(org, roles=["observer"])
    tender = published_tender((in_charge, org), commit=False)
    asker_org = make_org(is_customer=False, is_supplier=True)
    asker = make_user(asker_org)
    commit()
    tenders.ask(asker, asker_org, tender.id, "Допускается ли аналог?")
    commit()
    for who in (user, in_charge, observer):
        assert [n.kind for n, _ in inbox.page(who.id)[0]] == ["question.asked"], who.email
    assert inbox.page(other.id)[0] == [] and mailbox.to(other.email) == []


def test_a_bidders_news_reaches_the_members_who_see_its_bid(app, ctx, db, customer):
    from tests.factories import make_supplier, one_position_lots, signed_submit

    tender = published_tender(customer, lots=one_position_lots(), commit=False)
    supplier = make_supplier()
    founder, org = supplier[0], supplier[1]
    other = make_user(org, roles=["specialist"])
    observer = make_user(org, roles=["observer"])
    commit()
    signed_submit(supplier, tender, {"1": "100.00"})
    found = delivery.participants(tender.id)
    assert found.get(founder.id) == "bidder" and found.get(observer.id) == "bidder"
    assert other.id not in found
