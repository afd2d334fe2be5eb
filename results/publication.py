"""Publishing the results: final, their digest in the audit chain. Services flush; the
entrypoint commits once."""

from __future__ import annotations

import hashlib
import json

from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import Organization, User
from audit.service import record
from core import clock, live
from core.errors import Conflict
from core.events import record_event
from core.extensions import db
from core.i18n import label
from results import commission
from results.evaluation import require_evaluated, value_text
from results.models import Award, AwardOffer, ResultSet
from results.rebidding import guards as rebidding
from results.review import chain, own
from tenders import rules
from tenders.models import Tender
from tenders.sockets import tender_room


def results_digest(tender: Tender) -> str:
    """SHA-256 over the stored results (awards and ranked offers, in order, as JSON)."""
    h = hashlib.sha256()
    rows = db.session.execute(
        select(
            Award.id,
            Award.lot_number,
            Award.position_number,
            Award.status,
            Award.price,
            AwardOffer.bid_id,
            AwardOffer.rank,
            AwardOffer.status,
            AwardOffer.total,
            AwardOffer.score,
            AwardOffer.breakdown,
        )
        .outerjoin(AwardOffer, AwardOffer.award_id == Award.id)
        .where(Award.tender_id == tender.id)
        .order_by(Award.sort_key, AwardOffer.sort_order)
    )
    current = None
    for award_id, lot, position, status, price, bid_id, rank, o_status, total, score, bd in rows:
        if award_id != current:
            current = award_id
            h.update(json.dumps([lot, position, status, value_text(price)]).encode())
        if bid_id is not None:
            h.update(
                json.dumps(
                    [bid_id, rank, o_status, value_text(total), value_text(score), bd],
                    ensure_ascii=False,
                    sort_keys=True,
                ).encode()
            )
    return h.hexdigest()


def publish(user: User, org: Organization | None, tender_id: int) -> ResultSet:
    """Publish the results (final): closed -> results_published, audited, participants told."""
    tender = own(user, org, tender_id, for_update=True)
    try:
        rules.check_transition(tender.status, "results_published")
    except rules.TransitionRefused:
        if tender.status == "results_published":
            message = _("The results of %(number)s are already published.", number=tender.number)
        else:
            message = _(
                "Tender %(number)s is %(status)s: its results are published after the close.",
                number=tender.number,
                status=label("tender_status", tender.status),
            )
        raise Conflict(message) from None
    result_set = require_evaluated(tender)
    rebidding.require_no_round(tender.id)  # 409 while a re-bidding round runs
    decision = commission.apply_approved(tender)  # 409 until the commission has decided
    now = clock.now()
    result_set.published_at, result_set.published_by_id = now, user.id
    result_set.digest = results_digest(tender)
    tender.status, tender.updated_at = "results_published", now
    payload = {
        "digest": result_set.digest,
        "version": result_set.version,
        "awarded": result_set.awarded,
        "unsuccessful": result_set.unsuccessful,
        "reference_total": str(result_set.reference_total),
        "savings": str(result_set.savings),
        "decision": decision,
    }
    record(
        "tender.results_published",
        "tender",
        tender.id,
        payload,
        actor_user_id=user.id,
        actor_org_id=tender.customer_id,
        chain=chain(tender),
    )
    record_event(
        "tender.results_published",
        tender.id,
        {
            "number": tender.number,
            "awarded": result_set.awarded,
            "unsuccessful": result_set.unsuccessful,
        },
    )
    live.emit(
        "results_published",
        {"tender_id": tender.id, "status": tender.status, "published_at": now.isoformat()},
        tender_room(tender.id),
    )
    db.session.flush()
    return result_set
