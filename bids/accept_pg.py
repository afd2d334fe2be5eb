"""PostgreSQL: a first bid or a revision of an active bid stored in one call of
bid_accept_revision() (its SQL in bids/sql/, installed by migrations 0014 and 0017, called
through bid_accept_and_price() of 0015, which also reads what the live push tells), so that
the tender row is locked only while the database runs it. One door: try_accept() decides,
stores (retrying, or under the lock with its wait bounds and no green-thread switch) and
answers an Accepted, or None for the locked path; bids/service.py then tells the watchers.

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

import contextlib
import datetime as dt
import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from flask import current_app
from sqlalchemy import text

from audit.rules import EventRecord, hash_prefix, payload_hash
from bids import caches, rules
from bids.accepting import (
    AcceptedRevision,
    Rows,
    Signed,
    accepted_rows,
    bids_so_far,
    extension_event,
    policy_of,
    revision_event,
)
from bids.models import Bid, OrganizationDocument
from core import clock
from core.chains import tender_chain
from core.extensions import db
from core.transaction import (
    LockWaitTooLong,
    commit,
    dialect,
    execute_alone,
    lock,
    lock_waits_at_most,
    rollback,
    without_yielding,
)
from tenders.models import Tender

MAX_LINES = 1000  # larger revisions go through COPY on the locked path
# How many times a revision stored in one call is stamped before the lock is taken for it:
# a moment the chain passed (chains keep their moments in order: migration 0017) is taken
# again without holding the lock across round trips, as the lock would block every bidder.
ONE_CALL_TRIES = 3
# How long the section under the lock (_under_lock) waits for a lock with the whole process.
# The tender lock is held by the same section of other processes for a few round trips: a
# longer wait means a holder that takes its time (a large CSV revision on the locked path) or
# a green thread of this very process that cannot run while the process waits.
LOCK_WAIT_MS = 50
# After such a wait, this process waits for that tender's lock cooperatively for a while
# (bounded by LOCK_WAIT_COOPERATIVE_MS; caches.BUSY_UNTIL), and the rest of the section still
# does not yield.
BUSY_SECONDS = 1.0
LOCK_WAIT_COOPERATIVE_MS = 250

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


@dataclass(frozen=True)
class Accepted:
    """A revision try_accept() stored and committed: what the bidder is shown, and what the
    watchers are told after the commit, as of the moment it was stored."""

    revision: AcceptedRevision
    tender: Tender  # as read (or as locked): its id and visibility for the pushes
    bid: Bid  # its participant number for the pushes; not in the session if new
    new_bid: bool
    now: dt.datetime
    participants: int | None  # the active bids
    best: dict[str, Decimal | None] | None  # the best prices of the positions asked for
    seq: int | None  # the tender's audit chain as it stands after the call
    extension: dict | None  # the tender.extended payload, if the deadline moved
    event_id: int | None  # its domain event


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
    rows: Rows,
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
    chain = tender_chain(tender.id)
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
            "responsible_id": bid.responsible_id,
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


# -- one door: decide, store, retry or lock -------------------------------------------------


def try_accept(
    tender: Tender, bid: Bid | None, signed: Signed, best_of: list[str] | None
) -> Accepted | None:
    """A first bid or a revision of an active bid (usable() said so): decide with the pure
    rule and store it all in one call of bid_accept_revision(), committed.

    A revision that leaves the deadline alone is decided from the deadline read before and
    stored in one call that commits by itself, holding the tender lock only inside the
    database. One that moves the deadline (in the window, where every bidder's change moves
    it, so that concurrent ones would each find it moved), or one that found it moved or its
    participant number taken, is decided under the lock: lock the tender row, decide from
    the deadline it holds, make the same call in that transaction, commit (three round trips
    under the lock, where the locked path takes a dozen). best_of: the positions whose best
    price the call reads for the push. None: the bid or the tender moved otherwise, or the
    rule refuses (the locked path then decides again and says why); nothing is stored."""
    new_bid = bid is None
    bid = bid or _first_bid(tender, signed.org, signed.user.id)
    done = _one_call_or_under_lock(tender, bid, signed, new_bid, best_of)
    if done is None:
        return None
    tender, stored, rows, extension, now, decision = done
    deadline, extensions = tender.bid_deadline, tender.extensions_count
    # The call wrote behind the session: what it holds of these is no longer so.
    if bid in db.session:
        db.session.expire(bid, ["revision_count", "last_hash"])
    if extension is not None:
        deadline, extensions = decision.deadline, extensions + 1
        db.session.expire(tender, ["bid_deadline", "extensions_count"])
    columns = {**rows.revision, "id": stored.revision_id}
    shown = AcceptedRevision.of(columns, signed.attached, tender, signed.org, deadline, extensions)
    return Accepted(
        shown,
        tender,
        bid,
        new_bid,
        now,
        stored.participants,
        stored.best,
        stored.seq,
        extension,
        stored.event_id,
    )


def _one_call_or_under_lock(
    tender: Tender, bid: Bid, signed: Signed, new_bid: bool, best_of: list[str] | None
) -> tuple | None:
    """(tender, stored, rows, extension, now, decision) once stored (see try_accept); None if
    the locked path must decide. A moment the tender's chain passed meanwhile (another
    revision, stamped later, was stored first) is taken again, up to ONE_CALL_TRIES times."""
    revision_id = None
    for _ in range(ONE_CALL_TRIES):
        now, decision = _decided(tender, bid if new_bid else None, signed)
        if decision is None:
            return None
        if decision.extended:
            revision_id = next_revision_id()  # taken ahead, not under the lock
            break
        stored, rows, extension = _store_in_one_call(tender, bid, signed, now, decision, best_of)
        if stored.revision_id is not None:
            return tender, stored, rows, extension, now, decision
        if stored.deadline is not None or stored.bids is not None:
            break
        if not stored.moment_passed:
            return None  # the bid, the status or the chain moved: the locked path decides
    # Another change moved the deadline, or another new participant took the number, or
    # another event came first with a later moment: under the lock the deadline is re-read,
    # the bids are counted again and the moment is taken again.
    try:
        done = _under_lock(tender.id, bid, signed, new_bid, best_of, revision_id)
    except LockWaitTooLong:
        done = None
    if done is None:
        rollback()  # nothing stored, the lock and its timeout gone: the locked path decides
    return done


def _under_lock(
    tender_id: int,
    bid: Bid,
    signed: Signed,
    new_bid: bool,
    best_of: list[str] | None,
    revision_id: int | None,
) -> tuple | None:
    """Lock the tender row, decide from the deadline it holds and store the revision by the
    same call in that transaction, then commit: what _one_call_or_under_lock returns, or
    None (then roll back). Every bidder on the tender waits for this lock, so from its wait
    to the commit the process does nothing else (core.transaction.without_yielding): no
    green thread switch while the lock is held, which under load costs milliseconds per
    round trip, and at most one waiter per process, so no queue forms. Every lock wait is
    bounded (LOCK_WAIT_MS; then LockWaitTooLong, and the locked path waits cooperatively);
    after one, the tender's lock is waited for cooperatively for BUSY_SECONDS."""
    cooperative = (caches.BUSY_UNTIL.get(tender_id) or 0.0) > time.monotonic()
    bound = LOCK_WAIT_COOPERATIVE_MS if cooperative else LOCK_WAIT_MS
    try:
        # the bound is set cooperatively, and with it the session holds its connection
        with lock_waits_at_most(bound):
            with contextlib.nullcontext() if cooperative else without_yielding():
                tender = lock(Tender, tender_id)  # deadline, extensions, status as they are
            if tender is None or tender.status != "published":
                return None
            with without_yielding():
                if new_bid:
                    bid.participant_number = bids_so_far(tender) + 1
                now, decision = _decided(tender, bid if new_bid else None, signed)
                if decision is None:
                    return None
                stored, rows, extension = _store_in_one_call(
                    tender,
                    bid,
                    signed,
                    now,
                    decision,
                    best_of,
                    alone=False,
                    revision_id=revision_id,
                )
                if stored.revision_id is None:
                    return None
                commit(keep_loaded=True, run_hooks=False)  # stored: let the lock go now
    except LockWaitTooLong:
        caches.BUSY_UNTIL.put(tender_id, time.monotonic() + BUSY_SECONDS)
        raise
    return tender, stored, rows, extension, now, decision


