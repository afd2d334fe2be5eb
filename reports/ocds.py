"""The OCDS export: a tender as an Open Contracting Data Standard release package (core 1.1
with the lots, bid and enquiries extensions: every field outside core comes from a declared
extension). Pure: the service reads the database and passes plain objects (models or anything
with the same attribute names).

What is disclosed depends on the stage, never on who asks (the package is public data):

- bidding (published, before the current deadline): the number of tenderers only;
- closed (the deadline has passed, whether or not the close job ran; closed; unsuccessful):
  one bid detail per bidder and lot with status `pending` or `withdrawn`, no value, no name;
- results (published): status `valid` / `disqualified` / `withdrawn`, value and tenderers,
  awards per position (per_position lots) or per lot (whole_lot lots), suppliers named;
- cancelled (before the close): the notice only.

`tender.numberOfTenderers` follows the standard ("the number of parties who submit a bid") at
every stage that shows it: each organization that submitted a bid counts, one that withdrew it
included (its bid detail says `withdrawn`), so the number never drops from one release to the
next and, once names are disclosed, equals the length of `tender.tenderers` and of the parties
with the role `tenderer`. The platform's own pages count the bids standing (withdrawn ones
left out), so while bidding they may show fewer.

A correction of published results (a new results version) makes the release an
`awardUpdate`: each award whose ranking the correction changed (every position or whole lot in
which a disqualified or reinstated participant had an offer) carries one OCDS 1.1 Amendment
per such version (id, date, rationale = the customer's reason, description = the changes,
amendsReleaseID/releaseID = the releases before and after; the deprecated `changes` is not
used), and its date is that of the latest version that changed it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from positions import classifiers

OCDS_VERSION = "1.1"
EXTENSIONS = (
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/master/extension.json",
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/master/extension.json",
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_enquiry_extension/master/extension.json",
)
ID_SCHEME = "RU-INN"  # org-id.guide: Russian taxpayer number
TENDER_STATUS = {
    "published": "active",
    "closed": "active",  # evaluation is still going on
    "results_published": "complete",
    "cancelled": "cancelled",
    "unsuccessful": "unsuccessful",
}


@dataclass(frozen=True)
class BidFacts:
    """A bid as the export needs it: its organization, state and latest offer per lot."""

    bid_id: int
    participant_number: int
    organization: object  # name, inn, kpp, ogrn, region_code
    status: str  # active | withdrawn
    accepted_at: dt.datetime | None  # the latest revision
    lot_totals: Mapping[int, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """One change a correction made: `disqualify` or `lift` a participant's disqualification,
    for one lot or (lot None) the whole bid."""

    action: str
    participant: int
    lot: int | None
    reason: str


@dataclass(frozen=True)
class VersionFacts:
    """One published version of the results: number 1 is the first publication, each later
    one a correction with the customer's reason and its changes."""

    number: int
    published_at: dt.datetime
    reason: str | None = None
    changes: tuple[Change, ...] = ()


UnitKey = tuple[int, str | None]  # (lot number, position number or None for a whole lot)


@dataclass(frozen=True)
class ResultsFacts:
    """Published results: the evaluation's units (results.rules.UnitResult or the same
    shape) and the disqualifications (bid id -> reason for the whole bid; (bid id, lot) ->
    reason for one lot); the versions, oldest first, and for each participant number the units
    where it has an offer, valid or disqualified (what a correction's change touches)."""

    published_at: dt.datetime
    units: tuple = ()
    disqualified: Mapping[int, str] = field(default_factory=dict)
    disqualified_lots: Mapping[tuple[int, int], str] = field(default_factory=dict)
    versions: tuple[VersionFacts, ...] = ()
    offered: Mapping[int, frozenset[UnitKey]] = field(default_factory=dict)
    # The commission's vote on the decision, as a sentence every award's description ends with
    vote_note: str | None = None

    @property
    def corrected(self) -> bool:
        return len(self.versions) > 1


@dataclass(frozen=True)
class Source:
    """Everything the export reads."""

    tender: object
    customer: object
    lots: tuple  # each with number, title, award_mode, positions, criteria
    bids: tuple[BidFacts, ...] = ()
    questions: tuple = ()  # published (answered) questions: asked_at, text, answer, answered_at
    questions_asked: int = 0
    results: ResultsFacts | None = None
    rebidding: tuple[dict, ...] = ()  # results/rebidding.service.report() of each round


