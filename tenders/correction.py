"""Correction of published results: a new, audited, numbered version.

Publication is final: the published awards are never edited. A correction is the customer's
amendment of them: it states why (10-2000 characters), disqualifies bids (whole tender or one
lot) and/or lifts earlier disqualifications, each with its own reason, then republishes the
recomputed results as version n + 1. The superseded version's awards are kept as a snapshot
(gzip JSON blob stored under its SHA-256), so every version stays readable; the correction is
recorded in the tender's audit chain with the old and the new results digest, told to the
participants (DomainEvent "tender.results_corrected") and pushed live, and the protocol job
produces the next protocol version. Services flush; the entrypoint commits once.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from accounts.models import Organization, User
from audit.service import record
from bids.models import Bid
from core import clock, jobs, live
from core.errors import Conflict, Invalid, NotFound
from core.extensions import db
from core.files import blob_path, save_stream
from notifications.service import record_event
from positions.models import Position
from tenders import review
from tenders.models import Tender
from tenders.result_models import Award, AwardOffer, Disqualification, ResultSet, ResultVersion
from tenders.service import own_tender
from tenders.sockets import tender_room

REASON_MIN = 10
REASON_MAX = 2000
CHANGE_REASON_MAX = 2000
MAX_CHANGES = 100
ACTIONS = ("disqualify", "lift")
SNAPSHOT_MAX_BYTES = 2 * 1024 * 1024 * 1024


@dataclass(frozen=True)
class VersionInfo:
    """A published version of the results (number 1 is the first publication)."""

    number: int
    published_at: dt.datetime
    reason: str | None
    changes: tuple[dict, ...]
    digest: str
    participants: int
    awarded: int
    unsuccessful: int
    reference_total: Decimal
    savings: Decimal
    current: bool
    superseded_at: dt.datetime | None

    @property
    def is_correction(self) -> bool:
        return self.number > 1


# -- reading the versions --------------------------------------------------------------------


def _first_from(result_set: ResultSet) -> ResultVersion:
    """Version 1 as the first publication left it (ResultSet holds it until a correction)."""
    return ResultVersion(
        tender_id=result_set.tender_id,
        number=1,
        published_at=result_set.published_at,
        published_by_id=result_set.published_by_id,
        reason=None,
        changes=[],
        digest=result_set.digest,
        participants=result_set.participants,
        awarded=result_set.awarded,
        unsuccessful=result_set.unsuccessful,
        reference_total=result_set.reference_total,
        savings=result_set.savings,
    )


def _rows(tender: Tender) -> list[ResultVersion]:
    return list(
        db.session.execute(
            select(ResultVersion)
            .where(ResultVersion.tender_id == tender.id)
            .order_by(ResultVersion.number)
        ).scalars()
    )


def _info(row: ResultVersion, current: int) -> VersionInfo:
    return VersionInfo(
        number=row.number,
        published_at=row.published_at,
        reason=row.reason,
        changes=tuple(row.changes or ()),
        digest=row.digest,
        participants=row.participants,
        awarded=row.awarded,
        unsuccessful=row.unsuccessful,
        reference_total=row.reference_total,
        savings=row.savings,
        current=row.number == current,
        superseded_at=row.superseded_at,
    )


def versions(tender: Tender) -> list[VersionInfo]:
    """Every published version, oldest first (empty before publication)."""
    if tender.status != "results_published":
        return []
    rows = _rows(tender)
    if not rows:
        result_set = db.session.get(ResultSet, tender.id)
        if result_set is None or result_set.published_at is None:
            return []
        rows = [_first_from(result_set)]
    current = rows[-1].number
    return [_info(r, current) for r in rows]


def current_version(tender: Tender) -> int | None:
    """The number of the results version in force (None before publication)."""
    found = versions(tender)
    return found[-1].number if found else None


def version(tender: Tender, number: int) -> VersionInfo:
    """One published version, or NotFound."""
    found = next((v for v in versions(tender) if v.number == number), None)
    if found is None:
        raise NotFound(f"The results of {tender.number} have no version {number}.")
    return found


def snapshot_awards(
    tender: Tender, number: int, page: int = 1, per_page: int = 50, lot: int | None = None
) -> tuple[list[dict], int]:
    """A page of a superseded version's awards (with their ranked offers) from its snapshot."""
    row = db.session.execute(
        select(ResultVersion).where(
            ResultVersion.tender_id == tender.id, ResultVersion.number == number
        )
    ).scalar_one_or_none()
    if row is None or row.snapshot_sha256 is None:
        raise NotFound(f"Version {number} of the results of {tender.number} is not archived.")
    with gzip.open(blob_path(row.snapshot_sha256), "rt", encoding="utf-8") as f:
        data = json.load(f)
    awards = [a for a in data["awards"] if lot is None or a["lot"] == lot]
    start = (page - 1) * per_page
    return awards[start : start + per_page], len(awards)


