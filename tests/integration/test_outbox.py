"""Mail is stored with its cause and survives SMTP and Redis outages."""

import datetime as dt

from core import clock, jobs
from core.mail import OutgoingEmail, queue_mail
from core.transaction import commit
from notifications import jobs as mail_jobs
from tests.factories import make_user


def _queue(user):
    return queue_mail(
        user.email,
        "confirm_email",
        subject="Confirm your email",
        user_id=user.id,
        user=user,
        link="http://localhost/confirm/x",
    )


def test_mail_is_sent_after_commit_with_text_and_html(app, ctx, db, mailbox):
    user = make_user()
    mail = _queue(user)
    assert mailbox.to(user.email) == []  # nothing leaves before the commit
    commit()
    [msg] = mailbox.to(user.email)
    assert msg["Message-ID"].strip() == mail.message_id
    assert "http://localhost/confirm/x" in msg.get_body(("plain",)).get_content()
    assert "Confirm my email" in msg.get_body(("html",)).get_content()
    assert db.session.get(OutgoingEmail, mail.id).status == "sent"


def test_rolled_back_cause_sends_nothing(app, ctx, db, mailbox):
    from core.transaction import rollback

    user = make_user()
    commit()
    _queue(user)
    rollback()
    assert mailbox.to(user.email) == []


def test_smtp_outage_delays_mail_then_delivers(app, ctx, db, mailbox):
    user = make_user()
    app.config["MAIL_PORT"], real_port = 1, app.config["MAIL_PORT"]  # nothing listens on port 1
    try:
        mail = _queue(user)
        commit()
        db.session.refresh(mail)
        assert (mail.status, mail.attempts) == ("pending", 1)
        assert "ConnectionRefusedError" in mail.last_error
        assert mail.next_attempt_at > clock.now()
    finally:
        app.config["MAIL_PORT"] = real_port
    clock.advance(dt.timedelta(minutes=5))
    assert app.extensions["jobs"].run_due() >= 1
    db.session.refresh(mail)
    assert mail.status == "sent" and mail.attempts == 2
    assert len(mailbox.to(user.email)) == 1


def test_mail_fails_visibly_after_the_last_try(app, ctx, db, mailbox):
    user = make_user()
    app.config["MAIL_PORT"], real_port = 1, app.config["MAIL_PORT"]
    try:
        mail = _queue(user)
        commit()
        for _ in range(app.config["MAIL_MAX_ATTEMPTS"]):
            clock.advance(dt.timedelta(hours=7))
            app.extensions["jobs"].run_due()
        db.session.refresh(mail)
        assert mail.status == "failed"
        assert mail.attempts == app.config["MAIL_MAX_ATTEMPTS"]
    finally:
        app.config["MAIL_PORT"] = real_port


def test_redis_outage_loses_no_mail(app, ctx, db, mailbox):
    """With RQ unreachable the mail stays pending; the relay hands it over later."""
    user = make_user()
    eager = app.extensions["jobs"]
    app.extensions["jobs"] = jobs.RQBackend("redis://127.0.0.1:1/0")  # Redis down
    try:
        mail = _queue(user)
        commit()  # the enqueue fails after the commit; the mail row is stored
        db.session.refresh(mail)
        assert mail.status == "pending" and mail.attempts == 0
    finally:
        app.extensions["jobs"] = eager
    clock.advance(dt.timedelta(minutes=5))
    assert mail_jobs.relay_outbox() >= 1
    db.session.refresh(mail)
    assert mail.status == "sent"
    assert len(mailbox.to(user.email)) == 1


def test_sending_twice_sends_once(app, ctx, db, mailbox):
    user = make_user()
    mail = _queue(user)
    commit()
    assert mail_jobs.send_email(mail.id) == "sent"
    assert len(mailbox.to(user.email)) == 1


def test_without_smtp_mail_is_written_to_the_instance_folder(app, ctx, db, tmp_path):
    from pathlib import Path

    user = make_user()
    app.config["MAIL_SERVER"], server = None, app.config["MAIL_SERVER"]
    try:
        mail = _queue(user)
        commit()
    finally:
        app.config["MAIL_SERVER"] = server
    name = mail.message_id.strip("<>").replace("@", "_") + ".eml"
    path = Path(app.instance_path) / "mail" / name
    assert path.exists() and user.email in path.read_text()
