"""The re-bidding round: announcing it, accepting improved offers in it (signed revisions of
the bid, under the tender's lock, with the same 30-minute rule on the round's own deadline),
closing it at its deadline (the evaluation reruns on the final offers), and reading it for the
review, the results, the protocol and the OCDS export. Services flush; entrypoints commit."""

from __future__ import annotations

import base64
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from accounts.models import Organization, User
from accounts.service import require_member, require_right
from audit.service import record
from bids import documents
from bids import rules as bid_rules
from bids import service as bids
from bids.accepting import AcceptedRevision, Signed, policy_of
from bids.models import Bid, BidLine, BidRevision, BidRevisionDocument, OrganizationDocument
from core import clock, jobs, live
from core.api import translate
from core.chains import tender_chain
from core.errors import Forbidden, Invalid, NotFound
from core.events import record_event
from core.extensions import db
from core.messages import N_, Moment, Text
from core.transaction import lock
from results import evaluation
from results.models import Award, AwardOffer
from results.outcome import view_level
from results.rebidding import rules
from results.rebidding.guards import RoundRefused, open_round
from results.rebidding.models import RebiddingInvitation, RebiddingOffer, RebiddingRound
from signatures import canonical
from signatures import service as signatures
from tenders.models import Lot, Tender
from tenders.service import own_tender
from tenders.sockets import tender_room

CLOSE_JOB = "results.rebidding.jobs.close_at_deadline"
SWEEP_BATCH = 50


def _refusal(tender: Tender, refusal: bid_rules.Refusal) -> RoundRefused:
    texts = {
        "rebidding_published": N_(
            "The results of %(number)s are published: no re-bidding round any more."
        ),
        "rebidding_not_closed": N_(
            "Tender %(number)s is %(status)s: a re-bidding round is announced after the close "
            "and before the results are published."
        ),
        "rebidding_running": N_(
            "Re-bidding round %(round)s of %(number)s is still running: announce the next "
            "one after it ends."
        ),
    }
    params = {"number": tender.number, **refusal.params}
    if "status" in params:
        params["status"] = Text(str(params["status"]).replace("_", " "))
    return RoundRefused(refusal.code, Text(texts[refusal.code], params))


def _closed(tender: Tender, deadline: dt.datetime) -> RoundRefused:
    text = N_("The re-bidding round of %(number)s ended at %(at)s.")
    return RoundRefused(
        "rebidding_closed",
        Text(text, number=tender.number, at=Moment(deadline, tender.timezone)),
    )


def _invalid(problems: list[tuple[str, str]]) -> Invalid:
    fields: dict[str, list[str]] = {}
    for field, message in problems:
        fields.setdefault(field, []).append(translate(message))
    first = translate(problems[0][1])
    return Invalid(
        ngettext(
            "%(first)s (%(num)d problem; nothing was stored.)",
            "%(first)s (%(num)d problems; nothing was stored.)",
            len(problems),
            first=first,
        ),
        fields,
    )


# -- reading rounds ------------------------------------------------------------------------------


def rounds_of(tender_id: int) -> list[RebiddingRound]:
    """The tender's rounds, first to last."""
    return list(
        db.session.execute(
            select(RebiddingRound)
            .where(RebiddingRound.tender_id == tender_id)
            .order_by(RebiddingRound.number)
        ).scalars()
    )


def admissible(tender: Tender) -> dict[int, dict[int, int]]:
    """lot number -> {participant number: bid id} of the valid (not disqualified) offers in
    the stored evaluation."""
    out: dict[int, dict[int, int]] = defaultdict(dict)
    for lot_number, number, bid_id in db.session.execute(
        select(Award.lot_number, Bid.participant_number, Bid.id)
        .join(AwardOffer, AwardOffer.award_id == Award.id)
        .join(Bid, Bid.id == AwardOffer.bid_id)
        .where(Award.tender_id == tender.id, AwardOffer.status == "valid")
        .distinct()
    ):
        out[lot_number][number] = bid_id
    return out


# -- announcing ----------------------------------------------------------------------------------


def min_lead() -> dt.timedelta:
    """How far ahead a round's deadline must be (one hour; a sandbox may shorten it)."""
    return dt.timedelta(seconds=current_app.config.get("REBIDDING_MIN_LEAD_SECONDS", 3600))