def stage(status: str, deadline: dt.datetime | None, now: dt.datetime) -> str:
    """bidding | closed | results | cancelled: what the export may disclose now."""
    if status == "results_published":
        return "results"
    if status == "cancelled":
        return "cancelled"
    if status == "published" and deadline is not None and now < deadline:
        return "bidding"
    return "closed"


# -- values ------------------------------------------------------------------------------------


def value(amount: Decimal | None, currency: str) -> dict | None:
    """An OCDS Value. The amount stays a Decimal here; dumps() writes it as an exact JSON
    number (never through a binary float)."""
    if amount is None:
        return None
    return {"amount": Decimal(amount), "currency": currency}


def dumps(package: object) -> str:
    """JSON text with every Decimal written exactly as a number ("135000.55", not a float's
    approximation)."""
    token = secrets.token_hex(8)
    pattern = re.compile(rf'"{token}:(-?[0-9]+(?:\.[0-9]+)?)"')

    def default(obj):
        if isinstance(obj, Decimal):
            if not obj.is_finite():
                raise ValueError("not a finite amount")
            return f"{token}:{obj:f}"
        if isinstance(obj, dt.datetime):
            return iso(obj)
        raise TypeError(f"{type(obj).__name__} is not JSON serializable")

    return pattern.sub(r"\1", json.dumps(package, default=default, ensure_ascii=False))


