"""Producing the platform's documents: the signed results protocol, bid receipt PDFs and the
OCDS export. Services flush; the entrypoint (job, view) commits once."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from accounts.models import Organization, User
from accounts.service import require_member, require_sight
from audit.models import AuditEvent
from audit.service import record
from bids.models import Bid, BidCriterionValue, BidLine, BidRevision
from bids.service import own_bid, receipt_of
from core import clock
from core.chains import tender_chain
from core.errors import Conflict, Forbidden, NotFound
from core.extensions import db
from core.files import save_stream
from core.http import base_url
from core.i18n import supported
from core.transaction import lock
from positions import classifiers
from positions.models import Criterion, Position
from reports import ocds, pdf, price_history, protocol, receipt
from reports.models import SignedDocument
from reports.results import PublishedResults, published_results
from results.correction import protocol_notes, versions
from results.models import Award, AwardOffer
from results.rebidding import service as rebidding_service
from signatures import canonical
from signatures import service as signatures
from signatures.models import SigningKey
from signatures.payloads import utc_timestamp
from tenders import service as tenders
from tenders.models import Lot, Question, Tender

PROTOCOL = "results_protocol"
MAX_PDF_BYTES = 512 * 1024 * 1024


def document_language(tender: Tender) -> str:
    """The language the tender's documents are written in (set at publication; Russian by
    default): the protocol and every receipt, whoever downloads them."""
    return supported(tender.language) or "ru"


def _unit(code: str) -> str:
    found = classifiers.unit(code)
    return found.short if found else code


# -- the results protocol ---------------------------------------------------------------------


def latest_protocol(tender: Tender) -> SignedDocument | None:
    """The current (newest) protocol of a tender, if one was produced."""
    return db.session.execute(
        select(SignedDocument)
        .where(SignedDocument.tender_id == tender.id, SignedDocument.kind == PROTOCOL)
        .order_by(SignedDocument.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def generate_protocol(tender_id: int) -> SignedDocument | None:
    """Produce, store and sign the protocol of published results, and record its hash in the
    tender's audit chain. Idempotent: nothing new while the published results are those of
    the latest protocol (a correction of the results gives the next version)."""
    tender = lock(Tender, tender_id)  # one producer at a time per tender
    if tender is None or tender.status != "results_published":
        return None
    results = published_results(tender)
    if results is None:
        return None
    stamp = utc_timestamp(results.published_at)
    latest = latest_protocol(tender)
    if latest is not None and latest.signed_payload.get("results_published_at") == stamp:
        return latest
    version = (latest.version if latest else 0) + 1
    now = clock.now()
    with force_locale(document_language(tender)):
        content = protocol.render(protocol_data(tender, results, now))
    sha, size = save_stream(io.BytesIO(content), MAX_PDF_BYTES)
    payload = {
        **protocol.signed_payload(tender.number, sha, size, utc_timestamp(now), version),
        "results_published_at": stamp,
    }
    _payload, signature = signatures.sign_platform(payload)
    doc = SignedDocument(
        tender_id=tender.id,
        kind=PROTOCOL,
        version=version,
        filename=f"protocol-{tender.number}" + (f"-v{version}" if version > 1 else "") + ".pdf",
        content_type="application/pdf",
        sha256=sha,
        size=size,
        signed_payload=payload,
        signature=signature,
        key_fingerprint=signatures.platform_key_info().fingerprint,
        created_at=now,
    )
    db.session.add(doc)
    db.session.flush()
    record(
        "tender.protocol_signed",
        "tender",
        tender.id,
        {"version": version, "sha256": sha, "size": size, "signature": signature},
        actor_org_id=None,
        chain=tender_chain(tender.id),
    )
    return doc


def protocol_data(tender: Tender, results: PublishedResults, now) -> protocol.ProtocolData:
    """Everything the protocol shows, read from the database and the published results."""
    customer = db.session.get(Organization, tender.customer_id)
    bids = _bids_with_orgs(tender)
    names = {bid.id: org.name for bid, org in bids}
    lots = {lot.number: lot for lot in tender.lots}
    positions = {
        (p.lot_id, p.number): p
        for p in db.session.execute(
            select(Position).where(Position.tender_id == tender.id)
        ).scalars()
    }
    return protocol.ProtocolData(
        number=tender.number,
        title=tender.title,
        customer_name=customer.name,
        customer_inn=customer.inn,
        currency=tender.currency,
        vat_mode=tender.vat_mode,
        timezone=tender.timezone,
        published_at=tender.published_at,
        original_deadline=tender.original_deadline,
        final_deadline=tender.bid_deadline,
        closed_at=tender.closed_at,
        results_published_at=results.published_at,
        generated_at=now,
        extensions=tuple(extensions(tender)),
        participants=tuple(_participants(bids, results)),
        results=tuple(_item_results(results, lots, positions, names)),
        disqualifications=tuple(
            protocol.Disqualification(
                names.get(d.bid_id, _("bid %(id)s", id=d.bid_id)), d.lot_number, d.reason, d.at
            )
            for d in results.disqualifications
        ),
        scored=any(c.weight > 0 and c.kind != "text" for lot in tender.lots for c in lot.criteria),
        notes=tuple(_correction_notes(tender)),
        decision=_decision(results),
        rebidding=tuple(rebidding_service.reports(tender.id)),
        charts=tuple(price_charts(tender)),
    )


def _decision(results: PublishedResults) -> protocol.CommissionDecision | None:
    """The commission's decision as the protocol shows it (every member, voted or not)."""
    d = results.decision
    if d is None:
        return None
    votes = {v.user_id: v for v in d.votes}
    return protocol.CommissionDecision(
        closed_at=d.closed_at,
        closed_by=d.closed_by,
        votes_for=d.tally.votes_for,
        members=d.tally.members,
        deviations=tuple(
            protocol.DecisionLine(
                f"{x.lot} / {x.position}" if x.position else _("Lot %(lot)s", lot=x.lot),
                x.name,
                x.top_name,
                x.winner_name if x.outcome == "choose" else None,
                x.reason,
            )
            for x in d.deviations
            if x.reason
        ),
        votes=tuple(
            protocol.VoteLine(
                m.name,
                m.is_chair,
                votes[m.user_id].choice if m.user_id in votes else "",
                votes[m.user_id].comment if m.user_id in votes else "",
                votes[m.user_id].cast_at if m.user_id in votes else None,
            )
            for m in d.members
        ),
    )