def _aware(tender: Tender, deadline: dt.datetime) -> dt.datetime:
    """A deadline without a zone is read in the tender's time zone."""
    if deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=ZoneInfo(tender.timezone))
    return deadline.astimezone(dt.UTC)


def announce(user: User, org: Organization | None, tender_id: int, data: dict) -> RebiddingRound:
    """Announce a round (the customer's "prepare" right): lots, deadline, invitees, scope."""
    tender = own_tender(user, org, tender_id, for_update=True)  # the "prepare" right on it
    running = open_round(tender.id)
    refusal = rules.announce_refusal(tender.status, running.number if running else None)
    if refusal is not None:
        raise _refusal(tender, refusal)
    evaluation.require_evaluated(tender)
    now = clock.now()
    deadline = _aware(tender, data["deadline"])
    valid = admissible(tender)
    chosen, problems = rules.invitation_problems(
        data["lots"],
        {lot.number for lot in tender.lots},
        {lot: set(people) for lot, people in valid.items()},
        data.get("participants"),
    )
    problems = rules.deadline_problems(deadline, now, min_lead()) + problems
    if problems:
        raise _invalid(problems)
    number = len(rounds_of(tender.id)) + 1
    round_ = RebiddingRound(
        tender_id=tender.id,
        number=number,
        scope=data["scope"],
        status="open",
        announced_at=now,
        announced_by_id=user.id,
        original_deadline=deadline,
        deadline=deadline,
        extensions_count=0,
    )
    db.session.add(round_)
    db.session.flush()
    lots = {lot.number: lot for lot in tender.lots}
    bids_by_id = {
        b.id: b for b in db.session.execute(select(Bid).where(Bid.tender_id == tender.id)).scalars()
    }
    for lot_number, people in chosen.items():
        for participant in people:
            bid = bids_by_id[valid[lot_number][participant]]
            db.session.add(
                RebiddingInvitation(
                    round_id=round_.id,
                    bid_id=bid.id,
                    lot_id=lots[lot_number].id,
                    lot_number=lot_number,
                    revision_before=bid.revision_count,
                )
            )
    db.session.flush()
    invited = sorted({p for people in chosen.values() for p in people})
    payload = {
        "round": number,
        "lots": sorted(chosen),
        "participants": invited,
        "deadline": deadline.isoformat(),
        "scope": round_.scope,
    }
    record(
        "rebidding.announced",
        "tender",
        tender.id,
        payload,
        actor_user_id=user.id,
        actor_org_id=org.id,
        chain=tender_chain(tender.id),
    )
    orgs = sorted(
        {bids_by_id[valid[lot][p]].organization_id for lot, ps in chosen.items() for p in ps}
    )
    record_event(
        "rebidding.announced",
        tender.id,
        {"number": tender.number, **payload, "organizations": orgs},
    )
    live.emit(
        "rebidding_announced",
        {"tender_id": tender.id, **payload, "server_time": now.isoformat()},
        tender_room(tender.id),
    )
    schedule_close(round_)
    return round_


# -- the close -----------------------------------------------------------------------------------


def close_job_id(round_id: int, deadline: dt.datetime) -> str:
    """The job id of a round's close at one deadline (scheduling it again replaces it)."""
    return f"rebidding-close-{round_id}-{deadline.astimezone(dt.UTC):%Y%m%dT%H%M%S%f}"


def schedule_close(round_: RebiddingRound) -> None:
    """Schedule the round's close at its current deadline, after the commit (the next whole
    second, as RQ keeps schedules in whole seconds: tenders.closing.close_time)."""
    from tenders.closing import close_time

    jobs.enqueue(
        CLOSE_JOB,
        round_.id,
        round_.deadline.isoformat(),
        queue="closing",
        job_id=close_job_id(round_.id, round_.deadline),
        at=close_time(round_.deadline),
    )


