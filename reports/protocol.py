"""The results protocol: its content as plain data, the PDF rendered from it, and the object
the platform signs for it. Pure: the service gathers the data from the database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from reportlab.lib.units import mm

from positions import evaluation as ev
from reports import pdf

PROTOCOL_TYPE = "results-protocol"
PROTOCOL_VERSION = 1
# Beyond this many ranked-offer rows the document lists the best offers of each item only
# (10,000 positions x 30 bids would be 6,000 pages); the data stay complete elsewhere.
MAX_RANKED_ROWS = 20_000

STATUS_LABELS = {
    "valid": "valid",
    "withdrawn": "withdrawn",
    "disqualified": "disqualified",
    "partly_disqualified": "disqualified in part",
}
VAT_LABELS = {"included": "prices include VAT", "excluded": "prices exclude VAT", "none": "no VAT"}


@dataclass(frozen=True)
class Extension:
    """One automatic extension of the deadline (from the tender's audit chain)."""

    at: dt.datetime
    previous: dt.datetime
    deadline: dt.datetime


@dataclass(frozen=True)
class Participant:
    """A bidder as the protocol names it (names are revealed once bidding has closed)."""

    number: int
    name: str
    inn: str
    status: str  # valid | withdrawn | disqualified | partly_disqualified
    first_bid_at: dt.datetime
    revisions: int
    last_accepted_at: dt.datetime | None


@dataclass(frozen=True)
class RankedOffer:
    """One valid offer on a position (or a whole lot), in rank order."""

    rank: int
    participant: str
    unit_price: Decimal | None  # None for a whole lot (priced on its total)
    total: Decimal
    score: Decimal | None = None


@dataclass(frozen=True)
class ItemResult:
    """The result of one position of a `per_position` lot, or of a `whole_lot` lot."""

    lot_number: int
    lot_title: str
    position: str | None  # position number; None when the whole lot is awarded
    name: str
    quantity: Decimal | None
    unit: str
    max_total: Decimal | None
    status: str  # awarded | unsuccessful
    winner: str | None = None
    unit_price: Decimal | None = None
    total: Decimal | None = None
    score: Decimal | None = None
    offers: tuple[RankedOffer, ...] = ()


@dataclass(frozen=True)
class Disqualification:
    participant: str
    lot_number: int | None  # None: the whole bid
    reason: str
    at: dt.datetime


@dataclass(frozen=True)
class ProtocolData:
    number: str
    title: str
    customer_name: str
    customer_inn: str
    currency: str
    vat_mode: str
    timezone: str
    published_at: dt.datetime | None
    original_deadline: dt.datetime | None
    final_deadline: dt.datetime | None
    closed_at: dt.datetime | None
    results_published_at: dt.datetime | None
    generated_at: dt.datetime
    extensions: tuple[Extension, ...] = ()
    participants: tuple[Participant, ...] = ()
    results: tuple[ItemResult, ...] = ()
    disqualifications: tuple[Disqualification, ...] = ()
    scored: bool = False  # any lot with weighted criteria: show the score columns
    notes: tuple[str, ...] = field(default=())


def signed_payload(number: str, sha256: str, size: int, generated_at: str, version: int) -> dict:
    """What the platform signs for a protocol: the PDF's SHA-256 bound to the tender."""
    return {
        "type": PROTOCOL_TYPE,
        "version": PROTOCOL_VERSION,
        "tender": number,
        "protocol_version": version,
        "sha256": sha256,
        "size": size,
        "generated_at": generated_at,
    }


def savings(results: tuple[ItemResult, ...]) -> tuple[Decimal, Decimal] | None:
    """(awarded total, maximum total) over awarded items that have a maximum price."""
    awarded = [r for r in results if r.status == "awarded" and r.max_total and r.total]
    if not awarded:
        return None
    return sum((r.total for r in awarded), Decimal(0)), sum(
        (r.max_total for r in awarded), Decimal(0)
    )


def render(data: ProtocolData) -> bytes:
    """The protocol as a PDF."""
    zone = data.timezone
    width = pdf.usable_width(wide=True)
    story = [
        pdf.heading(f"Results protocol — tender {data.number}", "title"),
        pdf.para(data.title, "h2"),
        pdf.facts(
            [
                ("Customer", f"{data.customer_name} (INN {data.customer_inn})"),
                ("Currency", f"{data.currency}, {VAT_LABELS.get(data.vat_mode, data.vat_mode)}"),
                ("Times", f"shown in {zone}"),
                ("Participants", str(len(data.participants))),
            ],
            (45 * mm, width - 45 * mm),
        ),
        pdf.heading("Timeline"),
        _timeline(data, width),
        pdf.heading("Participants"),
        _participants(data, width),
        pdf.heading("Results per position"),
        _summary(data, width),
        _savings(data),
        pdf.heading("Ranked offers"),
        _ranked(data, width),
        pdf.heading("Disqualifications"),
        _disqualifications(data, width),
    ]
    story += [pdf.spacer(5)] + [pdf.para(note, "small") for note in data.notes]
    story.append(
        pdf.para(
            f"Generated {pdf.local_time(data.generated_at, zone)}. Signed by the platform key: "
            "the detached signature (protocol.pdf.sig) covers this file's SHA-256; the hash is "
            "recorded in the tender's audit chain.",
            "small",
        )
    )
    return pdf.build(
        story,
        title=f"Results protocol {data.number}",
        subject=data.title,
        footer=f"Results protocol, tender {data.number}",
        created=data.generated_at,
        wide=True,
    )


def _savings(data: ProtocolData) -> list:
    found = savings(data.results)
    if not found:
        return []
    awarded, maximum = found
    share = ev.percent(maximum - awarded, maximum)
    return [
        pdf.spacer(1.5),
        pdf.para(
            f"Awarded {pdf.money(awarded)} {data.currency} against maximum prices of "
            f"{pdf.money(maximum)} {data.currency}: saving {pdf.money(maximum - awarded)} "
            f"({pdf.percent(share)}).",
        ),
    ]


def _timeline(data: ProtocolData, width: float):
    zone = data.timezone
    rows = [
        ("Published", pdf.local_time(data.published_at, zone), ""),
        ("Original deadline for bids", pdf.local_time(data.original_deadline, zone), ""),
    ]
    for i, ext in enumerate(data.extensions, 1):
        rows.append(
            (
                f"Extension {i}",
                pdf.local_time(ext.deadline, zone),
                f"at {pdf.local_time(ext.at, zone)}, from {pdf.local_time(ext.previous, zone)}",
            )
        )
    rows += [
        ("Bidding closed", pdf.local_time(data.closed_at or data.final_deadline, zone), ""),
        ("Results published", pdf.local_time(data.results_published_at, zone), ""),
    ]
    return pdf.grid(("Event", "Time", "Details"), rows, (60 * mm, 55 * mm, width - 115 * mm))


def _participants(data: ProtocolData, width: float):
    zone = data.timezone
    rows = [
        (
            p.number,
            p.name,
            p.inn,
            STATUS_LABELS.get(p.status, p.status),
            pdf.local_time(p.first_bid_at, zone),
            p.revisions,
            pdf.local_time(p.last_accepted_at, zone),
        )
        for p in data.participants
    ]
    if not rows:
        return pdf.para("No bids were submitted.")
    fixed = 10 + 28 + 30 + 42 + 22 + 42
    return pdf.grid(
        ("No.", "Participant", "INN", "Status", "First bid", "Revisions", "Last revision"),
        rows,
        (10 * mm, width - fixed * mm, 28 * mm, 30 * mm, 42 * mm, 22 * mm, 42 * mm),
        numeric=(0, 5),
    )


def _item_label(r: ItemResult) -> str:
    if r.position is None:
        return f"Lot {r.lot_number} (whole lot)"
    return f"{r.lot_number} / {r.position}"


def _summary(data: ProtocolData, width: float):
    rows = []
    for r in data.results:
        rows.append(
            (
                _item_label(r),
                r.name,
                "" if r.quantity is None else f"{pdf.qty(r.quantity)} {r.unit}",
                r.winner or "no valid offer: unsuccessful",
                pdf.money(r.unit_price) if r.unit_price is not None else "",
                pdf.money(r.total) if r.total is not None else "",
                pdf.score(r.score) if data.scored and r.score is not None else "",
                len(r.offers),
            )
        )
    if not rows:
        return pdf.para("No results.")
    fixed = 24 + 24 + 26 + 28 + 18 + 14
    name_w = (width - fixed * mm) * 0.45
    winner_w = width - fixed * mm - name_w
    return pdf.grid(
        ("Lot / pos.", "Name", "Quantity", "Winner", "Unit price", "Total", "Score", "Offers"),
        rows,
        (24 * mm, name_w, 24 * mm, winner_w, 26 * mm, 28 * mm, 18 * mm, 14 * mm),
        numeric=(2, 4, 5, 6, 7),
    )


def ranked_limit(results: tuple[ItemResult, ...]) -> int | None:
    """How many ranked offers per item the document lists: all of them up to
    MAX_RANKED_ROWS rows in total, else as many per item as fit (at least 3)."""
    total = sum(len(r.offers) for r in results)
    if total <= MAX_RANKED_ROWS:
        return None
    return max(3, MAX_RANKED_ROWS // max(1, len(results)))


def _ranked(data: ProtocolData, width: float):
    rows, best = [], []
    limit = ranked_limit(data.results)
    for r in data.results:
        for offer in r.offers[:limit]:
            if offer.rank == 1:
                best.append(len(rows))
            rows.append(
                (
                    _item_label(r),
                    offer.rank,
                    offer.participant,
                    pdf.money(offer.unit_price) if offer.unit_price is not None else "",
                    pdf.money(offer.total),
                    pdf.score(offer.score) if data.scored and offer.score is not None else "",
                )
            )
    if not rows:
        return pdf.para("No valid offers.")
    fixed = 28 + 14 + 30 + 32 + 22
    note = []
    if limit is not None:
        note = [
            pdf.para(
                f"The {limit} best offers of each item are listed; the complete ranking of every "
                "offer is in the OCDS export and the customer's comparison table.",
                "small",
            )
        ]
    return note + pdf.grid(
        ("Lot / pos.", "Rank", "Participant", "Unit price", "Total", "Score"),
        rows,
        (28 * mm, 14 * mm, width - fixed * mm, 30 * mm, 32 * mm, 22 * mm),
        numeric=(1, 3, 4, 5),
        highlight=best,
    )


def _disqualifications(data: ProtocolData, width: float):
    if not data.disqualifications:
        return pdf.para("None.")
    rows = [
        (
            d.participant,
            "whole bid" if d.lot_number is None else f"lot {d.lot_number}",
            d.reason,
            pdf.local_time(d.at, data.timezone),
        )
        for d in data.disqualifications
    ]
    return pdf.grid(
        ("Participant", "Scope", "Reason", "Decided"),
        rows,
        (70 * mm, 24 * mm, width - 136 * mm, 42 * mm),
    )
