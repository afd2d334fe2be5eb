"""Notification jobs: deliver events, relay what an outage held back, remind,
mail the daily digests, push unread counters."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from core import live, mail
from core.extensions import db
from core.transaction import commit, rollback
from notifications import delivery
from notifications.models import Notification

log = logging.getLogger(__name__)


# The outbox's jobs are core.mail's; these names stay for mail jobs queued before they moved
# and for operators (`flask jobs run notifications.jobs.relay_outbox`, the sweeper's name).
send_email = mail.send_email
send_emails = mail.send_emails
relay_outbox = mail.relay_outbox


def process_event(event_id: int) -> bool:
    """Deliver one domain event: its notifications and mails, in one transaction."""
    done = delivery.process_event(event_id)
    commit()
    return done


def relay_events() -> int:
    """Deliver events whose job was lost (Redis outage, crash); returns how many. One event
    that fails is logged and left for the next sweep; it does not hold back the others."""
    count = 0
    for event_id in delivery.stale_event_ids():
        try:
            count += process_event(event_id)
        except Exception:
            rollback()
            log.exception("delivering domain event %s failed; retried at the next sweep", event_id)
    return count


def send_reminders() -> int:
    """Deadline reminders (24 h and 1 h); safe to run as often as wanted."""
    count = delivery.send_reminders()
    commit()
    return count


def send_digests() -> int:
    """The daily digest mails whose time has come."""
    count = delivery.send_digests()
    commit()
    return count


def push_unread(*user_ids: int) -> int:
    """Push the unread counter to each user's open pages."""
    counts = dict(
        db.session.execute(
            select(Notification.user_id, func.count())
            .where(
                Notification.user_id.in_(user_ids),
                Notification.in_inbox.is_(True),
                Notification.read_at.is_(None),
            )
            .group_by(Notification.user_id)
        ).all()
    )
    for user_id in user_ids:
        live.emit_now("notification", {"unread": counts.get(user_id, 0)}, live.user_room(user_id))
    return len(user_ids)