def price_charts(tender: Tender) -> list[protocol.LotChart]:
    """Each lot's price history as the protocol draws it: every participant by name."""
    out = []
    for lot in tender.lots:
        data = price_history.history(tender, None, price_history.Scope(lot, None), "named")
        times = sorted({p["at"] for s in data["series"] for p in s["points"]})
        index = {at: i for i, at in enumerate(times)}
        lines = []
        for s in data["series"]:
            values: list = [None] * len(times)
            points = iter(s["points"])
            current, nxt = None, next(points, None)
            for i, at in enumerate(times):
                while nxt is not None and nxt["at"] <= at:
                    current, nxt = nxt["value"], next(points, None)
                values[i] = current
            lines.append(protocol.ChartLine(s["label"], s["role"], tuple(values)))
        marks = [
            index.get(e["at"], next((i for i, at in enumerate(times) if at >= e["at"]), None))
            for e in data["extensions"]
        ]
        out.append(
            protocol.LotChart(
                lot.number,
                lot.title,
                data["kind"],
                tuple(times),
                tuple(lines),
                tuple(i for i in marks if i is not None),
            )
        )
    return out


def _correction_notes(tender: Tender) -> list[str]:
    """Which results version the protocol shows and every correction's reason and changes."""
    return protocol_notes(tender, lambda moment: pdf.local_time(moment, tender.timezone))


def extensions(tender: Tender) -> list[protocol.Extension]:
    """Every automatic extension, from the tender's audit chain (in order)."""
    events = db.session.execute(
        select(AuditEvent.payload)
        .where(AuditEvent.chain == tender_chain(tender.id), AuditEvent.action == "tender.extended")
        .order_by(AuditEvent.seq)
    ).scalars()
    return [
        protocol.Extension(
            at=dt.datetime.fromisoformat(p["server_time"]),
            previous=dt.datetime.fromisoformat(p["previous"]),
            deadline=dt.datetime.fromisoformat(p["deadline"]),
        )
        for p in events
    ]


def _bids_with_orgs(tender: Tender) -> list[tuple[Bid, Organization]]:
    return list(
        db.session.execute(
            select(Bid, Organization)
            .join(Organization, Organization.id == Bid.organization_id)
            .where(Bid.tender_id == tender.id)
            .order_by(Bid.participant_number)
        ).all()
    )


