"""Submitting, revising and withdrawing bids: one transaction under the tender's row lock
decides acceptance and the deadline, stores the signed revision and its audit event.
Services flush; the entrypoint commits once."""

from __future__ import annotations

import base64
import collections
import contextlib
import datetime as dt
import functools
import time
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm.attributes import set_committed_value

from accounts.models import Organization, User
from accounts.service import require_accredited, require_member
from audit.service import record
from bids import accept_pg, documents, offers, rules
from bids.models import Bid, BidCriterionValue, BidLine, BidRevision, OrganizationDocument
from core import bulk, clock, live
from core.errors import Forbidden, Invalid, NotFound, Refused
from core.extensions import db
from core.lru import Bounded
from core.transaction import (
    LockWaitTooLong,
    after_commit,
    commit,
    lock,
    lock_waits_at_most,
    rollback,
    without_yielding,
)
from notifications.service import deliver_event, record_event
from positions import evaluation
from positions.models import Criterion, Position
from signatures import canonical
from signatures import service as signatures
from signatures.models import SigningKey
from signatures.payloads import receipt_payload, revision_payload, utc_timestamp
from tenders.models import Lot, Tender
from tenders.sockets import tender_room

CURRENCY_PLACES = 2


def policy_of(tender: Tender) -> rules.ExtensionPolicy:
    """The tender's extension policy as the pure rule reads it."""
    return rules.ExtensionPolicy(
        window=dt.timedelta(minutes=tender.extension_window_minutes),
        extension=dt.timedelta(minutes=tender.extension_minutes),
        mode=tender.extension_mode,
        trigger_rank=tender.extension_trigger_rank,
        max_extensions=tender.max_extensions,
        latest_close=tender.latest_close,
    )


# -- reading the tender and the offer -------------------------------------------------------


class _Specs:
    """The tender's lots as the pure rules see them, plus position ids by number."""

    def __init__(self, tender: Tender):
        self.version = (tender.id, tender.updated_at)
        rows = db.session.execute(
            select(
                Position.id,
                Position.lot_id,
                Position.number,
                Position.quantity,
                Position.max_unit_price,
            )
            .where(Position.tender_id == tender.id)
            .order_by(Position.sort_key)
        ).all()
        lots = db.session.execute(select(Lot).where(Lot.tender_id == tender.id)).scalars().all()
        criteria = (
            db.session.execute(
                select(Criterion)
                .join(Lot, Lot.id == Criterion.lot_id)
                .where(Lot.tender_id == tender.id)
            )
            .scalars()
            .all()
        )
        self.position_ids = {r.number: r.id for r in rows}
        self.quantities = {r.number: r.quantity for r in rows}
        self.kinds = {c.id: c.kind for c in criteria}
        by_lot: dict[int, list[rules.PositionSpec]] = {}  # one pass (50,000 rows, many lots)
        for r in rows:
            by_lot.setdefault(r.lot_id, []).append(
                rules.PositionSpec(r.number, r.quantity, r.max_unit_price)
            )
        self.lots = [
            rules.LotSpec(
                number=lot.number,
                award_mode=lot.award_mode,
                positions=tuple(by_lot.get(lot.id, ())),
                criteria=tuple(
                    rules.CriterionSpec(
                        c.id,
                        c.name,
                        c.kind,
                        c.required,
                        c.min_value,
                        c.max_value,
                        tuple(o.label for o in c.options),
                    )
                    for c in criteria
                    if c.lot_id == lot.id
                ),
            )
            for lot in sorted(lots, key=lambda lot: lot.number)
        ]


# The specs of recently bid-on tenders. A published tender's positions and criteria change
# only by an amendment, which moves `updated_at`, so (id, updated_at) names one version.
_SPECS_CACHE = Bounded(32)

# The latest offers of recently revised bids, by (bid, hash of the revision's signed payload,
# tender version): the payload commits to every line and criterion value, so an entry can
# never be stale. A revision accepted by this process is remembered, and the bid's next
# revision (its supplier's connection usually comes back to the same process) compares with
# it without reading it back. Small offers only: a large one is read when needed.
_OFFERS_CACHE = Bounded(4096)
_OFFERS_CACHE_LINES = 100


def forget_specs() -> None:
    """Empty the caches (tests roll back tenders, so an id and a time can come back)."""
    _SPECS_CACHE.clear()
    _OFFERS_CACHE.clear()
    _BUSY_UNTIL.clear()


