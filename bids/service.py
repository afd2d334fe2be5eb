"""Submitting, revising and withdrawing bids: one transaction under the tender's row lock
decides acceptance and the deadline, stores the signed revision and its audit event.
Services flush; the entrypoint commits once."""

from __future__ import annotations

import base64
import collections
import datetime as dt
import functools
from decimal import Decimal

from blinker import Namespace
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import bindparam, select

from accounts.models import Membership, Organization, User
from accounts.service import (
    member_sees,
    membership,
    require_accredited,
    require_member,
    require_right,
    require_sight,
)
from audit.service import record
from bids import accept_pg, caches, documents, offers, rules
from bids.accepting import (
    AcceptedRevision,
    Signed,
    _Specs,
    accepted_rows,
    bids_so_far,
    extension_event,
    policy_of,
    revision_event,
)
from bids.accepting import receipt_of as receipt_of  # the receipt, for views and reports
from bids.models import Bid, BidCriterionValue, BidLine, BidRevision, OrganizationDocument
from core import bulk, clock, live
from core.api import translate
from core.chains import tender_chain
from core.errors import Forbidden, Invalid, NotFound, Refused
from core.events import record_event, recorded
from core.extensions import db
from core.numbers import parse_decimal
from core.transaction import after_commit, lock
from signatures import canonical
from signatures import service as signatures
from signatures.models import SigningKey
from signatures.payloads import revision_payload
from tenders.models import Tender
from tenders.sight import sees_tender
from tenders.sockets import tender_room

CURRENCY_PLACES = 2

_signals = Namespace()
# Sent with the tender before a signed revision is verified and accepted (user, org and the
# payload signed): approvals refuses a payload its organization requires a manager to approve
# first (approvals/guards.py; bids builds below it). Checked here, never on the accept path.
signing = _signals.signal("bid-signing")


# -- reading the tender and the offer -------------------------------------------------------


def specs_of(tender: Tender) -> _Specs:
    """The tender's lots as the rules see them (cached per tender version: every prepare and
    submit needs them, and reading them is several queries)."""
    key = (tender.id, tender.updated_at)
    specs = caches.SPECS.get(key)
    if specs is None:
        specs = _Specs(tender)
        caches.SPECS.put(key, specs)
    return specs


def _remember_offer(bid_id: int, payload_hash: str, specs: _Specs, offer: rules.Offer) -> None:
    if len(offer.lines) <= caches.OFFERS_LINES:
        caches.OFFERS.put((bid_id, payload_hash, specs.version), offer)


def _criterion_value(kind: str | None, value: object):
    if kind == "number":
        if isinstance(value, bool):
            raise ValueError(_("not a number"))
        number = parse_decimal(str(value))  # ValueError when it is none
        if number is None:
            raise ValueError(_("not a number"))
        return number
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError(_("answer true or false"))
        return value
    return str(value)


def to_offer(data: dict, specs: _Specs) -> tuple[rules.Offer, list[tuple[str, str]]]:
    """The submitted lines and criterion values as a rules.Offer, plus conversion problems."""
    problems: list[tuple[str, str]] = []
    lines: dict[str, rules.Line] = {}
    for item in data["lines"]:
        number = item["position"]
        if number in lines:
            problems.append(
                (f"lines.{number}", _("Position %(number)s is priced twice.", number=number))
            )
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
    known = caches.OFFERS.get((bid.id, bid.last_hash, specs.version))
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


# -- access ----------------------------------------------------------------------------------


_LOOK_UP = object()  # _bidder: read the organization's bid on the tender


def check_bidder(
    user: User, org: Organization | None, tender: Tender, *, signing: bool = True
) -> Organization:
    """Refuse anyone who may not bid on this tender (with the reason); signing=False checks
    the organization only (and that the user is one of its members)."""
    return _bidder(user, org, tender, signing=signing)