def close(round_id: int, expected_deadline: dt.datetime | None = None) -> str:
    """Close a round whose deadline has passed and re-evaluate its lots on the final offers.

    Outcomes as tenders.closing.close: "closed", "moved" (an extension moved the deadline: the
    close is scheduled at the new one), "not_due", "not_open", "missing". Under the tender's
    lock, so it is serialized with a last-second improved offer."""
    found = db.session.get(RebiddingRound, round_id)
    if found is None:
        return "missing"
    tender = lock(Tender, found.tender_id)
    round_ = db.session.execute(
        select(RebiddingRound)
        .where(RebiddingRound.id == round_id)
        .execution_options(populate_existing=True)
    ).scalar_one()
    if round_.status != "open":
        return "not_open"
    if expected_deadline is not None and round_.deadline != expected_deadline:
        schedule_close(round_)
        return "moved"
    now = clock.now()
    if now < round_.deadline:
        return "not_due"
    round_.status, round_.closed_at = "closed", now
    lot_ids = {i.lot_id for i in round_.invitations}
    result_set = evaluation.recompute(tender, (lot_ids, None))
    offers = db.session.execute(
        select(func.count()).select_from(RebiddingOffer).where(RebiddingOffer.round_id == round_.id)
    ).scalar_one()
    payload = {
        "round": round_.number,
        "deadline": round_.deadline.isoformat(),
        "extensions": round_.extensions_count,
        "closed_at": now.isoformat(),
        "offers": offers,
        "results_version": result_set.version,
    }
    record("rebidding.closed", "tender", tender.id, payload, chain=tender_chain(tender.id))
    record_event("rebidding.closed", tender.id, {"number": tender.number, **payload})
    live.emit(
        "rebidding_closed",
        {"tender_id": tender.id, **payload, "server_time": now.isoformat()},
        tender_room(tender.id),
    )
    db.session.flush()
    return "closed"


def overdue_ids(limit: int = SWEEP_BATCH) -> list[int]:
    """Open rounds whose deadline has passed."""
    return list(
        db.session.execute(
            select(RebiddingRound.id)
            .where(RebiddingRound.status == "open", RebiddingRound.deadline <= clock.now())
            .order_by(RebiddingRound.deadline)
            .limit(limit)
        ).scalars()
    )


# -- improving an offer --------------------------------------------------------------------------


def _invitations(round_: RebiddingRound, bid: Bid | None) -> list[RebiddingInvitation]:
    return [i for i in round_.invitations if bid is not None and i.bid_id == bid.id]


def _round_lots(tender: Tender, lot_numbers: set[int]) -> list[rules.RoundLot]:
    return [
        rules.RoundLot(lot.number, tuple(p.number for p in lot.positions), lot.criteria)
        for lot in evaluation.lot_defs(tender)
        if lot.number in lot_numbers
    ]


def _previous_documents(bid: Bid) -> list[OrganizationDocument]:
    """The documents of the bid's latest revision (the improved offer keeps them)."""
    return list(
        db.session.execute(
            select(OrganizationDocument)
            .join(BidRevisionDocument, BidRevisionDocument.document_id == OrganizationDocument.id)
            .join(BidRevision, BidRevision.id == BidRevisionDocument.revision_id)
            .where(BidRevision.bid_id == bid.id, BidRevision.number == bid.revision_count)
        ).scalars()
    )


class _Improved:
    """A checked improved offer of one invitee: the merged full offer and its payload."""

    def __init__(self, user, org, tender, round_, data):
        self.tender, self.round = tender, round_
        self.bid = bids.own_bid(org, tender.id)
        invitations = _invitations(round_, self.bid)
        if not invitations:
            raise Forbidden(
                _(
                    "Your organization is not invited to re-bidding round %(round)s of %(number)s.",
                    round=round_.number,
                    number=tender.number,
                )
            )
        require_right(user, org.id, "sign", self.bid.responsible_id)  # a specialist: its own
        self.specs = bids.specs_of(tender)
        proposed, problems = bids.to_offer(data, self.specs)
        if problems:
            raise _invalid(problems)
        self.previous = bids.latest_offer(self.bid, self.specs)
        values = proposed.criteria if data.get("criteria") else None
        prices = {n: line.unit_price for n, line in proposed.lines.items()}
        lots = _round_lots(tender, {i.lot_number for i in invitations})
        problems = rules.improvement_problems(
            self.previous, prices, values, lots, criteria_allowed=round_.criteria_allowed
        )
        self.offer = rules.merged_offer(self.previous, prices, values)
        if not problems:
            problems = bid_rules.offer_problems(self.specs.lots, self.offer, bids.CURRENCY_PLACES)
        if problems:
            raise _invalid(problems)
        self.attached = _previous_documents(self.bid)
        self.state = bids.bid_state(self.bid)
        payload = bids.payload_of(tender, org, self.bid, self.offer, self.specs, self.attached)
        # The supplier signs that this revision belongs to the round.
        self.payload = {**payload, "rebidding": {"round": round_.number}}