def specs_of(tender: Tender) -> _Specs:
    """The tender's lots as the rules see them (cached per tender version: every prepare and
    submit needs them, and reading them is several queries)."""
    key = (tender.id, tender.updated_at)
    specs = _SPECS_CACHE.get(key)
    if specs is None:
        specs = _Specs(tender)
        _SPECS_CACHE.put(key, specs)
    return specs


def _remember_offer(bid_id: int, payload_hash: str, specs: _Specs, offer: rules.Offer) -> None:
    if len(offer.lines) <= _OFFERS_CACHE_LINES:
        _OFFERS_CACHE.put((bid_id, payload_hash, specs.version), offer)


def _criterion_value(kind: str | None, value: object):
    if kind == "number":
        try:
            number = Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation:
            raise ValueError("not a number") from None
        if not number.is_finite():
            raise ValueError("not a number")
        return number
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError("answer true or false")
        return value
    return str(value)


def to_offer(data: dict, specs: _Specs) -> tuple[rules.Offer, list[tuple[str, str]]]:
    """The submitted lines and criterion values as a rules.Offer, plus conversion problems."""
    problems: list[tuple[str, str]] = []
    lines: dict[str, rules.Line] = {}
    for item in data["lines"]:
        number = item["position"]
        if number in lines:
            problems.append((f"lines.{number}", f"Position {number} is priced twice."))
        lines[number] = rules.Line(unit_price=item["unit_price"], note=item.get("note", ""))
    values: dict[tuple[int, int], object] = {}
    for item in data.get("criteria", []):
        key = (item["lot"], item["criterion"])
        try:
            values[key] = _criterion_value(specs.kinds.get(item["criterion"]), item["value"])
        except ValueError as exc:
            problems.append((f"criteria.{key[0]}.{key[1]}", str(exc)))
    return rules.Offer(lines=lines, criteria=values), problems


@functools.cache
def _latest_offer_queries():
    """The lines and the criterion values of a bid's latest revision (plain rows, not
    entities: a revision may have 50,000 lines); built once, as every submit reads them."""
    latest = (
        select(BidRevision.id)
        .where(BidRevision.bid_id == bindparam("bid"), BidRevision.number == bindparam("number"))
        .scalar_subquery()
    )
    lines = select(BidLine.position_number, BidLine.unit_price, BidLine.note).where(
        BidLine.revision_id == latest
    )
    values = select(
        BidCriterionValue.lot_number, BidCriterionValue.criterion_id, BidCriterionValue.value
    ).where(BidCriterionValue.revision_id == latest)
    return lines, values


def _offer_of(bid: Bid | None, specs: _Specs) -> rules.Offer | None:
    """The bid's latest offer (None before its first revision)."""
    if bid is None or bid.revision_count == 0:
        return None
    known = _OFFERS_CACHE.get((bid.id, bid.last_hash, specs.version))
    if known is not None:
        return known
    lines_query, values_query = _latest_offer_queries()
    latest = {"bid": bid.id, "number": bid.revision_count}
    lines = db.session.execute(lines_query, latest)
    # a tender without criteria has no values to read
    values = db.session.execute(values_query, latest) if specs.kinds else ()
    return rules.Offer(
        lines={number: rules.Line(price, note) for number, price, note in lines},
        criteria={
            (lot, criterion): _criterion_value(specs.kinds.get(criterion), _stored(value))
            for lot, criterion, value in values
        },
    )


def _stored(text: str):
    return {"true": True, "false": False}.get(text, text)


def _value_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- access ----------------------------------------------------------------------------------


def check_bidder(user: User, org: Organization | None, tender: Tender) -> Organization:
    """Refuse anyone who may not bid on this tender (with the reason)."""
    return _bidder(user, org, tender)


def _bidder(user: User, org: Organization | None, tender: Tender) -> Organization:
    require_accredited(org, "supplier")
    require_member(user, org.id)
    if tender.customer_id == org.id:
        raise Forbidden("A customer cannot bid on its own tender.")
    if tender.sme_only and not org.is_sme:
        raise Forbidden("Only small and medium enterprises may bid on this tender.")
    return org


def _open_tender(tender_id: int, for_update: bool) -> Tender:
    return _open(lock(Tender, tender_id) if for_update else db.session.get(Tender, tender_id))