def sign_refusal(user: User, org: Organization, bid: Bid | None) -> str | None:
    """Why this member may not sign the organization's bid (None: it may)."""
    try:
        require_right(user, org.id, "sign", bid.responsible_id if bid is not None else None)
    except Forbidden as exc:
        return exc.message
    return None


def _bidder(
    user: User, org: Organization | None, tender: Tender, bid=_LOOK_UP, signing: bool = True
) -> Organization:
    """Refuse anyone who may not bid on this tender: the organization (accredited supplier,
    not the customer) and the member (the "sign" right; a specialist only on a bid it is
    responsible for, or a new one)."""
    require_accredited(org, "supplier")
    if not signing:
        require_member(user, org.id)
    else:
        if bid is _LOOK_UP:
            bid = own_bid(org, tender.id)
        require_right(user, org.id, "sign", bid.responsible_id if bid is not None else None)
    if tender.customer_id == org.id:
        raise Forbidden(_("A customer cannot bid on its own tender."))
    if tender.sme_only and not org.is_sme:
        raise Forbidden(_("Only small and medium enterprises may bid on this tender."))
    return org


def _open_tender(tender_id: int, for_update: bool) -> Tender:
    return _open(lock(Tender, tender_id) if for_update else db.session.get(Tender, tender_id))


def _open(tender: Tender | None) -> Tender:
    if tender is None or tender.status == "draft":
        raise NotFound(_("No such tender."))
    check_open(tender)
    return tender


def refused(tender: Tender, refusal: rules.Refusal) -> Refused:
    """The error of a rule's refusal, its message naming the tender's moments in its zone."""
    return Refused(refusal.code, **refusal.params, zone=tender.timezone, number=tender.number)


def closed_notice(tender: Tender, now: dt.datetime) -> str | None:
    """What the bid pages say when the tender takes no change now (None: it does)."""
    refusal = rules.bidding_refusal(tender.status, tender.bid_deadline, now)
    return None if refusal is None else translate(refused(tender, refusal).message)


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
            fields.setdefault(field, []).append(translate(message))
        raise Invalid(
            ngettext(
                "The offer has %(num)d problem; nothing was stored.",
                "The offer has %(num)d problems; nothing was stored.",
                len(problems),
            ),
            fields,
        )
    return specs, offer


