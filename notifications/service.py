"""Queueing mail in the outbox and delivering it."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app, render_template
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from accounts.models import User
from core import clock, files, jobs
from core.extensions import db
from core.http import base_url
from notifications.models import DomainEvent, OutgoingEmail
from notifications.rules import SENDING_LEASE, may_send, next_state, retry_delay

log = logging.getLogger(__name__)

# A pending mail whose job should have run this long ago is handed to the queue again.
STALE_AFTER = 120


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
    jobs.enqueue("notifications.jobs.send_email", mail.id, queue="emails", job_id=f"mail-{mail.id}")
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


def record(mail_id: int, error: str | None) -> str:
    """Record the outcome of a try: sent, or pending again (retried with backoff), or failed
    after the last try; returns the new status."""
    mail = db.session.get(OutgoingEmail, mail_id, populate_existing=True)
    if error is None:
        mail.status, mail.sent_at, mail.last_error = "sent", clock.now(), None
        return mail.status
    mail.last_error = error
    mail.status = next_state(mail.attempts, current_app.config["MAIL_MAX_ATTEMPTS"])
    if mail.status == "pending":
        mail.next_attempt_at = clock.now() + retry_delay(mail.attempts)
        jobs.enqueue(
            "notifications.jobs.send_email",
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
    jobs.enqueue("notifications.jobs.send_email", mail.id, queue="emails", job_id=f"mail-{mail.id}")
    return mail


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
            with db.session.begin_nested():
                queue_mail(
                    user.email,
                    "file_damaged",
                    subject=f"A stored file is {problem}: {where}"[:300],
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


files.damaged.connect(report_damaged_file)


def record_event(kind: str, tender_id: int | None, payload: dict | None = None) -> None:
    """Record something participants should hear about, in the caller's transaction; it is
    delivered by a job after the commit (or by the relay if that job is lost)."""
    event = DomainEvent(kind=kind, tender_id=tender_id, payload=payload or {})
    db.session.add(event)
    db.session.flush()
    deliver_event(event.id)


def deliver_event(event_id: int) -> None:
    """Deliver a recorded event by a job once the current transaction commits."""
    jobs.enqueue("notifications.jobs.process_event", event_id, job_id=f"event-{event_id}")