def _participants(bids, results: PublishedResults):
    latest_at = dict(
        db.session.execute(
            select(BidRevision.bid_id, func.max(BidRevision.accepted_at))
            .where(BidRevision.bid_id.in_([b.id for b, _ in bids]))
            .group_by(BidRevision.bid_id)
        ).all()
    )
    last_keys = dict(
        db.session.execute(
            select(BidRevision.bid_id, BidRevision.signing_key_id)
            .join(Bid, Bid.id == BidRevision.bid_id)
            .where(
                BidRevision.bid_id.in_([b.id for b, _ in bids]),
                BidRevision.number == Bid.revision_count,
            )
        ).all()
    )
    whole = {d.bid_id for d in results.disqualifications if d.lot_number is None}
    partly = {d.bid_id for d in results.disqualifications if d.lot_number is not None}
    for bid, org in bids:
        if bid.status == "withdrawn":
            status = "withdrawn"
        elif bid.id in whole:
            status = "disqualified"
        elif bid.id in partly:
            status = "partly_disqualified"
        else:
            status = "valid"
        yield protocol.Participant(
            number=bid.participant_number,
            name=org.name,
            inn=org.inn,
            status=status,
            first_bid_at=bid.first_bid_at,
            revisions=bid.revision_count,
            last_accepted_at=latest_at.get(bid.id),
            signed_with=signatures.signature_line(signatures.signature_view(last_keys.get(bid.id))),
        )


def _item_results(results: PublishedResults, lots, positions, names):
    for unit in results.units:
        lot = lots[unit.lot_number]
        winner = unit.winner if unit.status == "awarded" else None
        if unit.position_number is not None:
            p = positions[(lot.id, unit.position_number)]
            name, quantity, unit_name = p.name, p.quantity, _unit(p.unit_code)
        else:
            name, quantity, unit_name = lot.title, None, ""
        yield protocol.ItemResult(
            lot_number=lot.number,
            lot_title=lot.title,
            position=unit.position_number,
            name=name,
            quantity=quantity,
            unit=unit_name,
            max_total=unit.reference_total,
            status=unit.status,
            winner=names.get(winner.bid_id) if winner else None,
            unit_price=winner.unit_price if winner else None,
            total=winner.total if winner else None,
            score=winner.score if winner else None,
            offers=tuple(
                protocol.RankedOffer(
                    rank=o.rank,
                    participant=names.get(o.bid_id, f"bid {o.bid_id}"),
                    unit_price=o.unit_price,
                    total=o.total,
                    score=o.score,
                    won=winner is not None and o.bid_id == winner.bid_id,
                )
                for o in unit.offers
            ),
        )


def protocol_signature(doc: SignedDocument, tender: Tender) -> dict:
    """The detached signature published beside the PDF (protocol.pdf.sig)."""
    info = signatures.platform_key_info()
    return {
        "type": "detached-signature",
        "document": doc.filename,
        "sha256": doc.sha256,
        "payload": doc.signed_payload,
        # The exact signed bytes, so `openssl dgst -sha256 -verify` needs no canonicalizer.
        "canonical_b64": base64.b64encode(canonical.canonicalize(doc.signed_payload)).decode(),
        "signature": doc.signature,
        "algorithm": info.algorithm,
        "key_fingerprint": doc.key_fingerprint,
        "verify": "The PDF's SHA-256 must equal payload.sha256. The signature covers the "
        "payload's canonical JSON (RFC 8785, given as canonical_b64): POST {payload, signature} "
        "to /api/v1/receipts/verify, or: openssl dgst -sha256 -verify platform-key.pem "
        "-signature <(base64 -d of signature) <(base64 -d of canonical_b64).",
    }


def verify_protocol(doc: SignedDocument, content: bytes) -> None:
    """Check a protocol file against its stored signature; raises Invalid or Conflict."""
    if hashlib.sha256(content).hexdigest() != doc.signed_payload.get("sha256"):
        raise Conflict(_("The file does not match the signed protocol (SHA-256 differs)."))
    signatures.verify_platform(doc.signed_payload, doc.signature)


# -- bid receipts -----------------------------------------------------------------------------