def prepare(user: User, org: Organization | None, tender_id: int, data: dict) -> dict:
    """Validate an offer and return the exact payload (and bytes) the supplier must sign."""
    tender = _open_tender(tender_id, for_update=False)
    bid = own_bid(org, tender.id) if org is not None else None  # no organization: refused
    _bidder(user, org, tender, bid)
    check_open(tender, clock.now())
    specs, offer = _checked_offer(tender, data)
    attached = documents.to_attach(org, data.get("documents", []))
    payload = _payload(tender, org, bid, offer, specs, attached)
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
    key_id: int | None,
    signature: str,
    *,
    one_call: bool = True,
) -> AcceptedRevision:
    """Accept a signed revision, or refuse it with nothing stored.

    What concerns only this bidder (validation, the signature) is checked first; the tender
    row is then locked from the deadline check to the end of the transaction, so two changes
    racing at the deadline can neither both extend nor slip in after the close, and the lock
    is held only for the decision and the writes. On PostgreSQL most revisions are stored in
    one call that commits by itself (one_call; bids.accept_pg.try_accept): a caller that must
    write more in the same transaction passes one_call=False. The accepted revision comes as
    plain data, with its receipt and the deadline now in force (accepting.AcceptedRevision).
    Without key_id the signature must be a qualified (CAdES) one: its certificate is the key."""
    if key_id is None:
        key_id = signatures.key_for_signature(user, signature).id
    loaded = db.session.execute(
        _submit_query(), {"tender": tender_id, "org": org.id if org else None, "key": key_id}
    ).one_or_none()  # the key, if any, is now in the session: verifying finds it there
    tender, bid = _open(loaded[0] if loaded else None), loaded[1]
    _bidder(user, org, tender, bid)
    specs, offer = _checked_offer(tender, data)
    attached = documents.to_attach(org, data.get("documents", []))
    signed_state = _state(bid)
    payload = _payload(tender, org, bid, offer, specs, attached)
    signing.send(tender, user=user, org=org, payload=payload)
    key = signatures.verify_user_signature(
        user,
        key_id,
        payload,
        signature,
        org=org,
        qualified_only=tender.qualified_signature_required,
    )
    previous = _offer_of(bid, specs)
    triggering = bid is None or bid.status == "withdrawn" or rules.is_triggering(previous, offer)
    signed = Signed(user, org, key, signature, payload, offer, specs, attached, triggering)
    if one_call and accept_pg.usable(tender, bid, len(offer.lines)):
        changed = _changed_prices(previous, offer) if triggering else {}
        # what the push after the commit tells, read by the call under the tender lock
        live_delta = changed and offers.live_delta(tender.visibility, changed)
        accepted = accept_pg.try_accept(tender, bid, signed, list(changed) if live_delta else None)
        if accepted is not None:
            _announce_accepted(accepted, signed, changed)
            return accepted.revision
        # The tender, the bid or the chain moved since they were read: decide under the lock.

    tender = _open_tender(tender_id, for_update=True)  # re-read: status and deadline may move
    now = clock.now()
    check_open(tender, now)
    if not key.usable_at(now):
        raise Invalid(_("The signing key was revoked meanwhile."), {"key_id": _("Key revoked.")})
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
    bid = bid or _new_bid(tender, org, user, now)
    revision = _store(tender, bid, signed, now, decision)
    documents.attach(revision, attached)
    _remember_offer(bid.id, revision.payload_hash, specs, offer)
    if triggering:
        _push_offer(tender, bid, _changed_prices(None if new_participant else previous, offer))
    if new_participant:
        _announce_participants(tender.id, now, org_id=org.id)
    if decision.extended:
        _extend(tender, user, org, decision, revision, now)
    return AcceptedRevision.of_stored(revision, tender, org, attached)


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


def _announce_accepted(
    accepted: accept_pg.Accepted, signed: Signed, changed: dict[str, Decimal | None]
) -> None:
    """After a revision stored in one call (bids/accept_pg.py): remember the offer and tell
    the watchers what the call read under the tender lock, as the locked path does."""
    tender, bid = accepted.tender, accepted.bid
    _remember_offer(bid.id, accepted.revision.payload_hash, signed.specs, signed.offer)
    if signed.triggering:  # no best prices asked for: none to tell
        seen = (accepted.best or {}, accepted.participants)
        _push_offer(tender, bid, changed, seen, accepted.seq)
    if accepted.new_bid:  # after the offer, as on the locked path
        _announce_participants(tender.id, accepted.now, accepted.participants, signed.org.id)
    if accepted.extension is not None:
        recorded(
            accepted.event_id,
            "tender.extended",
            tender.id,
            {"number": tender.number, **accepted.extension},
        )
        _announce_extension(tender, accepted.extension)


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


def _new_bid(tender: Tender, org: Organization, user: User, now: dt.datetime) -> Bid:
    bid = Bid(
        tender_id=tender.id,
        organization_id=org.id,
        responsible_id=user.id,  # who first submitted it, until a manager reassigns it
        participant_number=bids_so_far(tender) + 1,
        first_bid_at=now,
    )
    db.session.add(bid)
    db.session.flush()
    return bid


def _announce_extension(tender: Tender, payload: dict) -> None:
    """After the commit: push the new deadline live. The close job is left as it is: the one
    at an earlier deadline finds the deadline moved and schedules the close at the new one
    (tenders.closing), so an extension costs no job traffic."""
    live.emit("deadline_extended", {"tender_id": tender.id, **payload}, tender_room(tender.id))