def _open_round_of(tender: Tender) -> RebiddingRound:
    round_ = open_round(tender.id)
    if round_ is None:
        last = rounds_of(tender.id)
        if last:
            raise _closed(tender, last[-1].deadline)
        raise RoundRefused(
            "rebidding_none",
            Text(N_("Tender %(number)s has no re-bidding round running."), number=tender.number),
        )
    return round_


def _visible(tender_id: int, user: User, org: Organization | None) -> Tender:
    tender = db.session.get(Tender, tender_id)
    if tender is None or tender.status == "draft":
        raise NotFound(_("No such tender."))
    if org is None:
        raise Forbidden(_("Choose an organization first."))
    require_member(user, org.id)
    return tender


def prepare(user: User, org: Organization | None, tender_id: int, data: dict) -> dict:
    """Check an improved offer and return the exact payload (and bytes) to sign."""
    tender = _visible(tender_id, user, org)
    round_ = _open_round_of(tender)
    if clock.now() >= round_.deadline:
        raise _closed(tender, round_.deadline)
    improved = _Improved(user, org, tender, round_, data)
    return {
        "payload": improved.payload,
        "canonical_b64": base64.b64encode(canonical.canonicalize(improved.payload)).decode(),
        "digest_hex": canonical.digest_hex(improved.payload),
        "revision": improved.payload["revision"],
        "round": round_.number,
    }


def submit(
    user: User,
    org: Organization | None,
    tender_id: int,
    data: dict,
    key_id: int | None,
    signature: str,
) -> AcceptedRevision:
    """Accept a signed improved offer, or refuse it with nothing stored. Checked first (the
    rule, the signature), then decided under the tender's row lock from the round's deadline
    in force: at or after it the offer is refused; in its last window it moves it by the
    tender's auto-extension policy."""
    tender = _visible(tender_id, user, org)
    round_ = _open_round_of(tender)
    improved = _Improved(user, org, tender, round_, data)
    bids.signing.send(tender, user=user, org=org, payload=improved.payload)  # approvals
    if key_id is None:  # a qualified (CAdES) signature: its certificate is the key
        key_id = signatures.key_for_signature(user, signature).id
    key = signatures.verify_user_signature(
        user,
        key_id,
        improved.payload,
        signature,
        org=org,
        qualified_only=tender.qualified_signature_required,
    )
    tender = lock(Tender, tender.id)  # from here to the commit
    round_ = db.session.execute(
        select(RebiddingRound)
        .where(RebiddingRound.id == round_.id)
        .execution_options(populate_existing=True)
    ).scalar_one()
    now = clock.now()
    if round_.status != "open" or now >= round_.deadline:
        raise _closed(tender, round_.deadline)
    if not key.usable_at(now):
        raise Invalid(_("The signing key was revoked meanwhile."), {"key_id": _("Key revoked.")})
    bid = bids.own_bid(org, tender.id, fresh=True)
    if bids.bid_state(bid) != improved.state:
        raise RoundRefused(
            "bid_changed",
            Text(N_("Your bid changed while this offer was signed: prepare and sign again.")),
        )
    triggering = bid_rules.is_triggering(improved.previous, improved.offer)
    rank = (
        bids.price_rank(tender, org, improved.offer, improved.specs, now)
        if tender.extension_trigger_rank
        else None
    )
    decision = bid_rules.decide(
        round_.deadline,
        now,
        policy_of(tender),
        triggering=triggering,
        rank=rank,
        extensions_so_far=round_.extensions_count,
    )
    if not decision.accepted:
        raise _closed(tender, round_.deadline)
    signed = Signed(
        user, org, key, signature, improved.payload, improved.offer, improved.specs,
        improved.attached, triggering,
    )  # fmt: skip
    revision = bids.store_revision(tender, bid, signed, now, decision)
    documents.attach(revision, improved.attached)
    db.session.add(
        RebiddingOffer(revision_id=revision.id, round_id=round_.id, bid_id=bid.id, accepted_at=now)
    )
    better = rules.improved_positions(improved.previous, improved.offer)
    record(
        "rebidding.offer_accepted",
        "bid",
        bid.id,
        {
            "round": round_.number,
            "revision": revision.number,
            "hash": revision.payload_hash,
            "participant": bid.participant_number,
            "lowered": len(better),
        },
        actor_user_id=user.id,
        actor_org_id=org.id,
        chain=tender_chain(tender.id),
    )
    if triggering:
        bids.push_offer(tender, bid, bids.changed_prices(improved.previous, improved.offer))
    if decision.extended:
        _extend(tender, round_, user, org, decision, now)
    db.session.flush()
    return AcceptedRevision.of(
        {c.key: getattr(revision, c.key) for c in BidRevision.__table__.columns},
        improved.attached,
        tender,
        org,
        round_.deadline,
        round_.extensions_count,
    )