# -- the snapshot of a version ---------------------------------------------------------------


def _text(value) -> str | None:
    return None if value is None else str(value)


def _snapshot(tender: Tender, row: ResultVersion) -> tuple[str, int]:
    """Store the current awards (the version being superseded) as gzip JSON; (sha, size)."""
    names = dict(
        db.session.execute(
            select(Position.id, Position.name).where(Position.tender_id == tender.id)
        ).all()
    )
    lots = {lot.id: lot.title for lot in tender.lots}
    people = {
        bid_id: (number, name, inn)
        for bid_id, number, name, inn in db.session.execute(
            select(Bid.id, Bid.participant_number, Organization.name, Organization.inn)
            .join(Organization, Organization.id == Bid.organization_id)
            .where(Bid.tender_id == tender.id)
        )
    }
    awards: list[dict] = []
    current = None
    for a, o in db.session.execute(
        select(Award, AwardOffer)
        .outerjoin(AwardOffer, AwardOffer.award_id == Award.id)
        .where(Award.tender_id == tender.id)
        .order_by(Award.sort_key, AwardOffer.sort_order)
    ):
        if current is None or current["award_id"] != a.id:
            winner = people.get(a.winner_bid_id)
            current = {
                "award_id": a.id,
                "lot": a.lot_number,
                "lot_title": lots.get(a.lot_id, ""),
                "award_mode": a.award_mode,
                "position": a.position_number,
                "name": names.get(a.position_id) or lots.get(a.lot_id, ""),
                "status": a.status,
                "winner": winner[0] if winner else None,
                "price": _text(a.price),
                "total": _text(a.total),
                "score": _text(a.score),
                "reference_total": _text(a.reference_total),
                "savings": _text(a.savings),
                "offers": [],
            }
            awards.append(current)
        if o is not None:
            number, name, inn = people[o.bid_id]
            current["offers"].append(
                {
                    "participant": number,
                    "organization": name,
                    "inn": inn,
                    "rank": o.rank,
                    "status": o.status,
                    "reason": o.reason,
                    "unit_price": _text(o.unit_price),
                    "total": _text(o.total),
                    "score": _text(o.score),
                    "breakdown": o.breakdown,
                }
            )
    for a in awards:
        del a["award_id"]
    document = {
        "tender": tender.number,
        "version": row.number,
        "published_at": row.published_at.isoformat(),
        "digest": row.digest,
        "awards": awards,
    }
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as f:
        f.write(json.dumps(document, ensure_ascii=False).encode())
    buffer.seek(0)
    return save_stream(buffer, SNAPSHOT_MAX_BYTES, field="snapshot")


# -- the correction --------------------------------------------------------------------------


def _reason(text: str | None, field: str, minimum: int, maximum: int) -> str:
    text = (text or "").strip()
    if not text:
        raise Invalid("Give the reason.", {field: ["A reason is required."]})
    if len(text) < minimum:
        raise Invalid(
            f"The reason is too short (at least {minimum} characters).",
            {field: [f"At least {minimum} characters."]},
        )
    if len(text) > maximum:
        raise Invalid("The reason is too long.", {field: [f"At most {maximum} characters."]})
    return text


def _refuse(index: int, field: str, message: str) -> Invalid:
    return Invalid(f"Change {index + 1}: {message}", {f"changes.{index}.{field}": [message]})