def _open(tender: Tender | None) -> Tender:
    if tender is None or tender.status == "draft":
        raise NotFound("No such tender.")
    check_open(tender)
    return tender


def refused(tender: Tender, refusal: rules.Refusal) -> Refused:
    """The error of a rule's refusal, its message naming the tender's moments in its zone."""
    return Refused(refusal.code, **refusal.params, zone=tender.timezone, number=tender.number)


def closed_notice(tender: Tender, now: dt.datetime) -> str | None:
    """What the bid pages say when the tender takes no change now (None: it does)."""
    refusal = rules.bidding_refusal(tender.status, tender.bid_deadline, now)
    return None if refusal is None else refused(tender, refusal).message


def check_open(tender: Tender, now: dt.datetime | None = None) -> None:
    """Refuse a bid change on a tender that takes none (now: also after its deadline)."""
    refusal = rules.bidding_refusal(tender.status, tender.bid_deadline, now)
    if refusal is not None:
        raise refused(tender, refusal)


@functools.cache
def _submit_query():
    """The tender, the organization's bid on it and the signing key named, in one statement:
    every submit starts here (built once, on first use, when every model is mapped)."""
    return (
        select(Tender, Bid, SigningKey)
        .outerjoin(Bid, (Bid.tender_id == Tender.id) & (Bid.organization_id == bindparam("org")))
        .outerjoin(SigningKey, SigningKey.id == bindparam("key"))
        .where(Tender.id == bindparam("tender"))
    )


def own_bid(org: Organization, tender_id: int, fresh: bool = False) -> Bid | None:
    """The organization's bid on a tender, if any (fresh: re-read from the database)."""
    query = select(Bid).where(Bid.tender_id == tender_id, Bid.organization_id == org.id)
    if fresh:
        query = query.execution_options(populate_existing=True)
    return db.session.execute(query).scalar_one_or_none()


def _latest(bid: Bid | None) -> BidRevision | None:
    if bid is None or bid.revision_count == 0:
        return None
    return db.session.execute(
        select(BidRevision).where(
            BidRevision.bid_id == bid.id, BidRevision.number == bid.revision_count
        )
    ).scalar_one()


# -- the payload to sign ---------------------------------------------------------------------


def _payload(
    tender: Tender,
    org: Organization,
    bid: Bid | None,
    offer: rules.Offer,
    specs: _Specs,
    attached: list[OrganizationDocument],
) -> dict:
    lines = [
        {
            "position": number,
            "unit_price": f"{line.unit_price:.2f}",
            "total": f"{rules.line_total(line.unit_price, specs.quantities[number]):.2f}",
            "note": line.note,
        }
        for number, line in offer.lines.items()
    ]
    criteria = [
        {
            "lot": str(lot),
            "criterion": criterion,
            "value": value if isinstance(value, bool) else str(value),
        }
        for (lot, criterion), value in offer.criteria.items()
    ]
    return revision_payload(
        tender_number=tender.number,
        bidder_inn=org.inn,
        bidder_org_id=org.id,
        revision=(bid.revision_count if bid else 0) + 1,
        previous_hash=bid.last_hash if bid else None,
        lines=lines,
        criteria=criteria,
        documents=documents.payload_entries(attached),
    )


def _checked_offer(tender: Tender, data: dict) -> tuple[_Specs, rules.Offer]:
    specs = specs_of(tender)
    offer, problems = to_offer(data, specs)
    problems += rules.offer_problems(specs.lots, offer, CURRENCY_PLACES)
    if problems:
        fields: dict[str, list[str]] = {}
        for field, message in problems:
            fields.setdefault(field, []).append(message)
        raise Invalid(f"The offer has {len(problems)} problem(s); nothing was stored.", fields)
    return specs, offer


def prepare(user: User, org: Organization | None, tender_id: int, data: dict) -> dict:
    """Validate an offer and return the exact payload (and bytes) the supplier must sign."""
    tender = _open_tender(tender_id, for_update=False)
    _bidder(user, org, tender)
    check_open(tender, clock.now())
    specs, offer = _checked_offer(tender, data)
    attached = documents.to_attach(org, data.get("documents", []))
    payload = _payload(tender, org, own_bid(org, tender.id), offer, specs, attached)
    message = canonical.canonicalize(payload)
    return {
        "payload": payload,
        "canonical_b64": base64.b64encode(message).decode(),
        "digest_hex": canonical.digest_hex(payload),
        "revision": payload["revision"],
    }


