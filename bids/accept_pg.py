"""PostgreSQL: a first bid or a revision of an active bid stored in one call of
bid_accept_revision() (migrations 0014 and 0017, called through bid_accept_and_price() of 0015,
which also reads what the live push tells), so that the tender row is locked only while the
database runs it.

On the locked path (bids/service.py) the web process holds the tender lock across a dozen
round trips, and while it waits for its turn in a busy process every other bidder on the
tender waits too. Here the service decides with the pure rule from the deadline it read,
and the function stores that decision only if the tender (status, deadline, extensions),
the bid (revision count, last hash; for a first bid, the number of bids so far) and the
tender's audit chain are still as read, and the chain's last event is not later than the
revision's moment (migration 0017: the chain's order is the order of its moments).
Otherwise it writes nothing and answers "deadline_moved" (another change extended it: the
service decides again from the deadline named), "moment_passed" (another event came first
with a later moment: the service takes the moment again under the tender lock), "bids_moved"
(another new participant took the number: the service numbers the bid again), or "conflict"
/ "bid_changed" (the service falls back to the locked path). A
withdrawn bid coming back, tenders with a triggering rank and very large revisions always
take the locked path.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import NamedTuple

from flask import current_app
from sqlalchemy import text
from sqlalchemy.orm.attributes import set_committed_value

from audit.rules import EventRecord, hash_prefix, payload_hash
from bids.models import Bid, BidRevision, BidRevisionDocument, OrganizationDocument
from core.extensions import db
from core.transaction import dialect, execute_alone
from tenders.models import Tender

MAX_LINES = 1000  # larger revisions go through COPY on the locked path

_CALL = text("SELECT bid_accept_and_price(CAST(:p AS jsonb))")
_NEXT_REVISION_ID = text("SELECT nextval(pg_get_serial_sequence('bid_revisions', 'id'))")
_NEXT_BID_ID = text("SELECT nextval(pg_get_serial_sequence('bids', 'id'))")


class Event(NamedTuple):
    """An audit event to append to the tender's chain."""

    action: str
    object_type: str
    object_id: int
    payload: dict


class Stored(NamedTuple):
    """What the call did: stored a revision (its id, the tender.extended domain event if
    the deadline moved, and what watchers are told as of that moment: the number of active
    bids and the best prices asked for), or nothing; then the deadline and extensions it
    found if only they had moved, the number of bids if another new participant came
    first, or moment_passed if the tender's chain has a later event than the moment."""

    revision_id: int | None
    event_id: int | None = None
    participants: int | None = None
    best: dict[str, Decimal | None] | None = None
    deadline: dt.datetime | None = None
    extensions: int | None = None
    bids: int | None = None
    moment_passed: bool = False
    seq: int | None = None  # the tender's audit chain as it stands after the call


def usable(tender: Tender, bid: Bid | None, lines: int) -> bool:
    """Whether this revision may be stored in one call: a first bid or a revision of an
    active bid (a withdrawn bid coming back takes the locked path)."""
    return (
        (bid is None or (bid.status == "active" and bid.revision_count > 0))
        and not tender.extension_trigger_rank  # the rank needs every offer under the lock
        and lines <= MAX_LINES
        and current_app.config["BIDS_ONE_CALL_ACCEPT"]
        and dialect() == "postgresql"
    )


def next_revision_id() -> int:
    """A revision id taken ahead (the extension's audit event names it)."""
    return db.session.execute(_NEXT_REVISION_ID).scalar_one()


def next_bid_id() -> int:
    """A bid id taken ahead (the audit event of a first bid names it)."""
    return db.session.execute(_NEXT_BID_ID).scalar_one()