def iso(moment: dt.datetime | None) -> str | None:
    """An aware moment as OCDS date-time text in UTC ("2026-11-23T12:00:00Z")."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _compact(obj):
    """Drop None values and empty lists/dicts (OCDS: omit what is unknown)."""
    if isinstance(obj, dict):
        out = {k: _compact(v) for k, v in obj.items()}
        return {k: v for k, v in out.items() if v is not None and v != [] and v != {}}
    if isinstance(obj, list):
        return [_compact(v) for v in obj]
    return obj


# -- parties -----------------------------------------------------------------------------------


def party_id(org) -> str:
    return f"{ID_SCHEME}-{org.inn}"


def _party(org, roles: Iterable[str]) -> dict:
    extra = [{"scheme": "RU-OGRN", "id": org.ogrn}] if getattr(org, "ogrn", None) else []
    return {
        "id": party_id(org),
        "name": org.name,
        "identifier": {"scheme": ID_SCHEME, "id": org.inn, "legalName": org.name},
        "additionalIdentifiers": extra,
        "address": {"region": getattr(org, "region_code", None), "country": "RU"},
        "roles": sorted(set(roles)),
    }


def _ref(org) -> dict:
    return {"id": party_id(org), "name": org.name}


def tenderers(src: Source) -> list:
    """The organizations that submitted a bid (an accepted revision), withdrawn ones included,
    each once, by participant number: OCDS `tender.tenderers`."""
    found: dict[str, object] = {}
    for b in sorted(src.bids, key=lambda b: b.participant_number):
        if b.lot_totals:
            found.setdefault(party_id(b.organization), b.organization)
    return list(found.values())


# -- tender ------------------------------------------------------------------------------------


def _item(position, lot_number: int, currency: str) -> dict:
    category = classifiers.category(position.category_code) if position.category_code else None
    unit = classifiers.unit(position.unit_code)
    return {
        "id": position.number,
        "description": position.name,
        "classification": (
            {
                "scheme": "OKPD2",
                "id": position.category_code,
                "description": category.name if category else None,
            }
            if position.category_code
            else None
        ),
        "quantity": Decimal(position.quantity),
        "unit": {
            "scheme": "OKEI",
            "id": position.unit_code,
            "name": unit.name if unit else position.unit_code,
            "value": value(position.max_unit_price, currency),
        },
        "relatedLot": str(lot_number),
    }


def _lot_value(lot, currency: str) -> dict | None:
    prices = [p.max_unit_price for p in lot.positions]
    if not prices or any(p is None for p in prices):
        return None
    return value(sum((p.max_unit_price * p.quantity for p in lot.positions), Decimal(0)), currency)


def _scored(lot) -> bool:
    return any(c.kind in ("number", "boolean", "choice") and c.weight > 0 for c in lot.criteria)


def _lot_status(lot, tender_status: str, results: ResultsFacts | None) -> str:
    if results is None:
        return TENDER_STATUS.get(tender_status, "active")
    units = [u for u in results.units if u.lot_number == lot.number]
    if units and all(u.status == "unsuccessful" for u in units):
        return "unsuccessful"
    return "complete"


def _tender(src: Source, phase: str) -> dict:
    t, currency = src.tender, src.tender.currency
    any_scored = any(_scored(lot) for lot in src.lots)
    return {
        "id": t.number,
        "title": t.title,
        "description": t.description or None,
        "status": TENDER_STATUS.get(t.status, "active"),
        "procuringEntity": _ref(src.customer),
        "items": [_item(p, lot.number, currency) for lot in src.lots for p in lot.positions],
        "value": value(t.estimated_value, currency),
        "procurementMethod": "open",
        "procurementMethodDetails": "Request for proposals (запрос предложений)",
        "awardCriteria": "ratedCriteria" if any_scored else "priceOnly",
        "submissionMethod": ["electronicSubmission"],
        "datePublished": iso(t.published_at),
        "tenderPeriod": {
            "startDate": iso(t.published_at),
            "endDate": iso(t.bid_deadline),
            "maxExtentDate": iso(getattr(t, "latest_close", None)),
        },
        "enquiryPeriod": (
            {"startDate": iso(t.published_at), "endDate": iso(t.questions_until)}
            if t.questions_until
            else None
        ),
        "milestones": rebidding_milestones(src.rebidding),
        "hasEnquiries": src.questions_asked > 0,
        "enquiries": [
            {
                "id": str(i),
                "date": iso(q.asked_at),
                "description": q.text,
                "answer": q.answer,
                "dateAnswered": iso(q.answered_at),
            }
            for i, q in enumerate(src.questions, 1)
        ],
        "numberOfTenderers": len(tenderers(src)) if phase != "cancelled" else None,
        "tenderers": [_ref(org) for org in tenderers(src)] if phase == "results" else [],
        "lots": [
            {
                "id": str(lot.number),
                "title": lot.title,
                "description": "Awarded per position"
                if lot.award_mode == "per_position"
                else "Awarded as a whole lot",
                "status": _lot_status(lot, t.status, src.results if phase == "results" else None),
                "value": _lot_value(lot, currency),
            }
            for lot in src.lots
        ],
    }


# -- bids and awards ---------------------------------------------------------------------------


def bid_id(number: str, participant: int, lot: int) -> str:
    """A bid detail per bidder and lot (disqualification and awards are per lot)."""
    return f"{number}-P{participant}-L{lot}"


def _bid_status(b: BidFacts, lot: int, phase: str, results: ResultsFacts | None) -> str:
    if b.status == "withdrawn":
        return "withdrawn"
    if phase != "results" or results is None:
        return "pending"
    if b.bid_id in results.disqualified or (b.bid_id, lot) in results.disqualified_lots:
        return "disqualified"
    return "valid"


def _bids(src: Source, phase: str) -> dict | None:
    if phase in ("bidding", "cancelled"):
        return None
    number, currency = src.tender.number, src.tender.currency
    details = []
    for b in sorted(src.bids, key=lambda b: b.participant_number):
        for lot, total in sorted(b.lot_totals.items()):
            status = _bid_status(b, lot, phase, src.results)
            disclosed = phase == "results"
            details.append(
                {
                    "id": bid_id(number, b.participant_number, lot),
                    "date": iso(b.accepted_at),
                    "status": status,
                    "tenderers": [_ref(b.organization)] if disclosed else [],
                    "value": value(total, currency)
                    if disclosed and status != "withdrawn"
                    else None,
                    "relatedLots": [str(lot)],
                    "description": rebidding_description(
                        src.rebidding, b.participant_number, lot, disclosed
                    ),
                }
            )
    return {"details": details}


def rebidding_milestones(rounds: tuple[dict, ...]) -> list[dict]:
    """Each re-bidding round as a tender milestone (core OCDS): its lots, invitees by
    participant number, scope, deadline and the moment it ended."""
    return [
        {
            "id": f"rebidding-{r['number']}",
            "title": f"Re-bidding round {r['number']} (переторжка)",
            "type": "assessment",
            "description": (
                f"Lots {', '.join(map(str, r['lots']))}; invited participants "
                f"{', '.join(str(p['participant']) for p in r['invited'])}; "
                + (
                    "prices and criterion values"
                    if r["scope"] == "prices_and_criteria"
                    else "prices only"
                )
                + f"; improved offers: {r['offers']}."
            ),
            "dueDate": iso(r["deadline"]),
            "dateMet": iso(r["closed_at"]),
            "status": "met" if r["status"] == "closed" else "scheduled",
        }
        for r in rounds
    ]


def rebidding_description(
    rounds: tuple[dict, ...], participant: int, lot: int, disclosed: bool
) -> str | None:
    """A bid detail improved in re-bidding says so, with the round's moments and (once the
    results are published) every unit price before and after."""
    parts = []
    for r in rounds:
        invited = next((p for p in r["invited"] if p["participant"] == participant), None)
        if invited is None or lot not in invited["lots"] or not invited["offers"]:
            continue
        text = (
            f"Submitted during re-bidding round {r['number']} "
            f"(last offer {iso(invited['last_offer_at'])})."
        )
        if disclosed:
            changes = [
                f"{p['position']}: {p['before']:.2f} -> {p['after']:.2f}"
                for p in r["positions"]
                if p["participant"] == participant and p["lot"] == lot and p["after"] != p["before"]
            ]
            if changes:
                text += " Unit prices before -> after: " + "; ".join(changes) + "."
        parts.append(text)
    return " ".join(parts) or None


def _award_items(unit, lot, by_number: Mapping[str, object], currency: str) -> list[dict]:
    positions = lot.positions if unit.position_number is None else [by_number[unit.position_number]]
    items = [_item(p, lot.number, currency) for p in positions]
    winner = unit.winner if unit.status == "awarded" else None
    if winner is not None and winner.unit_price is not None:
        for item in items:
            item["unit"]["value"] = value(winner.unit_price, currency)
    return items


def release_id(number: str, phase: str, date: dt.datetime) -> str:
    """The release's id: the tender, its stage and when the state it describes came about."""
    return f"{number}-{phase}-{date.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"