def _store(
    tender: Tender, bid: Bid, signed: Signed, now: dt.datetime, decision: rules.Decision
) -> BidRevision:
    rows = accepted_rows(tender, bid, signed, now, decision)
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
        revision_event(bid, rows),
        actor_user_id=signed.user.id,
        actor_org_id=signed.org.id,
        chain=tender_chain(tender.id),
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
    payload = extension_event(decision, now, tender.extensions_count)
    record(
        "tender.extended",
        "tender",
        tender.id,
        {**payload, "revision_id": revision.id},
        actor_user_id=user.id,
        actor_org_id=org.id,
        chain=tender_chain(tender.id),
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
        for number, moment in rules.first_offered(history, {}).items():
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
        chain=tender_chain(tender.id),
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


def visible_bids_query(member: Membership):
    """The organization's bids this member may see, as a select of Bid (its whereclause is
    usable in joins): holders of see_all see every one; anyone else those it is responsible
    for (accounts.rules.sees, as my_bid checks one bid)."""
    query = select(Bid).where(Bid.organization_id == member.organization_id)
    if member.may("see_all"):
        return query
    return query.where(Bid.responsible_id == member.user_id)


def my_bid(user: User, org: Organization | None, tender_id: int) -> tuple[Bid | None, list]:
    """The organization's bid and every revision it made (its own view only)."""
    if org is None:
        raise Forbidden(_("Choose an organization first."))
    require_member(user, org.id)
    bid = own_bid(org, tender_id)
    if bid is not None:
        require_sight(user, org.id, {bid.responsible_id})
    return bid, (bid.revisions if bid else [])


def viewing_org(user, org, tender):
    """The organization whose view of the offers this user gets: its own, when the member
    sees the tender (customer) or the organization's bid (supplier); else the public's."""
    if user is None or org is None:
        return None
    if org.id == tender.customer_id:
        return org if sees_tender(user, org, tender) else None
    return org if sees_bid(user, org, tender.id) else None


def sees_bid(user: User | None, org: Organization | None, tender_id: int) -> bool:
    """Whether this user, acting for org, sees the organization's bid on the tender (and so
    what its bid lets the organization see of the others'): true when it has none yet."""
    if org is None or user is None:
        return False
    bid = own_bid(org, tender_id)
    if bid is None:
        return membership(user, org.id) is not None
    return member_sees(user, org.id, {bid.responsible_id})


def reassign(user: User, org: Organization | None, tender_id: int, responsible_id: int) -> Bid:
    """A manager puts another member with the right to sign in charge of the bid."""
    if org is None:
        raise Forbidden(_("Choose an organization first."))
    require_right(user, org.id, "approve")  # managers only
    bid = own_bid(org, tender_id)
    if bid is None:
        raise NotFound(_("Your organization has no bid on this tender."))
    person = db.session.get(User, responsible_id)
    target = membership(person, org.id) if person is not None else None
    if target is None or not target.may("sign"):
        message = _("Choose a member of the organization who signs bids.")
        raise Invalid(message, {"user_id": [message]})
    previous = bid.responsible_id
    if previous == responsible_id:
        return bid
    bid.responsible_id = responsible_id
    record(
        "bid.responsible_changed",
        "bid",
        bid.id,
        {"from": previous, "to": responsible_id},
        actor_user_id=user.id,
        actor_org_id=org.id,
        chain=tender_chain(tender_id),
    )
    db.session.flush()
    # The previous person's connections may no longer hear what this bid lets them see.
    live.visibility_changed(tender_id, live.viewers_room(tender_id, org.id))
    return bid


def revision_lines(revision: BidRevision) -> list[BidLine]:
    """The lines of one revision in position order."""
    return list(
        db.session.execute(
            select(BidLine).where(BidLine.revision_id == revision.id).order_by(BidLine.id)
        ).scalars()
    )


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


# -- the re-bidding round (results/rebidding) stores its revisions with these same steps -------

payload_of = _payload
store_revision = _store
latest_offer = _offer_of
push_offer = _push_offer
price_rank = _rank
changed_prices = _changed_prices
bid_state = _state