def receipt_pdf(
    user: User, org: Organization | None, tender: Tender, revision_number: int
) -> tuple[bytes, str]:
    """The receipt PDF of one revision of the caller organization's own bid (nobody else's:
    another organization simply has no such bid)."""
    if org is None:
        raise Forbidden(_("Choose an organization first."))
    require_member(user, org.id)
    bid = own_bid(org, tender.id)
    if bid is None:
        raise NotFound(_("Your organization has no bid on this tender."))
    require_sight(user, org.id, {bid.responsible_id})  # a specialist: the bids in its charge
    revision = db.session.execute(
        select(BidRevision).where(
            BidRevision.bid_id == bid.id, BidRevision.number == revision_number
        )
    ).scalar_one_or_none()
    if revision is None:
        raise NotFound(_("Your bid has no revision %(n)s.", n=revision_number))
    with force_locale(document_language(tender)):
        content = receipt.render(receipt_data(tender, org, revision))
    return content, f"receipt-{tender.number}-r{revision.number}.pdf"


def receipt_data(tender: Tender, org: Organization, revision: BidRevision) -> receipt.ReceiptData:
    """A revision's lines, criterion values, signatures and platform receipt."""
    lines = db.session.execute(
        select(BidLine, Position, Lot.number)
        .join(Position, Position.id == BidLine.position_id)
        .join(Lot, Lot.id == Position.lot_id)
        .where(BidLine.revision_id == revision.id)
        .order_by(Lot.number, Position.sort_key)
    ).all()
    values = db.session.execute(
        select(BidCriterionValue, Criterion)
        .join(Criterion, Criterion.id == BidCriterionValue.criterion_id)
        .where(BidCriterionValue.revision_id == revision.id)
        .order_by(BidCriterionValue.lot_number, Criterion.sort_order, Criterion.id)
    ).all()
    key = db.session.get(SigningKey, revision.signing_key_id)
    signer = db.session.get(User, revision.submitted_by_id)
    customer = db.session.get(Organization, tender.customer_id)
    slip = receipt_of(revision, tender, org)
    return receipt.ReceiptData(
        tender_number=tender.number,
        tender_title=tender.title,
        customer_name=customer.name,
        supplier_name=org.name,
        supplier_inn=org.inn,
        currency=tender.currency,
        timezone=tender.timezone,
        revision=revision.number,
        accepted_at=revision.accepted_at,
        revision_hash=revision.payload_hash,
        previous_hash=revision.previous_hash,
        deadline_after=revision.deadline_after,
        extended=revision.deadline_after != revision.deadline_before,
        total=revision.total,
        lines=tuple(
            receipt.ReceiptLine(
                lot_number=lot_number,
                position=p.number,
                name=p.name,
                quantity=p.quantity,
                unit=_unit(p.unit_code),
                unit_price=line.unit_price,
                total=line.total,
                note=line.note,
            )
            for line, p, lot_number in lines
        ),
        criteria=tuple(
            receipt.ReceiptCriterion(v.lot_number, c.name, _criterion_text(v.value), c.unit)
            for v, c in values
        ),
        signer_email=signer.email if signer else "",
        key_algorithm=key.algorithm,
        key_fingerprint=key.fingerprint,
        supplier_signature=revision.signature,
        receipt_payload=slip["payload"],
        receipt_signature=slip["signature"],
        platform_fingerprint=signatures.platform_key_info().fingerprint,
        signature_kind=signatures.signature_line(view := signatures.signature_view(key)),
        qualified_signer=view["signer"] if view else None,
    )


def _criterion_text(value: str) -> str:
    if value in ("true", "false"):
        return _("yes") if value == "true" else _("no")
    return value


# -- OCDS ------------------------------------------------------------------------------------


def ocds_source(tender: Tender) -> ocds.Source:
    """What the export reads; ocds.release decides what of it the tender's stage discloses
    (published results are read only once they are published)."""
    phase = ocds.stage(tender.status, tender.bid_deadline, clock.now())
    customer = db.session.get(Organization, tender.customer_id)
    questions = tenders.public_questions(tender)  # answered ones, the asker never named
    asked = db.session.execute(
        select(func.count()).select_from(Question).where(Question.tender_id == tender.id)
    ).scalar_one()
    results = published_results(tender) if phase == "results" else None
    return ocds.Source(
        tender=tender,
        customer=customer,
        lots=tuple(tender.lots),
        bids=tuple(_bid_facts(tender)),
        questions=tuple(questions),
        questions_asked=asked,
        results=_results_facts(tender, results) if results else None,
        rebidding=tuple(rebidding_service.reports(tender.id)),
    )


