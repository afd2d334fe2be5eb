"""The results protocol: its content as plain data, the PDF rendered from it, and the object
the platform signs for it. No database: the service gathers the data and renders it in the
tender's language (flask_babel.force_locale; the words below are the English source)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from reportlab.lib.units import mm

from reports import charts, pdf, rebidding
from results import rules as ev

PROTOCOL_TYPE = "results-protocol"
PROTOCOL_VERSION = 1
# Beyond this many ranked-offer rows the document lists the best offers of each item only
# (10,000 positions x 30 bids would be 6,000 pages); the data stay complete elsewhere.
MAX_RANKED_ROWS = 20_000

STATUS_LABELS = {
    "valid": _l("valid"),
    "withdrawn": _l("withdrew its bid"),
    "disqualified": _l("disqualified"),
    "partly_disqualified": _l("disqualified in part"),
}
VAT_LABELS = {
    "included": _l("prices include VAT"),
    "excluded": _l("prices exclude VAT"),
    "none": _l("no VAT"),
}


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
    # The kind of signature of the last revision and, if qualified, its signer (issue 24).
    signed_with: str = ""


@dataclass(frozen=True)
class RankedOffer:
    """One valid offer on a position (or a whole lot), in rank order."""

    rank: int
    participant: str
    unit_price: Decimal | None  # None for a whole lot (priced on its total)
    total: Decimal
    score: Decimal | None = None
    won: bool = False  # the winner as decided (the commission may choose another than rank 1)


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
class DecisionLine:
    """A unit where the commission's decision left the ranking, with its reason."""

    item: str
    name: str
    ranked_first: str | None
    decided: str | None  # the winner chosen; None: declared unsuccessful
    reason: str


@dataclass(frozen=True)
class VoteLine:
    member: str
    chair: bool
    vote: str  # for | against | "" (did not vote)
    comment: str
    at: dt.datetime | None


@dataclass(frozen=True)
class CommissionDecision:
    """The commission's decision: its deviations from the ranking and every member's vote."""

    closed_at: dt.datetime | None
    closed_by: str | None
    votes_for: int
    members: int
    deviations: tuple[DecisionLine, ...] = ()
    votes: tuple[VoteLine, ...] = ()


@dataclass(frozen=True)
class ChartLine:
    """One line of a price chart: its label, role (best | participant) and its value at
    each of the chart's moments (None: no offer then)."""

    label: str
    role: str
    values: tuple[Decimal | None, ...]


@dataclass(frozen=True)
class LotChart:
    """The price history of a lot's total, one step per change (reports.price_history)."""

    lot_number: int
    lot_title: str
    kind: str  # whole_lot | per_position_lot
    moments: tuple[dt.datetime, ...]
    lines: tuple[ChartLine, ...]
    extensions: tuple[int, ...] = ()  # indexes into moments


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
    decision: CommissionDecision | None = None
    rebidding: tuple[dict, ...] = ()  # results/rebidding.service.report() of each round
    charts: tuple[LotChart, ...] = ()


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
    vat = VAT_LABELS.get(data.vat_mode, data.vat_mode)
    story = [
        pdf.heading(_("Results protocol — tender %(number)s", number=data.number), "title"),
        pdf.para(data.title, "h2"),
        pdf.facts(
            [
                (
                    _("Customer"),
                    _("%(name)s (INN %(inn)s)", name=data.customer_name, inn=data.customer_inn),
                ),
                (_("Currency"), f"{data.currency}, {vat}"),
                (_("Times"), _("in the tender's time zone, %(zone)s", zone=zone)),
                (_("Participants"), str(len(data.participants))),
            ],
            (45 * mm, width - 45 * mm),
        ),
        pdf.heading(_("Timeline")),
        _timeline(data, width),
        *rebidding.section(data.rebidding, zone, width),
        pdf.heading(_("Participants")),
        _participants(data, width),
        pdf.heading(_("Results per position")),
        _summary(data, width),
        _savings(data),
        pdf.heading(_("Ranked offers")),
        _ranked(data, width),
        pdf.heading(_("Disqualifications")),
        _disqualifications(data, width),
        *charts.price_charts(data.charts, data.timezone, width),
    ]
    if data.decision is not None:
        story += [pdf.heading(_("The commission's decision")), *_decision(data, width)]
    story += [pdf.spacer(5)] + [pdf.para(note, "small") for note in data.notes]
    story.append(
        pdf.para(
            _(
                "Generated %(at)s. Signed by the platform key: the detached signature "
                "(protocol.pdf.sig) covers this file's SHA-256; the hash is recorded in the "
                "tender's audit chain.",
                at=pdf.local_time(data.generated_at, zone),
            ),
            "small",
        )
    )
    return pdf.build(
        story,
        title=_("Results protocol %(number)s", number=data.number),
        subject=data.title,
        footer=_("Results protocol, tender %(number)s", number=data.number),
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
            _(
                "Awarded %(awarded)s against maximum prices of %(maximum)s: saving "
                "%(saving)s (%(share)s).",
                awarded=pdf.amount(awarded, data.currency),
                maximum=pdf.amount(maximum, data.currency),
                saving=pdf.amount(maximum - awarded, data.currency),
                share=pdf.percent(share),
            ),
        ),
    ]