def _extend(tender, round_, user, org, decision: bid_rules.Decision, now: dt.datetime) -> None:
    round_.deadline = decision.deadline
    round_.extensions_count += 1
    payload = {
        "round": round_.number,
        "previous": decision.previous_deadline.isoformat(),
        "deadline": decision.deadline.isoformat(),
        "server_time": now.isoformat(),
        "extensions": round_.extensions_count,
    }
    record(
        "rebidding.extended",
        "tender",
        tender.id,
        payload,
        actor_user_id=user.id,
        actor_org_id=org.id,
        chain=tender_chain(tender.id),
    )
    record_event("rebidding.extended", tender.id, {"number": tender.number, **payload})
    live.emit("rebidding_extended", {"tender_id": tender.id, **payload}, tender_room(tender.id))


# -- the round as shown --------------------------------------------------------------------------


def _lines(revision_ids: set[tuple[int, int]]) -> dict[tuple[int, int], dict[str, Decimal]]:
    """(bid id, revision number) -> {position: unit price}."""
    if not revision_ids:
        return {}
    bid_ids = {b for b, _ in revision_ids}
    numbers = {n for _, n in revision_ids}  # not every revision of those bids: a few
    out: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(dict)
    for bid_id, number, position, price in db.session.execute(
        select(BidRevision.bid_id, BidRevision.number, BidLine.position_number, BidLine.unit_price)
        .join(BidLine, BidLine.revision_id == BidRevision.id)
        .where(BidRevision.bid_id.in_(bid_ids), BidRevision.number.in_(numbers))
    ):
        if (bid_id, number) in revision_ids:
            out[(bid_id, number)][position] = price
    return out


def _round_offers(round_id: int) -> tuple[dict[int, tuple[int, dt.datetime]], dict[int, int]]:
    """bid id -> (its latest revision number in the round, when), and -> offers it made."""
    last: dict[int, tuple[int, dt.datetime]] = {}
    count: dict[int, int] = defaultdict(int)
    for bid_id, number, at in db.session.execute(
        select(RebiddingOffer.bid_id, BidRevision.number, RebiddingOffer.accepted_at)
        .join(BidRevision, BidRevision.id == RebiddingOffer.revision_id)
        .where(RebiddingOffer.round_id == round_id)
        .order_by(BidRevision.number)
    ):
        last[bid_id] = (number, at)
        count[bid_id] += 1
    return last, count


def _offer_count(round_id: int) -> int:
    return db.session.execute(
        select(func.count()).where(RebiddingOffer.round_id == round_id)
    ).scalar_one()


def _invitees(round_: RebiddingRound) -> dict[int, tuple[Bid, Organization]]:
    """bid id -> (bid, organization) of everyone the round invites."""
    return {
        bid.id: (bid, org)
        for bid, org in db.session.execute(
            select(Bid, Organization)
            .join(Organization, Organization.id == Bid.organization_id)
            .where(Bid.id.in_({i.bid_id for i in round_.invitations}))
        ).all()
    }


def _price_rows(invitation, bid: Bid, org: Organization, lot: Lot, before: dict, after: dict):
    """One row per position the invitee offered in the lot: its unit price before and after."""
    for p in lot.positions:
        if p.number in before:
            yield {
                "lot": invitation.lot_number,
                "position": p.number,
                "name": p.name,
                "participant": bid.participant_number,
                "organization": org.name,
                "before": before[p.number],
                "after": after.get(p.number, before[p.number]),
            }