def touched(change: Change, offered: Mapping[int, frozenset[UnitKey]]) -> set[UnitKey]:
    """The units whose ranking a change altered: those where the disqualified or reinstated
    participant has an offer (in the lot named, or in every lot)."""
    units = offered.get(change.participant, ())
    return {u for u in units if change.lot is None or u[0] == change.lot}


def _change_text(c: Change) -> str:
    verb = "disqualified" if c.action == "disqualify" else "reinstated"
    scope = f" for lot {c.lot}" if c.lot is not None else ""
    return f"participant {c.participant} {verb}{scope}: {c.reason}"


def _amendments(number: str, results: ResultsFacts, key: UnitKey) -> list[dict]:
    """One OCDS 1.1 Amendment per results version that changed this award's ranking."""
    found = []
    for before, after in zip(results.versions, results.versions[1:], strict=False):
        changes = [c for c in after.changes if key in touched(c, results.offered)]
        if not changes:
            continue
        found.append(
            {
                "id": f"results-v{after.number}",
                "date": iso(after.published_at),
                "rationale": after.reason,
                "description": f"Results version {after.number} supersedes version "
                f"{before.number}: " + "; ".join(_change_text(c) for c in changes) + ".",
                "amendsReleaseID": release_id(number, "results", before.published_at),
                "releaseID": release_id(number, "results", after.published_at),
            }
        )
    return found


def _award_date(results: ResultsFacts, amendments: list[dict]) -> str | None:
    """When the award was decided: the latest version that changed it, else the first."""
    if amendments:
        return amendments[-1]["date"]
    first = results.versions[0].published_at if results.versions else results.published_at
    return iso(first)


