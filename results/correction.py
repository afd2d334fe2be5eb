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

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from accounts.models import Organization, User
from audit.service import record
from bids.models import Bid
from core import clock, live
from core.chains import tender_chain
from core.errors import Conflict, Invalid, NotFound
from core.events import record_event
from core.extensions import db
from core.files import blob_path, save_stream
from core.i18n import label
from positions.models import Position
from results import commission, disqualification, evaluation, publication
from results.models import Award, AwardOffer, Disqualification, ResultSet, ResultVersion
from tenders.models import Tender
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
        raise NotFound(
            _("The results of %(number)s have no version %(n)s.", number=tender.number, n=number)
        )
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
        raise NotFound(
            _(
                "Version %(n)s of the results of %(number)s is not archived.",
                n=number,
                number=tender.number,
            )
        )
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
        raise Invalid(_("Give the reason."), {field: [_("A reason is required.")]})
    if len(text) < minimum:
        raise Invalid(
            ngettext(
                "The reason is too short (at least %(num)d character).",
                "The reason is too short (at least %(num)d characters).",
                minimum,
            ),
            {
                field: [
                    ngettext("At least %(num)d character.", "At least %(num)d characters.", minimum)
                ]
            },
        )
    if len(text) > maximum:
        raise Invalid(
            _("The reason is too long."),
            {
                field: [
                    ngettext("At most %(num)d character.", "At most %(num)d characters.", maximum)
                ]
            },
        )
    return text


def _refuse(index: int, field: str, message: str) -> Invalid:
    return Invalid(
        _("Change %(n)s: %(message)s", n=index + 1, message=message),
        {f"changes.{index}.{field}": [message]},
    )


def _merge(scopes: list[evaluation.Scope]) -> evaluation.Scope:
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
        raise _refuse(index, "participant", _("Give the participant's number."))
    bid = db.session.execute(
        select(Bid).where(Bid.tender_id == tender.id, Bid.participant_number == participant)
    ).scalar_one_or_none()
    if bid is None or bid.status != "active" or bid.revision_count == 0:
        raise _refuse(
            index, "participant", _("No standing bid of participant %(p)s.", p=participant)
        )
    reason = _reason(change.get("reason"), f"changes.{index}.reason", 1, CHANGE_REASON_MAX)
    lot = None
    if change.get("lot") is not None:
        lot = next((x for x in tender.lots if x.number == change["lot"]), None)
        if lot is None:
            raise _refuse(
                index,
                "lot",
                _("%(number)s has no lot %(lot)s.", number=tender.number, lot=change["lot"]),
            )
    current = [d for d in evaluation.active_disqualifications(tender) if d.bid_id == bid.id]
    if any(d.lot_id is None for d in current):
        raise _refuse(
            index, "participant", _("Participant %(p)s is already disqualified.", p=participant)
        )
    if lot is not None and any(d.lot_id == lot.id for d in current):
        raise _refuse(
            index,
            "lot",
            _(
                "Participant %(p)s is already disqualified for lot %(lot)s.",
                p=participant,
                lot=lot.number,
            ),
        )
    if lot is not None and lot.id not in evaluation.bid_lot_ids(bid):
        raise _refuse(
            index,
            "lot",
            _("No offer of participant %(p)s in lot %(lot)s.", p=participant, lot=lot.number),
        )
    scope = evaluation.scope_of(tender, bid, lot.id if lot else None)
    d, _payload = disqualification.add_disqualification(
        tender, user, bid, lot, reason, correction=number
    )
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
        raise _refuse(index, "disqualification", _("Give the disqualification to lift."))
    d = db.session.get(Disqualification, item)
    if d is None or d.tender_id != tender.id:
        raise _refuse(
            index, "disqualification", _("No disqualification %(n)s in this tender.", n=item)
        )
    if d.lifted_at is not None:
        raise _refuse(
            index, "disqualification", _("Disqualification %(n)s was already lifted.", n=item)
        )
    reason = _reason(change.get("reason"), f"changes.{index}.reason", 1, CHANGE_REASON_MAX)
    bid = db.session.get(Bid, d.bid_id)
    scope = evaluation.scope_of(tender, bid, d.lot_id)
    lot_number = next((x.number for x in tender.lots if x.id == d.lot_id), None)
    disqualification.reinstate(tender, user, d, bid, reason, correction=number)
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
        status = label("tender_status", tender.status)
        raise Conflict(
            _(
                "Tender %(number)s is %(status)s: only published results are corrected (before "
                "publication disqualify or lift in the review).",
                number=tender.number,
                status=status,
            ),
            {"status": [_("The tender is %(status)s, not results published.", status=status)]},
        )
    reason = _reason(reason, "reason", REASON_MIN, REASON_MAX)
    if not changes:
        raise Invalid(
            _("A correction must change something: disqualify a bid or lift a disqualification."),
            {"changes": [_("Add at least one change.")]},
        )
    if len(changes) > MAX_CHANGES:
        raise Invalid(
            _("Too many changes in one correction."),
            {"changes": [_("At most %(n)s.", n=MAX_CHANGES)]},
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
            raise _refuse(
                index, "action", _("Use one of: %(actions)s.", actions=", ".join(ACTIONS))
            )
        scopes.append(scope)
        applied.append(summary)

    # Archive the version being superseded while its awards are still the stored ones.
    now = clock.now()
    previous.snapshot_sha256, previous.snapshot_size = _snapshot(tender, previous)
    previous.superseded_at = now

    evaluation.recompute(tender, _merge(scopes))
    commission.apply(tender)  # its exceptions that the corrected ranking admits
    digest = publication.results_digest(tender)
    if digest == previous.digest:
        raise Invalid(
            _("The correction changes nothing in the published results."),
            {"changes": [_("These changes leave every ranking as it was.")]},
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
        chain=tender_chain(tender.id),
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
    return row


def corrections_count(tender: Tender) -> int:
    """How many corrections the published results have had."""
    return db.session.execute(
        select(func.count())
        .select_from(ResultVersion)
        .where(ResultVersion.tender_id == tender.id, ResultVersion.number > 1)
    ).scalar_one()


def change_text(change: dict) -> str:
    """One change of a correction as a sentence (the protocol, the versions table)."""
    values = {
        "p": change.get("participant"),
        "lot": change.get("lot"),
        "reason": change.get("reason", ""),
    }
    if change.get("action") == "disqualify":
        if change.get("lot"):
            return _("participant %(p)s disqualified (lot %(lot)s): %(reason)s", **values)
        return _("participant %(p)s disqualified: %(reason)s", **values)
    if change.get("lot"):
        return _("participant %(p)s reinstated (lot %(lot)s): %(reason)s", **values)
    return _("participant %(p)s reinstated: %(reason)s", **values)


def protocol_notes(tender: Tender, when) -> list[str]:
    """Lines for the results protocol once the results were corrected: the version shown and
    each correction with its time, reason and changes (`when` formats a moment)."""
    found = versions(tender)
    if len(found) < 2:
        return []
    first = found[0]
    notes = [
        _(
            "These are results version %(n)s. Version 1 was published %(at)s; each later "
            "version is an audited correction:",
            n=found[-1].number,
            at=when(first.published_at),
        )
    ]
    for v in found[1:]:
        changes = "; ".join(change_text(c) for c in v.changes)
        notes.append(
            _(
                "Version %(n)s, published %(at)s. Reason: %(reason)s Changes: %(changes)s. "
                "Results SHA-256 %(digest)s.",
                n=v.number,
                at=when(v.published_at),
                reason=v.reason,
                changes=changes,
                digest=v.digest,
            )
        )
    return notes
