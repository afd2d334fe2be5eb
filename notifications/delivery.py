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
from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, Signer
from markupsafe import escape
from sqlalchemy import String, case, cast, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from accounts.models import Membership, User
from accounts.rules import sees
from bids.models import Bid
from core import clock, formats, jobs
from core.events import DomainEvent
from core.extensions import db
from core.http import base_url, external_url
from core.mail import SEND_BATCH_JOB, OutgoingEmail, queue_mail, recipient_language
from core.transaction import dialect
from notifications import matching, results, rules
from notifications.models import Notification, TenderFollow
from tenders.models import Tender
from tenders.sight import in_charge

log = logging.getLogger(__name__)
MAIL_BATCH = 200  # mails per send job
RELAY_AFTER = dt.timedelta(seconds=60)  # an event unprocessed this long is taken by the relay

# What each kind of notification says (inbox and mail), in the reader's language.
HEADLINES = {
    "tender.matched": _l("New tender matching your subscription"),
    "tender.amended": _l("Tender amended"),
    "tender.extended": _l("Bidding extended"),
    "tender.cancelled": _l("Tender cancelled"),
    "tender.closed": _l("Bidding closed"),
    "tender.unsuccessful": _l("Tender closed without a valid bid"),
    "tender.results_published": _l("Results published"),
    "tender.results_corrected": _l("Results corrected"),
    "tender.question_answered": _l("A clarification was published"),
    "question.asked": _l("A supplier asked a question about your tender"),
    "question.answered": _l("Your question was answered"),
    "reminder.24h": _l("Bidding closes in 24 hours"),
    "reminder.1h": _l("Bidding closes in 1 hour"),
    "accreditation.decided": _l("Accreditation decision"),
    "approval.requested": _l("A tender is waiting for your approval"),
    "approval.approved": _l("Your tender is approved"),
    "approval.returned": _l("Your tender was returned"),
    "bid_approval.requested": _l("A bid is waiting for your approval"),
    "bid_approval.approved": _l("Your bid offer is approved"),
    "bid_approval.returned": _l("Your bid offer was returned"),
}
# The subject of an instant mail about a tender: the tender's number and what happened.
SUBJECTS = {
    "tender.amended": _l("Tender %(number)s: the notice was amended"),
    "tender.extended": _l("Tender %(number)s: bidding extended until %(deadline)s"),
    "tender.cancelled": _l("Tender %(number)s is cancelled"),
    "tender.closed": _l("Tender %(number)s: bidding closed"),
    "tender.unsuccessful": _l("Tender %(number)s closed without a valid bid"),
    "tender.results_published": _l("Tender %(number)s: results published"),
    "tender.results_corrected": _l("Tender %(number)s: results corrected"),
    "tender.question_answered": _l("Tender %(number)s: a clarification was published"),
    "question.asked": _l("Tender %(number)s: a supplier asked a question"),
    "question.answered": _l("Tender %(number)s: your question was answered"),
    "reminder.24h": _l("Tender %(number)s: bidding closes in 24 hours, at %(deadline)s"),
    "reminder.1h": _l("Tender %(number)s: bidding closes in 1 hour, at %(deadline)s"),
    "approval.requested": _l("Tender %(number)s: waiting for your approval"),
    "approval.approved": _l("Tender %(number)s: approved"),
    "approval.returned": _l("Tender %(number)s: returned to you"),
    "bid_approval.requested": _l("Bid on %(number)s: waiting for your approval"),
    "bid_approval.approved": _l("Bid on %(number)s: the offer is approved"),
    "bid_approval.returned": _l("Bid on %(number)s: the offer was returned"),
}


def headline(kind: str) -> str:
    """What a notification of this kind says, in the current language."""
    found = HEADLINES.get(kind)
    return str(found) if found is not None else kind


def event_subject(kind: str, facts: dict) -> str:
    """The subject of an instant mail about a tender, in the current language."""
    found = SUBJECTS.get(kind)
    if found is None:
        return _("Tender %(number)s: %(headline)s", number=facts["number"], headline=headline(kind))
    return str(found) % {"number": facts["number"], "deadline": facts["deadline"]}


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


# Where the notifications of kinds other packages add lead (kind prefix -> link of a tender).
LINKS: dict[str, Callable[[Tender], str]] = {}