def _awards(src: Source, phase: str) -> list[dict]:
    results = src.results
    if phase != "results" or results is None:
        return []
    number, currency = src.tender.number, src.tender.currency
    participants = {b.bid_id: b for b in src.bids}
    lots = {lot.number: lot for lot in src.lots}
    positions = {p.number: p for lot in src.lots for p in lot.positions}
    awards = []
    for unit in results.units:
        lot = lots[unit.lot_number]
        key = f"L{unit.lot_number}" + (f"-P{unit.position_number}" if unit.position_number else "")
        winner = unit.winner if unit.status == "awarded" else None
        bidder = participants.get(winner.bid_id) if winner else None
        amendments = _amendments(number, results, (unit.lot_number, unit.position_number))
        awards.append(
            {
                "id": f"{number}-{key}",
                "title": f"Lot {unit.lot_number}"
                + (f", position {unit.position_number}" if unit.position_number else "")
                + f": {lot.title}",
                "description": _award_description(unit, winner, results.vote_note),
                "status": "active" if winner else "unsuccessful",
                "date": _award_date(results, amendments),
                "value": value(winner.total, currency) if winner else None,
                "suppliers": [_ref(bidder.organization)] if bidder else [],
                "items": _award_items(unit, lot, positions, currency),
                "relatedLots": [str(unit.lot_number)],
                "relatedBids": (
                    [bid_id(number, bidder.participant_number, unit.lot_number)] if bidder else []
                ),
                "amendments": amendments,
            }
        )
    return awards


def _award_description(unit, winner, vote_note: str | None) -> str | None:
    """The commission's reason where its decision left the ranking (else why nobody won),
    then how the commission voted."""
    reason = getattr(unit, "decision_reason", None)
    if reason and winner is None:
        text = f"Declared unsuccessful by the customer's commission: {reason}"
    elif reason:
        text = f"The customer's commission chose an offer other than the top-ranked one: {reason}"
    else:
        text = None if winner else "No valid offer."
    parts = [p for p in (text, vote_note) if p]
    return " ".join(parts) or None


def _parties(src: Source, phase: str, awards: list[dict]) -> list[dict]:
    roles: dict[str, tuple[object, set[str]]] = {
        party_id(src.customer): (src.customer, {"buyer", "procuringEntity"})
    }
    if phase == "results":
        winners = {s["id"] for a in awards for s in a.get("suppliers", ())}
        for org in tenderers(src):
            pid = party_id(org)
            found = roles.setdefault(pid, (org, set()))[1]
            found.update(["tenderer"] + (["supplier"] if pid in winners else []))
    return [_party(org, r) for org, r in roles.values()]


def _tag(src: Source, phase: str) -> list[str]:
    t = src.tender
    if phase == "results":
        corrected = src.results is not None and src.results.corrected
        return ["awardUpdate"] if corrected else ["award"]
    if phase == "cancelled":
        return ["tenderCancellation"]
    if phase == "closed":
        return ["tenderUpdate"]
    return ["tenderAmendment"] if getattr(t, "amendment_count", 0) else ["tender"]


def release_date(src: Source, phase: str) -> dt.datetime:
    """When the state this release describes came about."""
    t = src.tender
    if phase == "results" and src.results is not None:
        return src.results.published_at
    if phase == "cancelled" and getattr(t, "cancelled_at", None):
        return t.cancelled_at
    if phase == "closed":
        return getattr(t, "closed_at", None) or t.bid_deadline
    return max(m for m in (t.published_at, getattr(t, "updated_at", None)) if m is not None)


def release(src: Source, *, prefix: str, now: dt.datetime) -> dict:
    """One release describing the tender as it stands, disclosed as its stage allows."""
    t = src.tender
    phase = stage(t.status, t.bid_deadline, now)
    awards = _awards(src, phase)
    date = release_date(src, phase)
    doc = {
        "ocid": f"{prefix}-{t.number}",
        "id": release_id(t.number, phase, date),
        "date": iso(date),
        "tag": _tag(src, phase),
        "initiationType": "tender",
        "language": "ru",
        "parties": _parties(src, phase, awards),
        "buyer": _ref(src.customer),
        "tender": _tender(src, phase),
        "bids": _bids(src, phase),
        "awards": awards,
    }
    return _compact(doc)


def package(src: Source, *, prefix: str, uri: str, publisher: str, now: dt.datetime) -> dict:
    """A release package with the one release of this tender."""
    rel = release(src, prefix=prefix, now=now)
    return {
        "uri": uri,
        "version": OCDS_VERSION,
        "extensions": list(EXTENSIONS),
        "publishedDate": rel["date"],
        "publisher": {"name": publisher},
        "releases": [rel],
    }
