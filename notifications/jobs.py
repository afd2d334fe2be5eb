"""Mail jobs: send one mail; relay the outbox (periodic sweeper)."""

from __future__ import annotations

from core import jobs
from core.transaction import commit
from notifications import service


def send_email(mail_id: int) -> str | None:
    """Send one stored mail (idempotent)."""
    status = service.deliver(mail_id)
    commit()
    return status


def relay_outbox() -> int:
    """Hand overdue pending mails to the queue again; return how many."""
    ids = service.stale_mail_ids()
    for mail_id in ids:
        jobs.enqueue_now(
            "notifications.jobs.send_email", mail_id, queue="emails", job_id=f"mail-{mail_id}"
        )
    return len(ids)