def _decided(
    tender: Tender, new_bid: Bid | None, signed: Signed
) -> tuple[dt.datetime, rules.Decision | None]:
    """The moment and the rule's decision for a revision accepted now (None: the key is no
    longer usable or the rule refuses; the locked path says why)."""
    now = clock.now()
    if not signed.key.usable_at(now):
        return now, None
    if new_bid is not None:
        new_bid.first_bid_at = now
    decision = rules.decide(
        tender.bid_deadline,
        now,
        policy_of(tender),
        triggering=signed.triggering,
        rank=None,
        extensions_so_far=tender.extensions_count,
    )
    return now, decision if decision.accepted else None


def _first_bid(tender: Tender, org, responsible_id: int) -> Bid:
    """A first bid to store in one call (not in the session): its id taken ahead, its number
    as the bids so far say (the call checks it); its submitter is in charge of it."""
    return Bid(
        id=next_bid_id(),
        tender_id=tender.id,
        organization_id=org.id,
        responsible_id=responsible_id,
        participant_number=bids_so_far(tender) + 1,
        status="active",
        revision_count=0,
        last_hash=None,
    )


def _store_in_one_call(
    tender: Tender,
    bid: Bid,
    signed: Signed,
    now: dt.datetime,
    decision: rules.Decision,
    best_of: list[str] | None,
    alone: bool = True,
    revision_id: int | None = None,
) -> tuple[Stored, Rows, dict | None]:
    rows = accepted_rows(tender, bid, signed, now, decision)
    events = [Event("bid.revision_accepted", "bid", bid.id, revision_event(bid, rows))]
    extension = None
    if decision.extended:
        rows.revision["id"] = revision_id or next_revision_id()
        extension = extension_event(decision, now, tender.extensions_count + 1)
        payload = {**extension, "revision_id": rows.revision["id"]}
        events.append(Event("tender.extended", "tender", tender.id, payload))
    stored = store(
        tender,
        bid,
        now,
        rows,
        signed.attached,
        events,
        {"user": signed.user.id, "org": signed.org.id},
        {"number": tender.number, **extension} if extension else None,
        best_of,
        alone,
    )
    return stored, rows, extension
