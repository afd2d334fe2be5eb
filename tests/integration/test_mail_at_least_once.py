"""A mail is marked "sending" before SMTP and recorded after: a worker that dies in between
leaves it "sending", and it is sent again with the same Message-ID (at least once)."""

import datetime as dt
from email.utils import make_msgid

import pytest

from core import clock
from core import mail as outbox
from core.extensions import db as database
from core.mail import OutgoingEmail
from core.mail_rules import SENDING_LEASE
from core.transaction import commit, rollback
from tests.factories import make_user


def _stored_mail(user) -> OutgoingEmail:
    """A mail in the outbox whose job was lost (stored without enqueueing it)."""
    mail = OutgoingEmail(
        message_id=make_msgid(domain="tenders.local"),
        user_id=user.id,
        to_addr=user.email,
        subject="Bidding extended",
        text_body="The deadline moved.",
        html_body="<p>The deadline moved.</p>",
        headers={},
        kind="tender_event",
        next_attempt_at=clock.now(),
    )
    database.session.add(mail)
    commit()
    return mail


def test_a_crash_between_smtp_and_the_record_resends_with_the_same_id(
    app, ctx, db, mailbox, monkeypatch
):
    user = make_user()
    mail = _stored_mail(user)

    def worker_dies(mail_id, error):
        raise RuntimeError("worker killed after the SMTP server accepted the mail")

    monkeypatch.setattr(outbox, "record", worker_dies)
    with pytest.raises(RuntimeError):
        outbox.send_email(mail.id)
    rollback()  # what the dead worker had not committed is gone
    monkeypatch.undo()
    assert [m["Message-ID"] for m in mailbox.to(user.email)] == [mail.message_id]
    database.session.refresh(mail)
    assert (mail.status, mail.attempts) == ("sending", 1)

    # While its lease runs, neither a duplicate job nor the relay sends it again.
    assert outbox.send_email(mail.id) == "sending"
    assert mail.id not in outbox.stale_mail_ids()
    assert len(mailbox.to(user.email)) == 1

    clock.advance(SENDING_LEASE + dt.timedelta(seconds=1))
    assert mail.id in outbox.stale_mail_ids()
    outbox.relay_outbox()
    database.session.refresh(mail)
    assert (mail.status, mail.attempts) == ("sent", 2)
    assert [m["Message-ID"] for m in mailbox.to(user.email)] == [mail.message_id] * 2


def test_the_state_is_committed_before_smtp_is_called(app, ctx, db, mailbox, monkeypatch):
    user = make_user()
    mail = _stored_mail(user)
    seen = []

    def transmit(message):
        # While SMTP talks no transaction is open, and the stored state says "sending".
        seen.append(database.session().in_transaction())
        seen.append(
            database.session.execute(
                database.select(OutgoingEmail.status).where(OutgoingEmail.id == mail.id)
            ).scalar_one()
        )

    monkeypatch.setattr(outbox, "transmit", transmit)
    assert outbox.send_email(mail.id) == "sent"
    assert seen == [False, "sending"]


def test_a_mail_deleted_while_smtp_talks_is_not_an_error(app, ctx, db, mailbox, monkeypatch):
    """An operator (or a test's cleanup) may delete a mail while its job is at SMTP: the job
    finishes quietly instead of failing on the missing row."""
    user = make_user()
    mail = _stored_mail(user)
    mail_id, message_id = mail.id, mail.message_id
    real_transmit = outbox.transmit

    def transmit_then_delete(message):
        real_transmit(message)
        database.session.execute(database.delete(OutgoingEmail).where(OutgoingEmail.id == mail_id))
        commit()

    monkeypatch.setattr(outbox, "transmit", transmit_then_delete)
    assert outbox.send_email(mail_id) is None
    assert [m["Message-ID"] for m in mailbox.to(user.email)] == [message_id]
    assert outbox.status_of(mail_id) is None