def _results_facts(tender: Tender, results: PublishedResults) -> ocds.ResultsFacts:
    """The published results with their versions (corrections) as plain data."""
    found = tuple(
        ocds.VersionFacts(
            number=v.number,
            published_at=v.published_at,
            reason=v.reason,
            changes=tuple(
                ocds.Change(c["action"], c["participant"], c.get("lot"), c.get("reason", ""))
                for c in v.changes
            ),
        )
        for v in versions(tender)
    )
    return ocds.ResultsFacts(
        published_at=results.published_at,
        units=results.units,
        disqualified={
            d.bid_id: d.reason for d in results.disqualifications if d.lot_number is None
        },
        disqualified_lots={
            (d.bid_id, d.lot_number): d.reason
            for d in results.disqualifications
            if d.lot_number is not None
        },
        versions=found,
        offered=_offered(tender, {c.participant for v in found for c in v.changes}),
        vote_note=_vote_note(results.decision),
    )


def _vote_note(decision) -> str | None:
    """The commission's vote in one English sentence (OCDS keeps the standard's English)."""
    if decision is None:
        return None
    votes = "; ".join(
        f"{v.name} {v.choice} ({v.cast_at.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ})"
        + (f": {v.comment}" if v.comment else "")
        for v in decision.votes
    )
    closed = decision.closed_at.astimezone(dt.UTC) if decision.closed_at else None
    return (
        f"Decided by the customer's commission ({decision.tally.votes_for} of "
        f"{decision.tally.members} members for"
        + (f", vote closed {closed:%Y-%m-%dT%H:%M:%SZ}" if closed else "")
        + f"). Votes: {votes}."
    )


def _offered(tender: Tender, participants: set[int]) -> dict[int, frozenset]:
    """Participant number -> the units (lot, position or None) where it has an offer in the
    results, valid or disqualified: the awards a correction about it changes (read only for
    the participants some correction named)."""
    if not participants:
        return {}
    rows = db.session.execute(
        select(Bid.participant_number, Award.lot_number, Award.position_number)
        .join(AwardOffer, AwardOffer.bid_id == Bid.id)
        .join(Award, Award.id == AwardOffer.award_id)
        .where(Award.tender_id == tender.id, Bid.participant_number.in_(participants))
    ).all()
    found: dict[int, set] = {}
    for participant, lot, position in rows:
        found.setdefault(participant, set()).add((lot, position))
    return {p: frozenset(units) for p, units in found.items()}


def _bid_facts(tender: Tender) -> list[ocds.BidFacts]:
    """Each bid with its latest revision's total per lot."""
    bids = _bids_with_orgs(tender)
    if not bids:
        return []
    latest = (
        select(BidRevision.id)
        .join(Bid, Bid.id == BidRevision.bid_id)
        .where(Bid.tender_id == tender.id, BidRevision.number == Bid.revision_count)
    )
    rows = db.session.execute(
        select(BidRevision.bid_id, BidRevision.accepted_at, Lot.number, func.sum(BidLine.total))
        .join(BidLine, BidLine.revision_id == BidRevision.id)
        .join(Position, Position.id == BidLine.position_id)
        .join(Lot, Lot.id == Position.lot_id)
        .where(BidRevision.id.in_(latest))
        .group_by(BidRevision.bid_id, BidRevision.accepted_at, Lot.number)
    ).all()
    totals: dict[int, dict[int, Decimal]] = {}
    accepted = {}
    for bid_id, accepted_at, lot_number, total in rows:
        totals.setdefault(bid_id, {})[lot_number] = Decimal(total)
        accepted[bid_id] = accepted_at
    return [
        ocds.BidFacts(
            bid_id=bid.id,
            participant_number=bid.participant_number,
            organization=org,
            status="withdrawn" if bid.status == "withdrawn" else "active",
            accepted_at=accepted.get(bid.id),
            lot_totals=totals.get(bid.id, {}),
        )
        for bid, org in bids
    ]


def ocds_package(tender: Tender) -> dict:
    """The tender's OCDS release package (public: drafts are refused by the caller)."""
    cfg = current_app.config
    base = base_url()
    return ocds.package(
        ocds_source(tender),
        prefix=cfg["OCDS_PREFIX"],
        uri=f"{base}/api/v1/tenders/{tender.id}/ocds",
        publisher=cfg["OCDS_PUBLISHER"],
        now=clock.now(),
    )