def tender_link(tender: Tender, kind: str = "") -> str:
    """Straight to the part of the notice the notification is about (a question to the
    customer: the tender's page in its cabinet, where it answers)."""
    for prefix, link in LINKS.items():
        if kind.startswith(prefix):
            return link(tender)
    if kind == "question.asked":
        return external_url("cabinet.edit", tender_id=tender.id, _anchor="questions")
    if kind.startswith("approval."):
        return external_url("cabinet.edit", tender_id=tender.id, _anchor="approval")
    if kind.startswith("bid_approval."):
        return external_url("bids.form", number=tender.number, _anchor="approval")
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
    """What a mail shows of a tender, in the current language (made once per tender and
    language, not once per recipient)."""
    return {
        "id": tender.id,
        "number": tender.number,
        "title": tender.title,
        "customer": tender.customer.name if tender.customer else "",
        "region_code": tender.region_code,
        "region": formats.region(tender.region_code),
        "deadline": formats.moment(tender.bid_deadline, tender.timezone or "Europe/Moscow") or "—",
        "value": f"{formats.money(tender.estimated_value)} {formats.currency(tender.currency)}"
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
        by_language: dict[str, list[tuple[int, int]]] = {}
        for notification_id, uid in created:
            by_language.setdefault(recipient_language(users[uid]), []).append(
                (notification_id, uid)
            )
        for lang, group in sorted(by_language.items()):
            with force_locale(lang):  # the tender's facts once per language
                facts = tender_facts(tender)
                for notification_id, uid in group:
                    user, reason = users[uid], recipients[uid]
                    context = (extra or {}).get(uid, {})
                    _queue_event_mail(
                        notification_id,
                        user,
                        reason,
                        kind,
                        tender,
                        facts,
                        payload,
                        template,
                        context,
                    )
    push_unread([uid for _, uid in created])
    return [uid for _, uid in created]


def _queue_event_mail(
    notification_id, user, reason, kind, tender, facts, payload, template, context
) -> None:
    """One instant mail about a tender, in the current (the recipient's) language."""
    url, headers = unsubscribe_headers(user.id, f"tender:{tender.id}")
    mail = queue_mail(
        user.email,
        template,
        subject=event_subject(kind, facts)[:300],
        user_id=user.id,
        headers=headers,
        user=user,
        reason=reason,
        kind=kind,
        headline=headline(kind),
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
    found.update(dict.fromkeys(bid_members(tender_id), "bidder"))
    return found


def bid_members(tender_id: int, org_ids: Iterable[int] | None = None) -> list[int]:
    """The members who see their organization's bid on the tender (a specialist: the bids
    in its charge only); with org_ids, of those organizations only."""
    query = (
        select(Membership.user_id, Membership.roles, Bid.responsible_id)
        .join(Bid, Bid.organization_id == Membership.organization_id)
        .where(Bid.tender_id == tender_id)
    )
    if org_ids is not None:
        query = query.where(Bid.organization_id.in_(list(org_ids)))
    return [
        uid
        for uid, roles, responsible in db.session.execute(query).all()
        if sees(roles, {responsible}, uid)
    ]


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
    rendered once per language of the recipients (users.locale) and only the greeting and
    the unsubscribe link differ."""
    rows = db.session.execute(
        select(
            Notification.id,
            Notification.subscription_id,
            User.id,
            User.email,
            User.name,
            User.locale,
        )
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
    link = tender_link(tender, "tender.matched")
    settings_url = external_url("notifications.subscriptions_page")
    env = current_app.jinja_env
    rendered: dict[str, tuple[str, str, str]] = {}  # language -> subject, text, html

    def render(lang: str) -> tuple[str, str, str]:
        if lang not in rendered:
            with force_locale(lang):
                subject = _(
                    "New tender %(number)s: %(title)s", number=tender.number, title=tender.title
                )[:300]
                context = {
                    "subject": subject,
                    "name": _NAME,
                    "tender": tender_facts(tender),
                    "link": link,
                    "unsubscribe_url": _UNSUBSCRIBE,
                    "settings_url": settings_url,
                    "base_url": base_url(),
                    "lang": lang,
                }
                rendered[lang] = (
                    subject,
                    env.get_template("mail/tender_alert.txt").render(context),
                    env.get_template("mail/tender_alert.html").render(context),
                )
        return rendered[lang]

    prefix = external_url("notifications.unsubscribe", token="-").removesuffix("-")
    signer, now, batch = _signer(), clock.now(), uuid.uuid4().hex[:12]
    mails = []
    for notification_id, sub_id, user_id, email, name, locale in rows:
        subject, text_body, html_body = render(recipient_language(locale))
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
            SEND_BATCH_JOB,
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


def _asked(event: DomainEvent, tender: Tender) -> None:
    """The customer's members learn of a new question, to answer it in the cabinet."""
    charge = in_charge(tender)
    members = [
        uid
        for uid, roles in db.session.execute(
            select(Membership.user_id, Membership.roles).where(
                Membership.organization_id == tender.customer_id
            )
        ).all()
        if sees(roles, charge, uid)  # who answers: those who see the tender
    ]
    key, payload = f"event:{event.id}", dict(event.payload)
    notify_users(dict.fromkeys(members, "customer"), "question.asked", tender, key, payload)


def _results(event: DomainEvent, tender: Tender) -> None:
    """Every participant learns its own result per position; followers that results are out."""
    people = participants(tender.id)
    per_user = results.for_participants(tender, people)
    key, payload = f"event:{event.id}", dict(event.payload)
    notify_users(
        people, event.kind, tender, key, payload, template="tender_results", extra=per_user
    )


def _approval(event: DomainEvent, tender: Tender) -> None:
    """An approval step: the managers who decide it, or the member who asked (inbox, mail)."""
    payload = dict(event.payload)
    reason = "approver" if event.kind.endswith(".requested") else "author"
    recipients = dict.fromkeys(payload.pop("recipients", []), reason)
    notify_users(recipients, event.kind, tender, f"event:{event.id}", payload, template="approval")


HANDLERS = {
    "tender.published": _published,
    "tender.amended": _to_participants,
    "tender.cancelled": _to_participants,
    "tender.closed": _to_participants,
    "tender.unsuccessful": _to_participants,
    "tender.extended": _extended,
    "tender.question_asked": _asked,
    "tender.question_answered": _answered,
    "tender.results_published": _results,
    "tender.results_corrected": _results,  # each participant its own new result
    **{
        f"{prefix}.{step}": _approval
        for prefix in ("approval", "bid_approval")
        for step in ("requested", "approved", "returned")
    },
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
        with force_locale(recipient_language(user)):
            mail = queue_mail(
                user.email,
                "tender_digest",
                subject=ngettext(
                    "%(num)d new tender for you", "%(num)d new tenders for you", len(items)
                ),
                user_id=user.id,
                headers=headers,
                user=user,
                tenders=[
                    {**tender_facts(t), "link": tender_link(t, "tender.matched")} for _n, t in items
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