def _head(round_: RebiddingRound, offers: int) -> dict:
    """What everyone sees of a round: lots, deadline, scope, how many offers."""
    return {
        "id": round_.id,
        "number": round_.number,
        "status": round_.status,
        "scope": round_.scope,
        "announced_at": round_.announced_at,
        "original_deadline": round_.original_deadline,
        "deadline": round_.deadline,
        "extensions": round_.extensions_count,
        "closed_at": round_.closed_at,
        "lots": sorted({i.lot_number for i in round_.invitations}),
        "invited": None,
        "positions": None,
        "offers": offers,
    }


def report(round_: RebiddingRound) -> dict:
    """A round as the review, the results, the protocol and the OCDS export show it: who was
    invited to which lots, their offers in the round, and per position the price before and
    after (the latest revision submitted in the round, else the one before)."""
    last, count = _round_offers(round_.id)
    people = _invitees(round_)
    wanted = {(i.bid_id, i.revision_before) for i in round_.invitations}
    wanted |= {(bid_id, number) for bid_id, (number, _) in last.items()}
    prices = _lines(wanted)
    lots = {lot.id: lot for lot in db.session.get(Tender, round_.tender_id).lots}
    invited: dict[int, dict] = {}
    rows = []
    for i in round_.invitations:
        bid, org = people[i.bid_id]
        person = invited.setdefault(
            bid.id,
            {
                "participant": bid.participant_number,
                "bid_id": bid.id,
                "organization_id": org.id,
                "name": org.name,
                "inn": org.inn,
                "lots": [],
                "offers": count.get(bid.id, 0),
                "last_offer_at": last[bid.id][1] if bid.id in last else None,
            },
        )
        person["lots"].append(i.lot_number)
        before = prices.get((bid.id, i.revision_before), {})
        after = prices.get((bid.id, last[bid.id][0]), before) if bid.id in last else before
        rows += _price_rows(i, bid, org, lots[i.lot_id], before, after)
    rows.sort(key=lambda r: (r["lot"], _natural(r["position"]), r["participant"]))
    return {
        **_head(round_, sum(count.values())),
        "invited": sorted(invited.values(), key=lambda p: p["participant"]),
        "positions": rows,
    }


def _natural(number: str) -> tuple:
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in number.split("."))


def reports(tender_id: int) -> list[dict]:
    """Every round of a tender as report() shows it."""
    return [report(r) for r in rounds_of(tender_id)]


def invitation_of(round_: RebiddingRound, org: Organization | None) -> dict | None:
    """What an invitee sees of its invitation: its lots, its current prices there and, when
    the round takes criteria, its current criterion values of those lots."""
    if org is None:
        return None
    bid = bids.own_bid(org, round_.tender_id)
    mine = _invitations(round_, bid)
    if not mine:
        return None
    tender = db.session.get(Tender, round_.tender_id)
    current = bids.current_offer(tender, bid)
    lots = {i.lot_id for i in mine}
    positions = [
        {
            "lot": lot.number,
            "position": p.number,
            "name": p.name,
            "quantity": p.quantity,
            "unit_price": Decimal(current["lines"][p.number]["unit_price"]),
        }
        for lot in sorted(tender.lots, key=lambda lot: lot.number)
        if lot.id in lots
        for p in sorted(lot.positions, key=lambda p: p.sort_key)
        if p.number in current["lines"]
    ]
    numbers = sorted(i.lot_number for i in mine)
    criteria = [
        {"lot": lot, "criterion": criterion, "value": value}
        for key, value in sorted(current["criteria"].items())
        for lot, criterion in [tuple(int(part) for part in key.split(":"))]
        if lot in numbers
    ]
    return {
        "lots": numbers,
        "positions": positions,
        "criteria": criteria if round_.criteria_allowed else [],
    }


def shown(tender: Tender, org: Organization | None) -> list[dict]:
    """The tender's rounds as this viewer may see them: everyone the round (lots, deadline,
    scope, number of offers); the customer, and once results are published its participants,
    also who was invited and every price before and after; an invitee its own invitation."""
    full = org is not None and (org.id == tender.customer_id or view_level(tender, org) == "detail")
    out = []
    for round_ in rounds_of(tender.id):  # the public: no names, no prices to read
        item = report(round_) if full else _head(round_, _offer_count(round_.id))
        item["invitation"] = invitation_of(round_, org) if round_.status == "open" else None
        item["server_time"] = clock.now()
        out.append(item)
    return out
