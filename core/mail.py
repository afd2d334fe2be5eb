"""The mail outbox: a mail is stored in the transaction that causes it (`queue_mail`) and
sent by a job after the commit, at least once (docs/capacity.md); its jobs send it, retry it
with backoff and relay what an outage held back. Any package may queue mail; what a mail
says is the caller's template (templates/mail/)."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app, render_template
from sqlalchemy import JSON, ForeignKey, Index, String, Text, and_, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from core import clock, jobs
from core.extensions import db
from core.http import base_url
from core.i18n import default_language, supported
from core.mail_rules import SENDING_LEASE, may_send, next_state, retry_delay
from core.transaction import commit
from core.types import UTCDateTime

MAIL_STATUSES = ("pending", "sent", "failed")


class OutgoingEmail(db.Model):
    """One email and its delivery state."""

    __tablename__ = "outgoing_emails"
    __table_args__ = (Index("ix_outgoing_emails_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


log = logging.getLogger(__name__)

SEND_JOB = "core.mail.send_email"
SEND_BATCH_JOB = "core.mail.send_emails"

# A pending mail whose job should have run this long ago is handed to the queue again.
STALE_AFTER = 120


def recipient_language(user) -> str:
    """The language of a mail to a user (a User, or its users.locale value): the user's
    setting, else the platform's default (Russian). Render and word the mail inside
    `flask_babel.force_locale(recipient_language(user))`, subject included."""
    locale = user if isinstance(user, str) or user is None else getattr(user, "locale", None)
    return supported(locale) or default_language()


def queue_mail(
    to: str,
    template: str,
    *,
    subject: str,
    user_id: int | None = None,
    headers: dict | None = None,
    message_id: str | None = None,
    **context,
) -> OutgoingEmail:
    """Render mail/<template>.txt and .html and store the mail; it is sent after the commit."""
    context.setdefault("base_url", base_url())
    mail = OutgoingEmail(
        message_id=message_id or make_msgid(idstring=uuid.uuid4().hex[:12], domain="tenders.local"),
        user_id=user_id,
        to_addr=to,
        subject=subject,
        text_body=render_template(f"mail/{template}.txt", subject=subject, **context),
        html_body=render_template(f"mail/{template}.html", subject=subject, **context),
        headers=headers or {},
        kind=template,
        next_attempt_at=clock.now(),
    )
    db.session.add(mail)
    db.session.flush()
    jobs.enqueue(SEND_JOB, mail.id, queue="emails", job_id=f"mail-{mail.id}")
    return mail


def build_message(mail: OutgoingEmail) -> EmailMessage:
    """The MIME message of a stored mail (multipart text + HTML)."""
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    msg["To"] = mail.to_addr
    msg["Subject"] = mail.subject
    msg["Message-ID"] = mail.message_id
    msg["Date"] = format_datetime(mail.created_at)
    for name, value in (mail.headers or {}).items():
        msg[name] = value
    msg.set_content(mail.text_body)
    msg.add_alternative(mail.html_body, subtype="html")
    return msg


def transmit(msg: EmailMessage) -> None:
    """Hand a message to SMTP, or write it to instance/mail when no server is configured."""
    cfg = current_app.config
    if not cfg.get("MAIL_SERVER"):
        folder = Path(current_app.instance_path) / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        name = msg["Message-ID"].strip("<>").replace("@", "_")
        (folder / f"{name}.eml").write_bytes(bytes(msg))
        return
    smtp_class = smtplib.SMTP_SSL if cfg["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_class(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"]) as smtp:
        if cfg["MAIL_USE_TLS"]:
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        smtp.send_message(msg)


def take(mail_id: int) -> EmailMessage | None:
    """Mark a mail "sending" until SENDING_LEASE from now, to be committed before SMTP is
    called; returns its message, or None when it is not to be sent now (sent, failed, taken
    by another worker, missing). Two workers never both take it: the update names the state
    it read. See docs/capacity.md: delivery is at least once."""
    now = clock.now()
    mail = db.session.get(OutgoingEmail, mail_id, populate_existing=True)
    if mail is None or not may_send(mail.status, mail.next_attempt_at, now):
        return None
    if mail.status == "sending":
        log.warning(
            "mail %s: the outcome of try %s is unknown (its worker stopped before recording "
            "it); sending again with the same Message-ID %s",
            mail.id,
            mail.attempts,
            mail.message_id,
        )
    taken = db.session.execute(
        update(OutgoingEmail)
        .where(
            OutgoingEmail.id == mail.id,
            OutgoingEmail.status == mail.status,
            OutgoingEmail.attempts == mail.attempts,
        )
        .values(status="sending", attempts=mail.attempts + 1, next_attempt_at=now + SENDING_LEASE)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        return None
    return build_message(mail)


def send(message: EmailMessage) -> str | None:
    """Hand a taken mail to SMTP (no database work); the error, or None once accepted."""
    try:
        transmit(message)
    except (OSError, smtplib.SMTPException) as exc:
        return f"{type(exc).__name__}: {exc}"[:2000]
    return None


def record(mail_id: int, error: str | None) -> str | None:
    """Record the outcome of a try: sent, or pending again (retried with backoff), or failed
    after the last try; returns the new status (None: the mail was deleted meanwhile)."""
    mail = db.session.get(OutgoingEmail, mail_id, populate_existing=True)
    if mail is None:
        return None
    if error is None:
        mail.status, mail.sent_at, mail.last_error = "sent", clock.now(), None
        return mail.status
    mail.last_error = error
    mail.status = next_state(mail.attempts, current_app.config["MAIL_MAX_ATTEMPTS"])
    if mail.status == "pending":
        mail.next_attempt_at = clock.now() + retry_delay(mail.attempts)
        jobs.enqueue(
            SEND_JOB,
            mail.id,
            queue="emails",
            job_id=f"mail-{mail.id}",
            at=mail.next_attempt_at,
        )
    return mail.status


def status_of(mail_id: int) -> str | None:
    """The delivery state of a mail (None if there is no such mail)."""
    return db.session.execute(
        select(OutgoingEmail.status).where(OutgoingEmail.id == mail_id)
    ).scalar_one_or_none()


def stale_mail_ids(limit: int = 500) -> list[int]:
    """Mails whose job is overdue (lost in a Redis outage, or never enqueued) and mails
    whose sending lease ran out (the worker died between SMTP and recording it)."""
    cutoff = clock.now() - dt.timedelta(seconds=STALE_AFTER)
    return list(
        db.session.execute(
            select(OutgoingEmail.id)
            .where(
                or_(
                    and_(
                        OutgoingEmail.status == "pending",
                        OutgoingEmail.next_attempt_at <= cutoff,
                    ),
                    # taken, and its worker stopped before recording the outcome
                    and_(
                        OutgoingEmail.status == "sending",
                        OutgoingEmail.next_attempt_at <= clock.now(),
                    ),
                )
            )
            .order_by(OutgoingEmail.id)
            .limit(limit)
        ).scalars()
    )


def retry_failed(mail_id: int) -> OutgoingEmail | None:
    """Operator: put a failed mail back in the queue."""
    mail = db.session.get(OutgoingEmail, mail_id)
    if mail is None or mail.status != "failed":
        return None
    mail.status = "pending"
    mail.attempts = 0
    mail.next_attempt_at = clock.now()
    jobs.enqueue(SEND_JOB, mail.id, queue="emails", job_id=f"mail-{mail.id}")
    return mail


# -- jobs ----------------------------------------------------------------------------------------


def send_email(mail_id: int) -> str | None:
    """Send one stored mail: marked "sending" in a first transaction, handed to SMTP with no
    transaction open, its outcome recorded in a second. A worker dying in between leaves it
    "sending": the relay sends it again once its lease runs out (same Message-ID)."""
    message = take(mail_id)
    commit()
    if message is None:
        status = status_of(mail_id)
        commit()
        return status
    status = record(mail_id, send(message))
    commit()
    return status


def send_emails(*mail_ids: int) -> int:
    """Send a batch of stored mails, each in its own transaction; returns how many were sent."""
    sent = 0
    for mail_id in mail_ids:
        sent += send_email(mail_id) == "sent"
    return sent


def relay_outbox() -> int:
    """Hand overdue pending mails to the queue again; return how many."""
    ids = stale_mail_ids()
    for mail_id in ids:
        jobs.enqueue_now(SEND_JOB, mail_id, queue="emails", job_id=f"mail-{mail_id}")
    return len(ids)
