"""How reports react to domain events, registered when the app is created: published or
corrected results get their signed protocol, produced by a job after the commit."""

from __future__ import annotations

from flask import Flask

from core import events
from core.events import DomainEvent
from reports.jobs import enqueue_protocol

PROTOCOL_EVENTS = ("tender.results_published", "tender.results_corrected")


def register(app: Flask) -> None:
    """Connect the handlers (idempotent)."""
    for kind in PROTOCOL_EVENTS:
        events.on(app, kind, protocol)


def protocol(event: DomainEvent) -> None:
    """Produce the protocol (the next version, after a correction) once the results commit."""
    enqueue_protocol(event.tender_id)