def store(
    tender: Tender,
    bid: Bid,
    now: dt.datetime,
    rows,  # bids.service.Rows
    attached: list[OrganizationDocument],
    events: list[Event],
    actor: dict,
    extension: dict | None,
    best_of: list[str] | None = None,
    alone: bool = True,
) -> Stored:
    """Store the accepted revision and its audit events, if nothing moved meanwhile; with
    best_of, read the best price of those positions once it is stored. alone: as a
    transaction of its own (committed by the database); else in the session's transaction
    (which holds the tender lock already), for the caller to commit."""
    chain = f"tender:{tender.id}"
    revision = rows.revision
    params = {
        "tender_id": tender.id,
        "expected_deadline": tender.bid_deadline.isoformat(),
        "expected_extensions": tender.extensions_count,
        "accepted_at": now.isoformat(),
        "bid_id": bid.id,
        "chain": chain,
        "revision": {
            **{k: v for k, v in revision.items() if k != "accepted_at"},
            "deadline_before": revision["deadline_before"].isoformat(),
            "deadline_after": revision["deadline_after"].isoformat(),
            "total": str(revision["total"]),
        },
        "lines": [
            [
                line["position_id"],
                line["position_number"],
                str(line["unit_price"]),
                str(line["total"]),
                line["note"],
            ]
            for line in rows.lines
        ],
        "criteria": [list(c) for c in rows.criteria],
        "documents": [[d.id, d.filename, d.sha256] for d in attached],
        "events": [_event(chain, now, e, actor) for e in events],
    }
    if bid.revision_count == 0:  # a first bid: the call inserts it, numbered as expected
        params["new_bid"] = {
            "organization_id": bid.organization_id,
            "participant_number": bid.participant_number,
        }
    if extension is not None:
        params["extension"] = {
            "deadline": revision["deadline_after"].isoformat(),
            "event": extension,
        }
    if best_of is not None:
        params["best_of"] = best_of
    call = {"p": json.dumps(params)}
    ((result,),) = execute_alone(_CALL, call) if alone else db.session.execute(_CALL, call).all()
    if result["status"] == "ok":
        best = None
        if best_of is not None:
            found = result["best"]
            best = {n: Decimal(found[n]) if n in found else None for n in best_of}
        return Stored(
            result["revision_id"],
            result.get("event_id"),
            result["participants"],
            best,
            seq=result.get("seq"),
        )
    if result["status"] == "bids_moved":
        return Stored(None, bids=result["bids"])
    if result["status"] == "moment_passed":
        return Stored(None, moment_passed=True)
    if result["status"] == "deadline_moved":
        moved = dt.datetime.fromisoformat(result["deadline"]).astimezone(dt.UTC)
        return Stored(None, deadline=moved, extensions=result["extensions"])
    return Stored(None)


def _event(chain: str, now, e: Event, actor: dict) -> dict:
    digest = payload_hash(e.payload)
    record = EventRecord(
        chain=chain,
        seq=0,  # the function appends seq and prev: hash_prefix leaves them out
        occurred_at=now,
        actor_user_id=actor["user"],
        actor_org_id=actor["org"],
        action=e.action,
        object_type=e.object_type,
        object_id=str(e.object_id),
        payload=e.payload,
        payload_hash=digest,
        prev_hash="",
    )
    return {
        "action": e.action,
        "object_type": e.object_type,
        "object_id": str(e.object_id),
        "actor_user_id": actor["user"],
        "actor_org_id": actor["org"],
        "payload": e.payload,
        "payload_hash": digest,
        "hash_prefix": hash_prefix(record),
    }


def revision_object(revision_id: int, rows, attached: list[OrganizationDocument]) -> BidRevision:
    """The stored revision as an object for the response (not read back, not in the session)."""
    revision = BidRevision(id=revision_id, **{k: v for k, v in rows.revision.items() if k != "id"})
    documents = [
        BidRevisionDocument(
            revision_id=revision_id, document_id=d.id, name=d.filename, sha256=d.sha256
        )
        for d in sorted(attached, key=lambda d: d.filename)
    ]
    set_committed_value(revision, "documents", documents)  # known: no query for the response
    return revision
