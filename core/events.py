"""Domain events: what happened, recorded in the transaction of the change, and the handlers
that react to it.

A domain publishes with `record_event(kind, tender_id, payload)`: the event is written to the
`domain_events` table (the outbox) in the caller's transaction, and every handler registered
for its kind (and every handler of "*") is called at once, in that same transaction. A
handler that must act after the commit does so the usual way (`core.jobs.enqueue`, or
`core.transaction.after_commit`), so a rollback leaves no trace of it.

Handlers are registered per application when it is created (`on(app, kind, handler)`, from
`notifications.handlers.register` and `reports.handlers.register`), so no domain imports the
packages that react to it, and core imports none of them. Exception policy: an exception
raised by a handler propagates to the publisher, whose transaction is then rolled back (the
change and its event together); what a handler deferred until after the commit is logged
and never undoes the commit (core.transaction.commit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.extensions import db
from core.types import UTCDateTime

ANY = "*"  # a handler of every kind


class DomainEvent(db.Model):
    """Something participants may be told about (tender amended, question answered...),
    recorded in the transaction of the change; its handlers react to it."""

    __tablename__ = "domain_events"
    __table_args__ = (Index("ix_domain_events_pending", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    tender_id: Mapped[int | None] = mapped_column(ForeignKey("tenders.id"), index=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


Handler = Callable[[DomainEvent], None]


def init_app(app: Flask) -> None:
    """An empty registry of handlers for this application."""
    app.extensions["event_handlers"] = {}


def on(app: Flask, kind: str, handler: Handler) -> None:
    """Call `handler(event)` for every event of `kind` ("*": of every kind) recorded while
    `app` is the current application, in the publisher's transaction, in the order of
    registration. Registering the same handler twice for a kind registers it once."""
    handlers = app.extensions["event_handlers"].setdefault(kind, [])
    if handler not in handlers:
        handlers.append(handler)


def handlers_of(kind: str) -> list[Handler]:
    """The handlers an event of `kind` calls, in order: those of every kind first."""
    registry = current_app.extensions.get("event_handlers", {})
    return [*registry.get(ANY, ()), *registry.get(kind, ())]


def record_event(kind: str, tender_id: int | None, payload: dict | None = None) -> DomainEvent:
    """Record something that happened, in the caller's transaction, and call its handlers."""
    event = DomainEvent(kind=kind, tender_id=tender_id, payload=payload or {})
    db.session.add(event)
    db.session.flush()
    _dispatch(event)
    return event


def recorded(event_id: int, kind: str, tender_id: int | None, payload: dict | None) -> None:
    """Call the handlers of an event that was written by other means (in SQL, by the one-call
    bid accept on PostgreSQL), in the current transaction."""
    _dispatch(DomainEvent(id=event_id, kind=kind, tender_id=tender_id, payload=payload or {}))


def _dispatch(event: DomainEvent) -> None:
    for handler in handlers_of(event.kind):
        handler(event)
