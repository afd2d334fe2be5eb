"""How notifications react to the other packages, registered when the app is created: every
domain event is delivered by a job after the commit (delivery.process_event); a member who
joins a supplier gets the default subscription of its declared categories; an operator's
decision reaches the members' inboxes; a damaged stored file is mailed to the operators."""

from __future__ import annotations

from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from accounts import signals as accounts_signals
from accounts.models import Organization, User
from core import clock, events, files, jobs
from core.events import DomainEvent
from core.extensions import db
from core.mail import OutgoingEmail, queue_mail, recipient_language
from notifications import delivery, subscriptions


def register(app: Flask) -> None:
    """Connect the handlers (idempotent: a second app connects the same ones)."""
    events.on(app, events.ANY, deliver_event)
    accounts_signals.member_joined.connect(default_subscription)
    accounts_signals.members_told.connect(to_inbox)
    files.damaged.connect(report_damaged_file)


def deliver_event(event: DomainEvent) -> None:
    """Deliver a recorded event by a job once the current transaction commits (or by the
    relay, notifications.jobs.relay_events, if that job is lost)."""
    jobs.enqueue("notifications.jobs.process_event", event.id, job_id=f"event-{event.id}")


def default_subscription(org: Organization, *, user: User) -> None:
    """A member of a supplier follows its declared categories (in the joining transaction)."""
    subscriptions.sync_default(org, user)


def to_inbox(_org: Organization, *, user_id: int, key: str, payload: dict, mail_id: int) -> None:
    """An operator's decision that was mailed to a member also lands in the member's inbox."""
    delivery.add_to_inbox(user_id, "accreditation.decided", key, payload, mail_id)


def report_damaged_file(_sender, *, sha256: str, problem: str, where: str) -> int:
    """Mail every operator about a missing or damaged stored file, once a day per file and
    operator (the Message-ID says which); returns the number of mails queued."""
    day = clock.now().date().isoformat()
    operators = db.session.execute(
        select(User).where(
            User.is_operator.is_(True),
            User.disabled.is_(False),
            User.email_confirmed_at.is_not(None),
        )
    ).scalars()
    queued = 0
    for user in operators:
        message_id = f"<file-{problem}.{sha256[:24]}.{day}.{user.id}@tenders.local>"
        known = select(OutgoingEmail.id).where(OutgoingEmail.message_id == message_id)
        if db.session.execute(known).first():
            continue
        try:
            with db.session.begin_nested(), force_locale(recipient_language(user)):
                subject = (
                    _("A stored file is damaged: %(where)s", where=where)
                    if problem == "damaged"
                    else _("A stored file is missing: %(where)s", where=where)
                )
                queue_mail(
                    user.email,
                    "file_damaged",
                    subject=subject[:300],
                    user_id=user.id,
                    message_id=message_id,
                    sha256=sha256,
                    problem=problem,
                    where=where,
                )
            queued += 1
        except IntegrityError:
            pass  # a concurrent request reported it first
    return queued