# -- accepting a revision --------------------------------------------------------------------


def submit(
    user: User,
    org: Organization | None,
    tender_id: int,
    data: dict,
    key_id: int,
    signature: str,
    *,
    one_call: bool = True,
) -> BidRevision:
    """Accept a signed revision, or refuse it with nothing stored.

    What concerns only this bidder (validation, the signature) is checked first; the tender
    row is then locked from the deadline check to the end of the transaction, so two changes
    racing at the deadline can neither both extend nor slip in after the close, and the lock
    is held only for the decision and the writes. On PostgreSQL most revisions are stored in
    one call that commits by itself (one_call; see _accept_in_one_call): a caller that must
    write more in the same transaction passes one_call=False. The revision comes with its
    receipt and the deadline now in force (see _as_shown)."""
    loaded = db.session.execute(
        _submit_query(), {"tender": tender_id, "org": org.id if org else None, "key": key_id}
    ).one_or_none()  # the key, if any, is now in the session: verifying finds it there
    tender, bid = _open(loaded[0] if loaded else None), loaded[1]
    _bidder(user, org, tender)
    specs, offer = _checked_offer(tender, data)
    attached = documents.to_attach(org, data.get("documents", []))
    signed_state = _state(bid)
    payload = _payload(tender, org, bid, offer, specs, attached)
    key = signatures.verify_user_signature(user, key_id, payload, signature)
    previous = _offer_of(bid, specs)
    triggering = bid is None or bid.status == "withdrawn" or rules.is_triggering(previous, offer)
    signed = Signed(user, org, key, signature, payload, offer, specs, attached, triggering)
    if one_call and accept_pg.usable(tender, bid, len(offer.lines)):
        revision = _accept_in_one_call(tender, bid, signed, previous)
        if revision is not None:
            return _as_shown(revision, tender, org)
        # The tender, the bid or the chain moved since they were read: decide under the lock.

    tender = _open_tender(tender_id, for_update=True)  # re-read: status and deadline may move
    now = clock.now()
    check_open(tender, now)
    if not key.usable_at(now):
        raise Invalid("The signing key was revoked meanwhile.", {"key_id": "Key revoked."})
    bid = own_bid(org, tender.id, fresh=True)
    if _state(bid) != signed_state:
        raise Refused("bid_changed")
    rank = _rank(tender, org, offer, specs, now) if tender.extension_trigger_rank else None
    decision = rules.decide(
        tender.bid_deadline,
        now,
        policy_of(tender),
        triggering=triggering,
        rank=rank,
        extensions_so_far=tender.extensions_count,
    )
    if not decision.accepted:
        raise refused(tender, decision.refusal or rules.closed(tender.bid_deadline))
    new_participant = bid is None or bid.status == "withdrawn"
    bid = bid or _new_bid(tender, org, now)
    revision = _store(tender, bid, signed, now, decision)
    documents.attach(revision, attached)
    _remember_offer(bid.id, revision.payload_hash, specs, offer)
    if triggering:
        _push_offer(tender, bid, _changed_prices(None if new_participant else previous, offer))
    if new_participant:
        _announce_participants(tender.id, now, org_id=org.id)
    if decision.extended:
        _extend(tender, user, org, decision, revision, now)
    return _as_shown(revision, tender, org)


def _as_shown(revision: BidRevision, tender: Tender, org: Organization) -> BidRevision:
    """The accepted revision with what the bidder is shown with it: the platform's signed
    receipt, the deadline now in force and the number of extensions so far."""
    revision.receipt = receipt_of(revision, tender, org)
    revision.bid_deadline = tender.bid_deadline
    revision.extensions_count = tender.extensions_count
    return revision


class Signed(NamedTuple):
    """A checked, signed offer waiting to be accepted."""

    user: User
    org: Organization
    key: SigningKey
    signature: str
    payload: dict
    offer: rules.Offer
    specs: _Specs
    attached: list[OrganizationDocument]
    triggering: bool