def _timeline(data: ProtocolData, width: float):
    zone = data.timezone
    rows = [
        (_("Notice published"), pdf.local_time(data.published_at, zone), ""),
        (_("Original deadline for bids"), pdf.local_time(data.original_deadline, zone), ""),
    ]
    for i, ext in enumerate(data.extensions, 1):
        rows.append(
            (
                _("Extension %(n)s", n=i),
                pdf.local_time(ext.deadline, zone),
                _(
                    "at %(at)s, from %(previous)s",
                    at=pdf.local_time(ext.at, zone),
                    previous=pdf.local_time(ext.previous, zone),
                ),
            )
        )
    rows += [
        (_("Bidding closed"), pdf.local_time(data.closed_at or data.final_deadline, zone), ""),
        (_("Results published"), pdf.local_time(data.results_published_at, zone), ""),
    ]
    return pdf.grid(
        (_("Event"), _("Time"), _("Details")), rows, (60 * mm, 55 * mm, width - 115 * mm)
    )


def _participants(data: ProtocolData, width: float):
    zone = data.timezone
    rows = [
        (
            p.number,
            f"{p.name}. {p.signed_with}" if p.signed_with else p.name,
            p.inn,
            STATUS_LABELS.get(p.status, p.status),
            pdf.local_time(p.first_bid_at, zone),
            p.revisions,
            pdf.local_time(p.last_accepted_at, zone),
        )
        for p in data.participants
    ]
    if not rows:
        return pdf.para(_("No bids were submitted."))
    fixed = 10 + 28 + 30 + 42 + 22 + 42
    return pdf.grid(
        (
            _("No."),
            _("Participant"),
            _("INN"),
            _("Status"),
            _("First bid"),
            _("Revisions"),
            _("Last revision"),
        ),
        rows,
        (10 * mm, width - fixed * mm, 28 * mm, 30 * mm, 42 * mm, 22 * mm, 42 * mm),
        numeric=(0, 5),
    )


def _item_label(r: ItemResult) -> str:
    if r.position is None:
        return _("Lot %(lot)s (whole lot)", lot=r.lot_number)
    return f"{r.lot_number} / {r.position}"