def _merge(scopes: list[review.Scope]) -> review.Scope:
    lot_ids: set[int] = set()
    position_ids: set[int] | None = set()
    for lots, positions in scopes:
        lot_ids |= lots
        if positions is None or position_ids is None:
            position_ids = None
        else:
            position_ids |= positions
    return lot_ids, position_ids


def _disqualify(tender: Tender, user: User, index: int, change: dict, number: int) -> tuple:
    participant = change.get("participant")
    if not isinstance(participant, int) or isinstance(participant, bool):
        raise _refuse(index, "participant", "Give the participant's number.")
    bid = db.session.execute(
        select(Bid).where(Bid.tender_id == tender.id, Bid.participant_number == participant)
    ).scalar_one_or_none()
    if bid is None or bid.status != "active" or bid.revision_count == 0:
        raise _refuse(index, "participant", f"No standing bid of participant {participant}.")
    reason = _reason(change.get("reason"), f"changes.{index}.reason", 1, CHANGE_REASON_MAX)
    lot = None
    if change.get("lot") is not None:
        lot = next((x for x in tender.lots if x.number == change["lot"]), None)
        if lot is None:
            raise _refuse(index, "lot", f"{tender.number} has no lot {change['lot']}.")
    current = [d for d in review.active_disqualifications(tender) if d.bid_id == bid.id]
    if any(d.lot_id is None for d in current):
        raise _refuse(index, "participant", f"Participant {participant} is already disqualified.")
    if lot is not None and any(d.lot_id == lot.id for d in current):
        raise _refuse(
            index, "lot", f"Participant {participant} is already disqualified for lot {lot.number}."
        )
    if lot is not None and lot.id not in review._bid_lot_ids(bid):
        raise _refuse(index, "lot", f"No offer of participant {participant} in lot {lot.number}.")
    scope = review._scope_of(tender, bid, lot.id if lot else None)
    d, _ = review.add_disqualification(tender, user, bid, lot, reason, correction=number)
    summary = {
        "action": "disqualify",
        "disqualification": d.id,
        "participant": participant,
        "lot": lot.number if lot else None,
        "reason": reason,
    }
    return scope, summary


def _lift(tender: Tender, user: User, index: int, change: dict, number: int) -> tuple:
    item = change.get("disqualification")
    if not isinstance(item, int) or isinstance(item, bool):
        raise _refuse(index, "disqualification", "Give the disqualification to lift.")
    d = db.session.get(Disqualification, item)
    if d is None or d.tender_id != tender.id:
        raise _refuse(index, "disqualification", f"No disqualification {item} in this tender.")
    if d.lifted_at is not None:
        raise _refuse(index, "disqualification", f"Disqualification {item} was already lifted.")
    reason = _reason(change.get("reason"), f"changes.{index}.reason", 1, CHANGE_REASON_MAX)
    bid = db.session.get(Bid, d.bid_id)
    scope = review._scope_of(tender, bid, d.lot_id)
    lot_number = next((x.number for x in tender.lots if x.id == d.lot_id), None)
    review.reinstate(tender, user, d, bid, reason, correction=number)
    summary = {
        "action": "lift",
        "disqualification": d.id,
        "participant": bid.participant_number,
        "lot": lot_number,
        "reason": reason,
    }
    return scope, summary