def _push_offer(
    tender: Tender,
    bid: Bid,
    changed: dict[str, Decimal | None],
    seen: tuple[dict[str, Decimal | None], int] | None = None,
    version: int | None = None,
):
    """After the commit, tell the watchers what changed in the offer (as each may see it);
    version: the tender's audit chain position once stored (read now if not given), which
    orders the pushes of one tender as their transactions committed."""
    version = offers.tender_version(tender.id) if version is None else version
    after_commit(
        offers.push_changes,
        tender.id,
        tender.visibility,
        bid.participant_number,
        changed,
        seen,
        version,
    )


def _accept_in_one_call(
    tender: Tender, bid: Bid, signed: Signed, previous: rules.Offer | None
) -> BidRevision | None:
    """PostgreSQL, a first bid or a revision of an active bid: decide with the pure rule and
    store it all in one call of bid_accept_revision() (bids/accept_pg.py).

    A revision that leaves the deadline alone is decided from the deadline read before and
    stored in one call that commits by itself, holding the tender lock only inside the
    database. One that moves the deadline (in the window, where every bidder's change moves
    it, so that concurrent ones would each find it moved), or one that found it moved or its
    participant number taken, is decided under the lock: lock the tender row, decide from
    the deadline it holds, make the same call in that transaction, commit (three round trips
    under the lock, where the locked path takes a dozen). None: the bid or the tender moved
    otherwise, or the rule refuses (the locked path then decides again and says why)."""
    new_bid = bid is None
    bid = bid or _first_bid(tender, signed.org)
    changed = _changed_prices(previous, signed.offer) if signed.triggering else {}
    # what the push after the commit tells, read by the call under the tender lock
    best_of = list(changed) if changed and offers.live_delta(tender.visibility, changed) else None
    done = _one_call_or_under_lock(tender, bid, signed, new_bid, best_of)
    if done is None:
        return None
    tender, stored, rows, extension, now, decision = done
    revision = accept_pg.revision_object(stored.revision_id, rows, signed.attached)
    _remember_offer(bid.id, revision.payload_hash, signed.specs, signed.offer)
    set_committed_value(bid, "revision_count", revision.number)  # as stored (a new bid too)
    set_committed_value(bid, "last_hash", revision.payload_hash)
    if signed.triggering:  # no best prices asked for: none to tell
        _push_offer(tender, bid, changed, (stored.best or {}, stored.participants), stored.seq)
    if new_bid:  # after the offer, as on the locked path
        _announce_participants(tender.id, now, stored.participants, signed.org.id)
    if extension is not None:
        set_committed_value(tender, "bid_deadline", decision.deadline)
        set_committed_value(tender, "extensions_count", tender.extensions_count + 1)
        deliver_event(stored.event_id)
        _announce_extension(tender, extension)
    return revision


def _one_call_or_under_lock(
    tender: Tender, bid: Bid, signed: Signed, new_bid: bool, best_of: list[str] | None
) -> tuple | None:
    """(tender, stored, rows, extension, now, decision) once stored (see _accept_in_one_call);
    None if the locked path must decide. A moment the tender's chain passed meanwhile (another
    revision, stamped later, was stored first) is taken again, up to ONE_CALL_TRIES times."""
    revision_id = None
    for _ in range(ONE_CALL_TRIES):
        now, decision = _decided(tender, bid if new_bid else None, signed)
        if decision is None:
            return None
        if decision.extended:
            revision_id = accept_pg.next_revision_id()  # taken ahead, not under the lock
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


# How many times a revision stored in one call is stamped before the lock is taken for it:
# a moment the chain passed (chains keep their moments in order: migration 0016) is taken
# again without holding the lock across round trips, as the lock would block every bidder.
ONE_CALL_TRIES = 3
# How long the section below waits for a lock with the whole process. The tender lock is
# held by the same section of other processes for a few round trips: a longer wait means a
# holder that takes its time (a large CSV revision on the locked path) or a green thread of
# this very process that cannot run while the process waits.
LOCK_WAIT_MS = 50
# After such a wait, this process waits for that tender's lock cooperatively for a while
# (bounded by LOCK_WAIT_COOPERATIVE_MS), and the rest of the section still does not yield.
BUSY_SECONDS = 1.0
LOCK_WAIT_COOPERATIVE_MS = 250
_BUSY_UNTIL = Bounded(256)  # tender id -> time.monotonic() until which


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
    cooperative = (_BUSY_UNTIL.get(tender_id) or 0.0) > time.monotonic()
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
                    bid.participant_number = _bids_so_far(tender) + 1
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
        _BUSY_UNTIL.put(tender_id, time.monotonic() + BUSY_SECONDS)
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


