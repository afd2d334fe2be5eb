"""From domain events to notifications and mail.

A DomainEvent row is written in the transaction of the change (the outbox). Processing it
writes every notification and mail it causes and marks it processed, in one transaction:
a crash or an outage in between leaves the event unprocessed, and the relay picks it up
again; (user, dedupe_key) is unique, so a second run adds nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from flask import current_app
from itsdangerous import BadSignature, Signer
from markupsafe import escape
from sqlalchemy import String, case, cast, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from accounts.models import Membership, User
from bids.models import Bid
from core import clock, jobs
from core.extensions import db
from core.http import base_url, external_url
from core.transaction import dialect
from notifications import matching, rules
from notifications.models import DomainEvent, Notification, OutgoingEmail, TenderFollow
from notifications.service import queue_mail
from tenders.models import Tender

log = logging.getLogger(__name__)
MAIL_BATCH = 200  # mails per send job
RELAY_AFTER = dt.timedelta(seconds=60)  # an event unprocessed this long is taken by the relay

# What each kind of notification says (inbox and mail).
HEADLINES = {
    "tender.matched": "New tender matching your subscription",
    "tender.amended": "Tender amended",
    "tender.extended": "Bidding extended",
    "tender.cancelled": "Tender cancelled",
    "tender.closed": "Bidding closed",
    "tender.unsuccessful": "Tender closed without a valid bid",
    "tender.results_published": "Results published",
    "tender.results_corrected": "Results corrected",
    "tender.question_answered": "A clarification was published",
    "question.answered": "Your question was answered",
    "reminder.24h": "Bidding closes in 24 hours",
    "reminder.1h": "Bidding closes in 1 hour",
    "accreditation.decided": "Accreditation decision",
}
ANCHORS = {
    "tender.matched": "lots",
    "tender.amended": "amendments",
    "tender.question_answered": "clarifications",
    "question.answered": "clarifications",
    "tender.results_published": "results",
    "tender.results_corrected": "results",
}


def _insert(model):
    return (postgresql.insert if dialect() == "postgresql" else sqlite.insert)(model)


# -- links and unsubscribe tokens ---------------------------------------------------------------


def _signer() -> Signer:
    return Signer(
        current_app.config["SECRET_KEY"],
        salt="notifications.unsubscribe",
        digest_method=hashlib.sha256,
    )


def unsubscribe_token(user_id: int, scope: str, signer: Signer | None = None) -> str:
    """A signed, non-expiring token for one-click unsubscribe (no login needed): the user and
    what to stop ("12:subscription:5"), HMAC-SHA256 with the app's secret key."""
    rules.parse_scope(scope)
    return (signer or _signer()).sign(f"{user_id}:{scope}").decode()


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """(user id, scope) of a token; ValueError when it was tampered with."""
    try:
        user, _, scope = _signer().unsign(token).decode().partition(":")
        rules.parse_scope(scope)
        return int(user), scope
    except (BadSignature, UnicodeDecodeError, ValueError):
        raise ValueError("invalid unsubscribe token") from None


def tender_link(tender: Tender, kind: str = "") -> str:
    """Straight to the part of the notice the notification is about."""
    anchor = ANCHORS.get(kind)
    return (
        external_url("main.notice", number=tender.number, _anchor=anchor)
        if anchor
        else external_url("main.notice", number=tender.number)
    )


