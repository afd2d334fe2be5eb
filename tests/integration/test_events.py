"""The registry of domain-event handlers (core/events.py): a handler runs in the publisher's
transaction, defers its side effects until the commit, and its exception aborts the change."""

import logging

import pytest
from flask import current_app

from core import events
from core.events import DomainEvent, record_event, recorded
from core.transaction import after_commit, commit, rollback
from notifications import handlers as notification_handlers
from reports import handlers as report_handlers


@pytest.fixture()
def registry(app):
    """The app's registry, put back as it was after the test."""
    saved = {kind: list(fns) for kind, fns in app.extensions["event_handlers"].items()}
    yield app
    app.extensions["event_handlers"].clear()
    app.extensions["event_handlers"].update(saved)


def test_the_app_registers_notifications_and_the_protocol(app):
    handlers = app.extensions["event_handlers"]
    assert handlers[events.ANY] == [notification_handlers.deliver_event]
    assert handlers["tender.results_corrected"] == [report_handlers.protocol]
    assert handlers["tender.results_published"] == [report_handlers.protocol]
    assert report_handlers.protocol not in handlers.get("tender.published", [])


def test_a_handler_runs_in_the_publishers_transaction(registry, ctx, db):
    seen = []

    def handler(event):
        # the row is flushed and visible in the same transaction, not yet committed
        stored = db.session.get(DomainEvent, event.id)
        seen.append((event.kind, event.payload, stored is event, db.session().in_transaction()))

    events.on(current_app, "test.happened", handler)
    events.on(current_app, "test.happened", handler)  # registered once
    events.on(current_app, "test.other", lambda e: seen.append("other"))
    event = record_event("test.happened", None, {"n": 1})
    assert seen == [("test.happened", {"n": 1}, True, True)]
    rollback()
    assert db.session.get(DomainEvent, event.id) is None  # the change and its event together


def test_handlers_of_every_kind_run_first(registry, ctx, db):
    order = []
    events.on(current_app, "test.happened", lambda e: order.append("kind"))
    events.on(current_app, events.ANY, lambda e: order.append("any"))
    record_event("test.happened", None)
    # notifications' handler of every kind came first, then this one, then the kind's
    assert order == ["any", "kind"]
    assert events.handlers_of("test.happened")[0] is notification_handlers.deliver_event


def test_what_a_handler_defers_runs_after_the_commit_only(registry, ctx, db):
    done = []
    events.on(current_app, "test.happened", lambda e: after_commit(done.append, e.id))
    event = record_event("test.happened", None)
    assert done == []
    commit()
    assert done == [event.id]
    record_event("test.happened", None)
    rollback()
    commit()
    assert done == [event.id]  # a rolled-back event defers nothing


def test_a_failing_handler_aborts_the_change(registry, ctx, db):
    def refuses(event):
        raise RuntimeError("no")

    events.on(current_app, "test.happened", refuses)
    with pytest.raises(RuntimeError):
        record_event("test.happened", None)
    rollback()
    assert db.session.query(DomainEvent).filter_by(kind="test.happened").count() == 0


def test_a_failing_deferred_effect_is_logged_and_the_commit_stays(registry, ctx, db, caplog):
    def fails():
        raise RuntimeError("Redis is down")

    events.on(current_app, "test.happened", lambda e: after_commit(fails))
    event = record_event("test.happened", None)
    with caplog.at_level(logging.ERROR, logger="core.transaction"):
        commit()
    assert "after-commit hook fails failed" in caplog.text
    assert db.session.get(DomainEvent, event.id) is not None


def test_an_event_written_in_sql_reaches_its_handlers(registry, ctx, db):
    seen = []
    events.on(current_app, "tender.extended", lambda e: seen.append((e.id, e.tender_id, e.payload)))
    recorded(41, "tender.extended", 7, {"number": "T-1"})
    assert seen == [(41, 7, {"number": "T-1"})]
    assert db.session.get(DomainEvent, 41) is None  # nothing new is written


def test_the_notifications_handler_delivers_after_the_commit(registry, ctx, db):
    event = record_event("test.happened", None)
    assert db.session.get(DomainEvent, event.id).processed_at is None
    commit()  # the eager job runs: no handler of this kind in delivery, marked processed
    db.session.expire_all()
    assert db.session.get(DomainEvent, event.id).processed_at is not None
