"""What accepting a revision stores and shows, alike on the locked path (bids/service.py)
and in the one-call path (bids/accept_pg.py): the signed offer waiting to be accepted, the
rows it becomes, its audit payloads, and the accepted revision as the bidder is shown it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import NamedTuple

from sqlalchemy import func, select

from accounts.models import Organization, User
from bids import rules
from bids.models import Bid, BidRevision, OrganizationDocument
from core.extensions import db
from positions.models import Criterion, Position
from signatures import canonical
from signatures import service as signatures
from signatures.models import SigningKey
from signatures.payloads import receipt_payload, utc_timestamp
from tenders.models import Lot, Tender


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


class Rows(NamedTuple):
    """What accepting a revision stores: the revision, its lines (without the revision id)
    and its criterion values (lot, criterion, text)."""

    revision: dict
    lines: list[dict]
    criteria: list[tuple[int, int, str]]


def value_text(value: object) -> str:
    """A criterion value as stored."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def accepted_rows(
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
        (lot, criterion, value_text(value)) for (lot, criterion), value in offer.criteria.items()
    ]
    return Rows(revision, lines, criteria)


def revision_event(bid: Bid, rows: Rows) -> dict:
    """The audit payload of bid.revision_accepted."""
    return {
        "revision": rows.revision["number"],
        "hash": rows.revision["payload_hash"],
        "triggering": rows.revision["triggering"],
        "participant": bid.participant_number,
        "positions": len(rows.lines),
    }


def extension_event(decision: rules.Decision, now: dt.datetime, extensions: int) -> dict:
    """What an extension tells: the new and previous deadline, the server time."""
    return {
        "previous": decision.previous_deadline.isoformat(),
        "deadline": decision.deadline.isoformat(),
        "server_time": now.isoformat(),
        "extensions": extensions,
    }


def bids_so_far(tender: Tender) -> int:
    """The tender's bids, withdrawn ones included (a new bid's participant number - 1)."""
    return db.session.execute(
        select(func.count()).select_from(Bid).where(Bid.tender_id == tender.id)
    ).scalar_one()


def receipt_of(revision, tender: Tender, org: Organization) -> dict:
    """The platform receipt of a revision (payload + signature), rebuilt from what is stored
    (revision: a BidRevision or an AcceptedRevision)."""
    payload = receipt_payload(
        revision_hash=revision.payload_hash,
        accepted_at=utc_timestamp(revision.accepted_at),
        tender_number=tender.number,
        bidder_inn=org.inn,
        revision=revision.number,
    )
    return {"payload": payload, "signature": revision.receipt_signature}


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


@dataclass(frozen=True)
class AttachedDocument:
    """A document the revision was signed with, as shown."""

    document_id: int
    name: str
    sha256: str


_COLUMNS = tuple(c.key for c in BidRevision.__table__.columns)


@dataclass(frozen=True)
class AcceptedRevision:
    """An accepted revision as the bidder is shown it: its stored columns, the documents it
    was signed with, the platform's signed receipt, and the deadline now in force with the
    number of extensions so far. Plain data: nothing to load after the commit."""

    id: int
    bid_id: int
    number: int
    accepted_at: dt.datetime
    submitted_by_id: int
    signing_key_id: int
    signature: str
    payload_hash: str
    previous_hash: str | None
    receipt_signature: str
    triggering: bool
    deadline_before: dt.datetime
    deadline_after: dt.datetime
    total: Decimal
    documents: list[AttachedDocument]
    receipt: dict
    bid_deadline: dt.datetime
    extensions_count: int

    @property
    def extended(self) -> bool:
        return self.deadline_after != self.deadline_before

    @classmethod
    def of(
        cls,
        columns: dict,
        attached: list[OrganizationDocument],
        tender: Tender,
        org: Organization,
        deadline: dt.datetime,
        extensions: int,
    ) -> AcceptedRevision:
        """From the revision's columns (every column of bid_revisions, by name), the
        documents it was signed with, and the deadline and extensions now in force."""
        values = {k: columns[k] for k in _COLUMNS}
        return cls(
            **values,
            documents=shown_documents(attached),
            receipt=receipt_of(SimpleNamespace(**values), tender, org),
            bid_deadline=deadline,
            extensions_count=extensions,
        )

    @classmethod
    def of_stored(
        cls,
        revision: BidRevision,
        tender: Tender,
        org: Organization,
        attached: list[OrganizationDocument],
    ) -> AcceptedRevision:
        """From a revision stored through the session (the locked path), the tender as it
        now stands."""
        columns = {k: getattr(revision, k) for k in _COLUMNS}
        return cls.of(columns, attached, tender, org, tender.bid_deadline, tender.extensions_count)


def shown_documents(attached: list[OrganizationDocument]) -> list[AttachedDocument]:
    """The documents a revision was signed with as stored with it, in their stored order."""
    return [
        AttachedDocument(d.id, d.filename, d.sha256)
        for d in sorted(attached, key=lambda d: d.filename)
    ]