def correct(
    user: User, org: Organization | None, tender_id: int, reason: str, changes: list[dict]
) -> ResultVersion:
    """Correct the published results: apply the changes, recompute what they touch and
    publish the result as the next version (the superseded one is archived)."""
    tender = own_tender(user, org, tender_id, for_update=True)
    if tender.status != "results_published":
        raise Conflict(
            f"Tender {tender.number} is {tender.status}: only published results are corrected "
            "(before publication disqualify or lift in the review).",
            {"status": [f"The tender is {tender.status}, not results_published."]},
        )
    reason = _reason(reason, "reason", REASON_MIN, REASON_MAX)
    if not changes:
        raise Invalid(
            "A correction must change something: disqualify a bid or lift a disqualification.",
            {"changes": ["Add at least one change."]},
        )
    if len(changes) > MAX_CHANGES:
        raise Invalid(
            "Too many changes in one correction.", {"changes": [f"At most {MAX_CHANGES}."]}
        )
    result_set = db.session.get(ResultSet, tender.id)
    rows = _rows(tender)
    if not rows:
        first = _first_from(result_set)
        db.session.add(first)
        rows = [first]
    previous = rows[-1]
    number = previous.number + 1

    scopes, applied = [], []
    for index, change in enumerate(changes):
        action = change.get("action")
        if action == "disqualify":
            scope, summary = _disqualify(tender, user, index, change, number)
        elif action == "lift":
            scope, summary = _lift(tender, user, index, change, number)
        else:
            raise _refuse(index, "action", f"Use one of: {', '.join(ACTIONS)}.")
        scopes.append(scope)
        applied.append(summary)

    # Archive the version being superseded while its awards are still the stored ones.
    now = clock.now()
    previous.snapshot_sha256, previous.snapshot_size = _snapshot(tender, previous)
    previous.superseded_at = now

    review._evaluate(tender, _merge(scopes))
    digest = review.results_digest(tender)
    if digest == previous.digest:
        raise Invalid(
            "The correction changes nothing in the published results.",
            {"changes": ["These changes leave every ranking as it was."]},
        )
    published_at = max(now, result_set.published_at + dt.timedelta(microseconds=1))
    result_set.published_at, result_set.published_by_id = published_at, user.id
    result_set.digest = digest
    tender.updated_at = now
    row = ResultVersion(
        tender_id=tender.id,
        number=number,
        published_at=published_at,
        published_by_id=user.id,
        reason=reason,
        changes=applied,
        digest=digest,
        participants=result_set.participants,
        awarded=result_set.awarded,
        unsuccessful=result_set.unsuccessful,
        reference_total=result_set.reference_total,
        savings=result_set.savings,
    )
    db.session.add(row)
    db.session.flush()
    record(
        "tender.results_corrected",
        "tender",
        tender.id,
        {
            "version": number,
            "reason": reason,
            "changes": applied,
            "digest": digest,
            "previous_digest": previous.digest,
            "previous_snapshot": previous.snapshot_sha256,
            "awarded": result_set.awarded,
            "unsuccessful": result_set.unsuccessful,
            "reference_total": str(result_set.reference_total),
            "savings": str(result_set.savings),
        },
        actor_user_id=user.id,
        actor_org_id=tender.customer_id,
        chain=f"tender:{tender.id}",
    )
    record_event(
        "tender.results_corrected",
        tender.id,
        {
            "number": tender.number,
            "version": number,
            "reason": reason,
            "awarded": result_set.awarded,
            "unsuccessful": result_set.unsuccessful,
        },
    )
    live.emit(
        "results_corrected",
        {
            "tender_id": tender.id,
            "status": tender.status,
            "version": number,
            "reason": reason,
            "published_at": published_at.isoformat(),
        },
        tender_room(tender.id),
    )
    jobs.enqueue("reports.jobs.generate_protocol", tender.id, job_id=f"protocol-{tender.id}")
    return row


def corrections_count(tender: Tender) -> int:
    """How many corrections the published results have had."""
    return db.session.execute(
        select(func.count())
        .select_from(ResultVersion)
        .where(ResultVersion.tender_id == tender.id, ResultVersion.number > 1)
    ).scalar_one()


def _change_text(change: dict) -> str:
    verb = "disqualified" if change.get("action") == "disqualify" else "reinstated"
    scope = f" (lot {change['lot']})" if change.get("lot") else ""
    return f"{verb} participant {change.get('participant')}{scope}: {change.get('reason', '')}"


def protocol_notes(tender: Tender, when) -> list[str]:
    """Lines for the results protocol once the results were corrected: the version shown and
    each correction with its time, reason and changes (`when` formats a moment)."""
    found = versions(tender)
    if len(found) < 2:
        return []
    first = found[0]
    notes = [
        f"These are results version {found[-1].number}. Version 1 was published "
        f"{when(first.published_at)}; each later version is an audited correction:"
    ]
    for v in found[1:]:
        changes = "; ".join(_change_text(c) for c in v.changes)
        notes.append(
            f"Version {v.number}, published {when(v.published_at)}. Reason: {v.reason} "
            f"Changes: {changes}. Results SHA-256 {v.digest}."
        )
    return notes