def _first_bid(tender: Tender, org: Organization) -> Bid:
    """A first bid to store in one call (not in the session): its id taken ahead, its number
    as the bids so far say (the call checks it)."""
    return Bid(
        id=accept_pg.next_bid_id(),
        tender_id=tender.id,
        organization_id=org.id,
        participant_number=_bids_so_far(tender) + 1,
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
) -> tuple[accept_pg.Stored, Rows, dict | None]:
    rows = _accepted_rows(tender, bid, signed, now, decision)
    events = [accept_pg.Event("bid.revision_accepted", "bid", bid.id, _revision_event(bid, rows))]
    extension = None
    if decision.extended:
        rows.revision["id"] = revision_id or accept_pg.next_revision_id()
        extension = _extension_event(decision, now, tender.extensions_count + 1)
        payload = {**extension, "revision_id": rows.revision["id"]}
        events.append(accept_pg.Event("tender.extended", "tender", tender.id, payload))
    stored = accept_pg.store(
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


def _changed_prices(previous: rules.Offer | None, offer: rules.Offer) -> dict[str, Decimal | None]:
    """Unit prices that differ from the previous offer (None: the position is dropped)."""
    before = previous.lines if previous is not None else {}
    changed: dict[str, Decimal | None] = {
        n: line.unit_price
        for n, line in offer.lines.items()
        if n not in before or before[n].unit_price != line.unit_price
    }
    changed.update({n: None for n in before if n not in offer.lines})
    return changed


def _state(bid: Bid | None) -> tuple[int, str | None]:
    """What a signed payload commits to about the bid: its revision count and last hash."""
    return (bid.revision_count, bid.last_hash) if bid is not None else (0, None)


def _new_bid(tender: Tender, org: Organization, now: dt.datetime) -> Bid:
    bid = Bid(
        tender_id=tender.id,
        organization_id=org.id,
        participant_number=_bids_so_far(tender) + 1,
        first_bid_at=now,
    )
    db.session.add(bid)
    db.session.flush()
    return bid


class Rows(NamedTuple):
    """What accepting a revision stores: the revision, its lines (without the revision id)
    and its criterion values (lot, criterion, text)."""

    revision: dict
    lines: list[dict]
    criteria: list[tuple[int, int, str]]


def _accepted_rows(
    tender: Tender, bid: Bid, signed: Signed, now: dt.datetime, decision: rules.Decision
) -> Rows:
    """The rows of an accepted revision, with the platform's signed receipt."""
    payload, offer, specs = signed.payload, signed.offer, signed.specs
    revision_hash = canonical.digest_hex(payload)
    receipt = receipt_payload(
        revision_hash=revision_hash,
        accepted_at=utc_timestamp(now),
        tender_number=tender.number,
        bidder_inn=signed.org.inn,
        revision=payload["revision"],
    )
    _, receipt_signature = signatures.sign_platform(receipt)
    totals = {
        n: rules.line_total(line.unit_price, specs.quantities[n]) for n, line in offer.lines.items()
    }
    revision = {
        "bid_id": bid.id,
        "number": payload["revision"],
        "accepted_at": now,
        "submitted_by_id": signed.user.id,
        "signing_key_id": signed.key.id,
        "signature": signed.signature,
        "payload_hash": revision_hash,
        "previous_hash": bid.last_hash,
        "receipt_signature": receipt_signature,
        "triggering": signed.triggering,
        "deadline_before": decision.previous_deadline,
        "deadline_after": decision.deadline,
        "total": sum(totals.values(), Decimal(0)),
    }
    lines = [
        {
            "position_id": specs.position_ids[n],
            "position_number": n,
            "unit_price": line.unit_price,
            "total": totals[n],
            "note": line.note,
        }
        for n, line in offer.lines.items()
    ]
    criteria = [
        (lot, criterion, _value_text(value)) for (lot, criterion), value in offer.criteria.items()
    ]
    return Rows(revision, lines, criteria)


def _revision_event(bid: Bid, rows: Rows) -> dict:
    """The audit payload of bid.revision_accepted."""
    return {
        "revision": rows.revision["number"],
        "hash": rows.revision["payload_hash"],
        "triggering": rows.revision["triggering"],
        "participant": bid.participant_number,
        "positions": len(rows.lines),
    }


def _extension_event(decision: rules.Decision, now: dt.datetime, extensions: int) -> dict:
    """What an extension tells: the new and previous deadline, the server time."""
    return {
        "previous": decision.previous_deadline.isoformat(),
        "deadline": decision.deadline.isoformat(),
        "server_time": now.isoformat(),
        "extensions": extensions,
    }


def _announce_extension(tender: Tender, payload: dict) -> None:
    """After the commit: push the new deadline live. The close job is left as it is: the one
    at an earlier deadline finds the deadline moved and schedules the close at the new one
    (tenders.closing), so an extension costs no job traffic."""
    live.emit("deadline_extended", {"tender_id": tender.id, **payload}, tender_room(tender.id))


def _store(
    tender: Tender, bid: Bid, signed: Signed, now: dt.datetime, decision: rules.Decision
) -> BidRevision:
    rows = _accepted_rows(tender, bid, signed, now, decision)
    revision = BidRevision(**rows.revision)
    db.session.add(revision)
    db.session.flush()
    bulk.insert_rows(BidLine.__table__, [{"revision_id": revision.id, **r} for r in rows.lines])
    if rows.criteria:
        db.session.execute(
            BidCriterionValue.__table__.insert(),
            [
                {"revision_id": revision.id, "lot_number": lot, "criterion_id": c, "value": v}
                for lot, c, v in rows.criteria
            ],
        )
    bid.revision_count, bid.last_hash, bid.status = revision.number, revision.payload_hash, "active"
    bid.withdrawn_at = None
    record(
        "bid.revision_accepted",
        "bid",
        bid.id,
        _revision_event(bid, rows),
        actor_user_id=signed.user.id,
        actor_org_id=signed.org.id,
        chain=f"tender:{tender.id}",
    )
    return revision


def _announce_participants(
    tender_id: int, now: dt.datetime, count: int | None = None, org_id: int | None = None
) -> None:
    """After the commit, push the number of participants to everyone watching (count: as
    the storing transaction read it; else it is read then); org_id: the organization whose
    bid came or went, whose watchers now may see more or less (their rooms follow)."""
    if org_id is not None:  # before any offer push that follows this change
        live.visibility_changed(tender_id, live.viewers_room(tender_id, org_id))
    after_commit(_push_participants, tender_id, now, count)


def _push_participants(tender_id: int, now: dt.datetime, count: int | None) -> None:
    data = {
        "tender_id": tender_id,
        "participants": offers.participants(tender_id) if count is None else count,
        "server_time": now.isoformat(),
    }
    live.emit_now("bid_activity", data, tender_room(tender_id))


def _bids_so_far(tender: Tender) -> int:
    return db.session.execute(
        select(func.count()).select_from(Bid).where(Bid.tender_id == tender.id)
    ).scalar_one()


def _extend(
    tender: Tender,
    user: User,
    org: Organization,
    decision: rules.Decision,
    revision: BidRevision,
    now: dt.datetime,
) -> None:
    tender.bid_deadline = decision.deadline
    tender.extensions_count += 1
    payload = _extension_event(decision, now, tender.extensions_count)
    record(
        "tender.extended",
        "tender",
        tender.id,
        {**payload, "revision_id": revision.id},
        actor_user_id=user.id,
        actor_org_id=org.id,
        chain=f"tender:{tender.id}",
    )
    record_event("tender.extended", tender.id, {"number": tender.number, **payload})
    _announce_extension(tender, payload)


def _rank(
    tender: Tender, org: Organization, offer: rules.Offer, specs: _Specs, now: dt.datetime
) -> int | None:
    """The bidder's best price rank once this offer replaces its current one. Equal prices
    rank by the moment the price was first offered: a price kept unchanged through later
    revisions keeps its first moment (DESIGN.md's tie rule); the new offer's changed prices
    date from now."""
    numbers = list(offer.lines)
    revisions = db.session.execute(
        select(BidRevision.id, Bid.id, Bid.organization_id, BidRevision.accepted_at)
        .join(Bid, Bid.id == BidRevision.bid_id)
        .where(Bid.tender_id == tender.id, Bid.status == "active")
        .order_by(Bid.id, BidRevision.number)
    ).all()
    prices: dict[int, dict[str, Decimal]] = collections.defaultdict(dict)
    for revision_id, number, price in db.session.execute(
        select(BidLine.revision_id, BidLine.position_number, BidLine.unit_price)
        .join(BidRevision, BidRevision.id == BidLine.revision_id)
        .join(Bid, Bid.id == BidRevision.bid_id)
        .where(
            Bid.tender_id == tender.id,
            Bid.status == "active",
            BidLine.position_number.in_(numbers),
        )
    ):
        prices[revision_id][number] = price
    histories: dict[str, list] = collections.defaultdict(list)
    for revision_id, bid_id, org_id, accepted_at in revisions:
        key = "me" if org_id == org.id else str(bid_id)
        histories[key].append((accepted_at, prices[revision_id], {}))
    mine = {n: line.unit_price for n, line in offer.lines.items()}
    histories["me"].append((now, mine, {}))
    offers: dict[str, rules.Offer] = {}
    first_made: dict[tuple[str, str], dt.datetime] = {}
    for key, history in histories.items():
        final = history[-1][1]
        offers[key] = rules.Offer(
            lines={n: rules.Line(price, "") for n, price in final.items()}, criteria={}
        )
        for number, moment in evaluation.first_offered(history, {}).items():
            first_made[(key, number)] = moment
    return rules.price_ranks(offers, first_made, specs.lots).get("me")


def withdraw(user: User, org: Organization | None, tender_id: int) -> Bid:
    """Withdraw before the deadline (never extends anything)."""
    tender = _open_tender(tender_id, for_update=True)
    _bidder(user, org, tender)
    check_open(tender, clock.now())
    bid = own_bid(org, tender.id)
    if bid is None or bid.status == "withdrawn":
        raise Refused("no_active_bid")
    bid.status, bid.withdrawn_at = "withdrawn", clock.now()
    record(
        "bid.withdrawn",
        "bid",
        bid.id,
        {"participant": bid.participant_number},
        actor_user_id=user.id,
        actor_org_id=org.id,
        chain=f"tender:{tender.id}",
    )
    db.session.flush()
    _announce_participants(tender.id, clock.now(), org_id=org.id)
    dropped = db.session.execute(
        select(BidLine.position_number)
        .join(BidRevision, BidRevision.id == BidLine.revision_id)
        .where(BidRevision.bid_id == bid.id, BidRevision.number == bid.revision_count)
    ).scalars()
    after_commit(
        offers.push_changes,
        tender.id,
        tender.visibility,
        bid.participant_number,
        dict.fromkeys(dropped),
        None,
        offers.tender_version(tender.id),
    )
    return bid


def my_bid(user: User, org: Organization | None, tender_id: int) -> tuple[Bid | None, list]:
    """The organization's bid and every revision it made (its own view only)."""
    if org is None:
        raise Forbidden("Choose an organization first.")
    require_member(user, org.id)
    bid = own_bid(org, tender_id)
    return bid, (bid.revisions if bid else [])


def revision_lines(revision: BidRevision) -> list[BidLine]:
    """The lines of one revision in position order."""
    return list(
        db.session.execute(
            select(BidLine).where(BidLine.revision_id == revision.id).order_by(BidLine.id)
        ).scalars()
    )


def receipt_of(revision: BidRevision, tender: Tender, org: Organization) -> dict:
    """The platform receipt of a revision (payload + signature), rebuilt from what is stored."""
    payload = receipt_payload(
        revision_hash=revision.payload_hash,
        accepted_at=utc_timestamp(revision.accepted_at),
        tender_number=tender.number,
        bidder_inn=org.inn,
        revision=revision.number,
    )
    return {"payload": payload, "signature": revision.receipt_signature}


def current_offer(tender: Tender, bid: Bid | None) -> dict:
    """The bid's latest offer as plain data for the form: prices and criterion values."""
    latest = _latest(bid) if bid is not None and bid.status == "active" else None
    if latest is None:
        return {"lines": {}, "criteria": {}}
    lines = {
        line.position_number: {"unit_price": f"{line.unit_price:.2f}", "note": line.note}
        for line in revision_lines(latest)
    }
    values = db.session.execute(
        select(BidCriterionValue).where(BidCriterionValue.revision_id == latest.id)
    ).scalars()
    return {
        "lines": lines,
        "criteria": {f"{v.lot_number}:{v.criterion_id}": _stored(v.value) for v in values},
    }