def unsubscribe_headers(
    user_id: int, scope: str, prefix: str | None = None, signer: Signer | None = None
) -> tuple[str, dict]:
    """The unsubscribe URL and the RFC 8058 headers that carry it (`prefix`: the link up to
    the token, and `signer`, made once for a bulk of mails)."""
    prefix = prefix or external_url("notifications.unsubscribe", token="-").removesuffix("-")
    url = prefix + unsubscribe_token(user_id, scope, signer)
    return url, {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def tender_facts(tender: Tender) -> dict:
    """What a mail shows of a tender (rendered once per tender, not once per recipient)."""
    zone = ZoneInfo(tender.timezone or "Europe/Moscow")
    deadline = tender.bid_deadline.astimezone(zone) if tender.bid_deadline else None
    return {
        "id": tender.id,
        "number": tender.number,
        "title": tender.title,
        "customer": tender.customer.name if tender.customer else "",
        "region_code": tender.region_code,
        "deadline": f"{deadline:%d.%m.%Y %H:%M} ({tender.timezone})" if deadline else "—",
        "value": f"{tender.estimated_value:,.2f} {tender.currency}".replace(",", " ")
        if tender.estimated_value is not None
        else "",
        "categories": [c.code for c in tender.categories],
    }


# -- writing notifications ---------------------------------------------------------------------


def add_notifications(rows: list[dict]) -> list[tuple[int, int]]:
    """Insert notifications, skipping those a user already has (same dedupe key); returns
    (notification id, user id) of the new ones."""
    if not rows:
        return []
    now = clock.now()
    for row in rows:
        row.setdefault("created_at", now)
        row.setdefault("payload", {})
    stmt = (
        _insert(Notification)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"])
        .returning(Notification.id, Notification.user_id)
    )
    return [tuple(r) for r in db.session.execute(stmt)]


def notify_users(
    recipients: dict[int, str],
    kind: str,
    tender: Tender | None,
    dedupe_key: str,
    payload: dict,
    *,
    mail: bool = True,
    template: str = "tender_event",
    extra: dict | None = None,
) -> list[int]:
    """Inbox notifications (and instant mails) for a few users, e.g. a tender's participants.
    `recipients` maps user id to why they hear of it ("bidder", "follower", "asker"...).
    Returns the ids of the users newly notified."""
    users = {
        u.id: u
        for u in db.session.execute(
            select(User).where(
                User.id.in_(list(recipients)),
                User.disabled.is_(False),
                User.email_confirmed_at.is_not(None),
            )
        ).scalars()
    }
    rows = [
        {
            "user_id": uid,
            "kind": kind,
            "tender_id": tender.id if tender else None,
            "dedupe_key": dedupe_key,
            "payload": {**payload, **(extra or {}).get(uid, {}).get("inbox", {})},
            "in_inbox": True,
            "email_mode": "instant" if mail else "none",
        }
        for uid in sorted(users)
    ]
    created = add_notifications(rows)
    if mail and tender is not None:
        facts = tender_facts(tender)
        for notification_id, uid in created:
            user, reason = users[uid], recipients[uid]
            context = (extra or {}).get(uid, {})
            _queue_event_mail(
                notification_id, user, reason, kind, tender, facts, payload, template, context
            )
    push_unread([uid for _, uid in created])
    return [uid for _, uid in created]


def _queue_event_mail(
    notification_id, user, reason, kind, tender, facts, payload, template, context
) -> None:
    url, headers = unsubscribe_headers(user.id, f"tender:{tender.id}")
    headline = HEADLINES.get(kind, kind)
    mail = queue_mail(
        user.email,
        template,
        subject=f"{tender.number}: {headline}",
        user_id=user.id,
        headers=headers,
        user=user,
        reason=reason,
        kind=kind,
        headline=headline,
        tender=facts,
        payload=payload,
        link=tender_link(tender, kind),
        unsubscribe_url=url,
        **context,
    )
    db.session.execute(
        update(Notification).where(Notification.id == notification_id).values(mail_id=mail.id)
    )


def add_to_inbox(user_id: int, kind: str, dedupe_key: str, payload: dict, mail_id: int | None):
    """An inbox notification for something mailed elsewhere (accreditation decisions)."""
    created = add_notifications(
        [
            {
                "user_id": user_id,
                "kind": kind,
                "tender_id": None,
                "dedupe_key": dedupe_key,
                "payload": payload,
                "in_inbox": True,
                "email_mode": "instant" if mail_id else "none",
                "mail_id": mail_id,
            }
        ]
    )
    push_unread([uid for _, uid in created])


def push_unread(user_ids: Iterable[int]) -> None:
    """After the commit, push each user's unread count to their open pages."""
    ids = sorted(set(user_ids))
    for start in range(0, len(ids), 500):
        jobs.enqueue("notifications.jobs.push_unread", *ids[start : start + 500])


# -- participants ------------------------------------------------------------------------------


def participants(tender_id: int, *, bidders_only: bool = False) -> dict[int, str]:
    """Users who take part in a tender: members of organizations with a bid (withdrawn
    ones too: they hear of the outcome), and followers."""
    found: dict[int, str] = {}
    if not bidders_only:
        for uid in db.session.execute(
            select(TenderFollow.user_id).where(TenderFollow.tender_id == tender_id)
        ).scalars():
            found[uid] = "follower"
    for uid in db.session.execute(
        select(Membership.user_id)
        .join(Bid, Bid.organization_id == Membership.organization_id)
        .where(Bid.tender_id == tender_id)
    ).scalars():
        found[uid] = "bidder"
    return found


# -- events ------------------------------------------------------------------------------------


def process_event(event_id: int) -> bool:
    """Deliver one event (idempotent); False when it was already processed or is missing."""
    query = select(DomainEvent).where(DomainEvent.id == event_id).with_for_update()
    if dialect() == "postgresql":
        query = query.with_for_update(skip_locked=True)  # another worker has it
    event = db.session.execute(query).scalar_one_or_none()
    if event is None or event.processed_at is not None:
        return False
    tender = db.session.get(Tender, event.tender_id) if event.tender_id else None
    handler = HANDLERS.get(event.kind)
    if handler is None:
        log.info("no delivery for event kind %s", event.kind)
    elif tender is not None:
        handler(event, tender)
    event.processed_at = clock.now()
    db.session.flush()
    return True


def stale_event_ids(limit: int = 200) -> list[int]:
    """Events whose job should have run by now (lost in a Redis outage, or crashed)."""
    cutoff = clock.now() - RELAY_AFTER
    return list(
        db.session.execute(
            select(DomainEvent.id)
            .where(DomainEvent.processed_at.is_(None), DomainEvent.created_at <= cutoff)
            .order_by(DomainEvent.id)
            .limit(limit)
        ).scalars()
    )


def _published(event: DomainEvent, tender: Tender) -> None:
    """A new tender: everyone whose subscription matches, once per user (unless it stopped
    taking bids while the event waited, e.g. cancelled during an outage)."""
    if tender.status == "published":
        fan_out_matches(tender)


def fan_out_matches(tender: Tender) -> int:
    """Notifications for every matching user (INSERT ... SELECT, in the database), then one
    instant mail per user who wants it; digests are mailed by the daily job. Returns the
    number of new notifications."""
    matching.planner_settings()
    users = matching.matching_users(tender).subquery()
    mode = case(
        (users.c.mail_rank == 2, "instant"), (users.c.mail_rank == 1, "digest"), else_="none"
    )
    payload = {"number": tender.number, "title": tender.title[:200]}
    payload_sql = literal(payload, db.JSON)
    if dialect() == "postgresql":
        payload_sql = func.cast(payload_sql, postgresql.JSON)
    select_rows = select(
        users.c.user_id,
        literal("tender.matched"),
        literal(tender.id),
        literal(f"tender.matched:{tender.id}"),
        payload_sql,
        users.c.in_cabinet == 1,
        mode,
        users.c.subscription_id,
        literal(clock.now(), Notification.created_at.type),
    ).where(users.c.user_id.is_not(None))
    stmt = (
        _insert(Notification)
        .from_select(
            [
                "user_id",
                "kind",
                "tender_id",
                "dedupe_key",
                "payload",
                "in_inbox",
                "email_mode",
                "subscription_id",
                "created_at",
            ],
            select_rows,
        )
        .on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"])
    )
    result = db.session.execute(stmt)
    created = result.rowcount or 0
    mail_ids = _instant_alert_mails(tender)
    enqueue_mails(mail_ids)
    inbox_users = db.session.execute(
        select(Notification.user_id).where(
            Notification.tender_id == tender.id,
            Notification.kind == "tender.matched",
            Notification.in_inbox.is_(True),
        )
    ).scalars()
    push_unread(inbox_users)
    return created


_NAME, _UNSUBSCRIBE = "\x00name\x00", "\x00unsubscribe\x00"


def _instant_alert_mails(tender: Tender) -> list[int]:
    """Store the instant alert mails of a tender's new matches, in bulk: the templates are
    rendered once for the tender and only the greeting and the unsubscribe link differ."""
    rows = db.session.execute(
        select(Notification.id, Notification.subscription_id, User.id, User.email, User.name)
        .join(User, User.id == Notification.user_id)
        .where(
            Notification.tender_id == tender.id,
            Notification.kind == "tender.matched",
            Notification.email_mode == "instant",
            Notification.mail_id.is_(None),
        )
        .order_by(Notification.id)
    ).all()
    if not rows:
        return []
    subject = f"New tender {tender.number}: {tender.title}"[:300]
    context = {
        "subject": subject,
        "name": _NAME,
        "tender": tender_facts(tender),
        "link": tender_link(tender, "tender.matched"),
        "unsubscribe_url": _UNSUBSCRIBE,
        "settings_url": external_url("notifications.subscriptions_page"),
        "base_url": base_url(),
    }
    env = current_app.jinja_env
    text_body = env.get_template("mail/tender_alert.txt").render(context)
    html_body = env.get_template("mail/tender_alert.html").render(context)
    prefix = external_url("notifications.unsubscribe", token="-").removesuffix("-")
    signer, now, batch = _signer(), clock.now(), uuid.uuid4().hex[:12]
    mails = []
    for notification_id, sub_id, user_id, email, name in rows:
        scope = f"subscription:{sub_id}" if sub_id else "alerts"
        url, headers = unsubscribe_headers(user_id, scope, prefix, signer)
        mails.append(
            {
                "message_id": f"<alert-{notification_id}.{batch}@tenders.local>",
                "user_id": user_id,
                "to_addr": email,
                "subject": subject,
                "text_body": text_body.replace(_NAME, name).replace(_UNSUBSCRIBE, url),
                "html_body": html_body.replace(_NAME, str(escape(name))).replace(
                    _UNSUBSCRIBE, str(escape(url))
                ),
                "headers": headers,
                "kind": "tender_alert",
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    db.session.execute(insert(OutgoingEmail), mails)
    # Each notification finds its mail by the Message-ID made from its own id: one statement.
    message_id = (
        literal("<alert-") + cast(Notification.id, String) + literal(f".{batch}@tenders.local>")
    )
    db.session.execute(
        update(Notification)
        .where(
            Notification.tender_id == tender.id,
            Notification.kind == "tender.matched",
            Notification.email_mode == "instant",
            Notification.mail_id.is_(None),
        )
        .values(
            mail_id=select(OutgoingEmail.id)
            .where(OutgoingEmail.message_id == message_id)
            .scalar_subquery()
        )
        .execution_options(synchronize_session=False)
    )
    return list(
        db.session.execute(
            select(OutgoingEmail.id)
            .join(Notification, Notification.mail_id == OutgoingEmail.id)
            .where(
                Notification.tender_id == tender.id,
                Notification.kind == "tender.matched",
                OutgoingEmail.message_id.like(f"%.{batch}@tenders.local>"),
            )
            .order_by(OutgoingEmail.id)
        ).scalars()
    )


def enqueue_mails(mail_ids: list[int]) -> None:
    """Hand stored mails to the queue in batches, once the transaction commits."""
    for start in range(0, len(mail_ids), MAIL_BATCH):
        chunk = mail_ids[start : start + MAIL_BATCH]
        jobs.enqueue(
            "notifications.jobs.send_emails",
            *chunk,
            queue="emails",
            job_id=f"mails-{chunk[0]}-{chunk[-1]}",
        )


def _to_participants(event: DomainEvent, tender: Tender) -> None:
    """Amended, cancelled, closed, unsuccessful: every participant, inbox and mail."""
    notify_users(
        participants(tender.id), event.kind, tender, f"event:{event.id}", dict(event.payload)
    )


def _extended(event: DomainEvent, tender: Tender) -> None:
    """Every extension reaches the inbox; mail at most once an hour per tender and user."""
    people = participants(tender.id)
    now = clock.now()
    last_mailed = dict(
        db.session.execute(
            select(Notification.user_id, func.max(Notification.created_at))
            .where(
                Notification.tender_id == tender.id,
                Notification.kind == "tender.extended",
                Notification.mail_id.is_not(None),
                Notification.user_id.in_(list(people) or [0]),
            )
            .group_by(Notification.user_id)
        ).all()
    )
    mail_now = {
        u: r for u, r in people.items() if rules.extension_mail_due(last_mailed.get(u), now)
    }
    quiet = {u: r for u, r in people.items() if u not in mail_now}
    key, payload = f"event:{event.id}", dict(event.payload)
    notify_users(mail_now, event.kind, tender, key, payload)
    notify_users(quiet, event.kind, tender, key, payload, mail=False)


def _answered(event: DomainEvent, tender: Tender) -> None:
    """The asker hears of its answer; followers and bidders of a new clarification."""
    asker = event.payload.get("asker_user_id")
    key, payload = f"event:{event.id}", dict(event.payload)
    if asker:
        notify_users({asker: "asker"}, "question.answered", tender, key, payload)
    others = {u: r for u, r in participants(tender.id).items() if u != asker}
    notify_users(others, event.kind, tender, key, payload)


def _results(event: DomainEvent, tender: Tender) -> None:
    """Every participant learns its own result per position; followers that results are out."""
    from notifications import results

    people = participants(tender.id)
    per_user = results.for_participants(tender, people)
    key, payload = f"event:{event.id}", dict(event.payload)
    notify_users(
        people, event.kind, tender, key, payload, template="tender_results", extra=per_user
    )


HANDLERS = {
    "tender.published": _published,
    "tender.amended": _to_participants,
    "tender.cancelled": _to_participants,
    "tender.closed": _to_participants,
    "tender.unsuccessful": _to_participants,
    "tender.extended": _extended,
    "tender.question_answered": _answered,
    "tender.results_published": _results,
    "tender.results_corrected": _results,  # each participant its own new result
}


# -- reminders and digests ---------------------------------------------------------------------


def send_reminders() -> int:
    """24 h and 1 h before the deadline: followers and bidders of every published tender
    closing within a day. Dedupe keys make it safe to run as often as wanted."""
    now = clock.now()
    tenders = db.session.execute(
        select(Tender).where(
            Tender.status == "published",
            Tender.bid_deadline > now,
            Tender.bid_deadline <= now + dt.timedelta(hours=24),
        )
    ).scalars()
    sent = 0
    for tender in tenders:
        window = rules.reminder_due(tender.bid_deadline, now)
        if window is None:
            continue
        kind = f"reminder.{window}"
        payload = {"number": tender.number, "deadline": tender.bid_deadline.isoformat()}
        key = f"{kind}:{tender.id}"  # once per tender and user, whatever the extensions
        sent += len(notify_users(participants(tender.id), kind, tender, key, payload))
    return sent


def digest_due_before(now: dt.datetime) -> dt.datetime:
    """Digest notifications made before this moment are mailed now."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    hour = current_app.config.get("DIGEST_HOUR", 8)
    return rules.digest_cutoff(now.astimezone(zone), hour).astimezone(dt.UTC)


def send_digests(limit_users: int = 1000) -> int:
    """One mail per user with every alert waiting for the daily digest; returns mails made."""
    cutoff = digest_due_before(clock.now())
    waiting = (
        select(Notification.user_id)
        .where(
            Notification.email_mode == "digest",
            Notification.mail_id.is_(None),
            Notification.created_at < cutoff,
        )
        .distinct()
        .limit(limit_users)
    )
    mail_ids = []
    for user in db.session.execute(select(User).where(User.id.in_(waiting))).scalars():
        items = list(
            db.session.execute(
                select(Notification, Tender)
                .join(Tender, Tender.id == Notification.tender_id)
                .where(
                    Notification.user_id == user.id,
                    Notification.email_mode == "digest",
                    Notification.mail_id.is_(None),
                    Notification.created_at < cutoff,
                )
                .order_by(Notification.id)
            ).all()
        )
        if not items:
            continue
        url, headers = unsubscribe_headers(user.id, "alerts")
        mail = queue_mail(
            user.email,
            "tender_digest",
            subject=f"{len(items)} new tender(s) for you",
            user_id=user.id,
            headers=headers,
            user=user,
            tenders=[
                {**tender_facts(t), "link": tender_link(t, "tender.matched")} for _, t in items
            ],
            unsubscribe_url=url,
            settings_url=external_url("notifications.subscriptions_page"),
        )
        db.session.execute(
            update(Notification)
            .where(Notification.id.in_([n.id for n, _ in items]))
            .values(mail_id=mail.id)
        )
        mail_ids.append(mail.id)
    db.session.flush()
    return len(mail_ids)