def _summary(data: ProtocolData, width: float):
    rows = []
    for r in data.results:
        rows.append(
            (
                _item_label(r),
                r.name,
                "" if r.quantity is None else f"{pdf.qty(r.quantity)} {r.unit}",
                r.winner or _("no valid offer: unsuccessful"),
                pdf.money(r.unit_price) if r.unit_price is not None else "",
                pdf.money(r.total) if r.total is not None else "",
                pdf.score(r.score) if data.scored and r.score is not None else "",
                len(r.offers),
            )
        )
    if not rows:
        return pdf.para(_("No results."))
    fixed = 24 + 24 + 26 + 28 + 18 + 25  # "Предложений" fits its column
    name_w = (width - fixed * mm) * 0.45
    winner_w = width - fixed * mm - name_w
    return pdf.grid(
        (
            _("Lot / pos."),
            _("Name"),
            _("Quantity"),
            _("Winner"),
            _("Unit price"),
            _("Total"),
            _("Score"),
            _("Offers"),
        ),
        rows,
        (24 * mm, name_w, 24 * mm, winner_w, 26 * mm, 28 * mm, 18 * mm, 25 * mm),
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
            if offer.won:
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
        return pdf.para(_("No valid offers."))
    fixed = 28 + 14 + 30 + 32 + 22
    note = []
    if limit is not None:
        note = [
            pdf.para(
                ngettext(
                    "The %(num)d best offer of each item is listed; the complete ranking of "
                    "every offer is in the OCDS export and the customer's comparison table.",
                    "The %(num)d best offers of each item are listed; the complete ranking of "
                    "every offer is in the OCDS export and the customer's comparison table.",
                    limit,
                ),
                "small",
            )
        ]
    return note + pdf.grid(
        (_("Lot / pos."), _("Rank"), _("Participant"), _("Unit price"), _("Total"), _("Score")),
        rows,
        (28 * mm, 14 * mm, width - fixed * mm, 30 * mm, 32 * mm, 22 * mm),
        numeric=(1, 3, 4, 5),
        highlight=best,
    )


VOTE_LABELS = {"for": _l("for"), "against": _l("against"), "": _l("did not vote")}


def _decision(data: ProtocolData, width: float) -> list:
    d = data.decision
    story = [
        pdf.para(
            _(
                "The vote was closed %(at)s by the chair %(chair)s: %(for)s of %(members)s "
                "members voted for the decision.",
                at=pdf.local_time(d.closed_at, data.timezone),
                chair=d.closed_by or "",
                members=d.members,
                **{"for": d.votes_for},
            )
        )
    ]
    if d.deviations:
        story.append(
            pdf.grid(
                (_("Lot / pos."), _("Name"), _("Ranked first"), _("Decision"), _("Reason")),
                [
                    (
                        x.item,
                        x.name,
                        x.ranked_first or "",
                        _("winner: %(name)s", name=x.decided) if x.decided else _("unsuccessful"),
                        x.reason,
                    )
                    for x in d.deviations
                ],
                (24 * mm, 50 * mm, 45 * mm, 50 * mm, width - 169 * mm),
            )
        )
        story.append(pdf.spacer(3))
    else:
        story.append(pdf.para(_("The commission confirmed the ranking on every position.")))
    story.append(
        pdf.grid(
            (_("Member"), _("Vote"), _("Comment"), _("When")),
            [
                (
                    _("%(name)s (chair)", name=v.member) if v.chair else v.member,
                    VOTE_LABELS.get(v.vote, v.vote),
                    v.comment,
                    pdf.local_time(v.at, data.timezone) if v.at else "",
                )
                for v in d.votes
            ],
            (60 * mm, 24 * mm, width - 126 * mm, 42 * mm),
        )
    )
    return story


def _disqualifications(data: ProtocolData, width: float):
    if not data.disqualifications:
        return pdf.para(_("None."))
    rows = [
        (
            d.participant,
            _("whole bid") if d.lot_number is None else _("lot %(lot)s", lot=d.lot_number),
            d.reason,
            pdf.local_time(d.at, data.timezone),
        )
        for d in data.disqualifications
    ]
    return pdf.grid(
        (_("Participant"), _("Scope"), _("Reason"), _("Decided")),
        rows,
        (70 * mm, 24 * mm, width - 136 * mm, 42 * mm),
    )
