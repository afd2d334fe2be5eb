"""The re-bidding round's API (announce, list, prepare and submit an improved offer) and its
pages: the customer's form on the review page, the invitee's form, the notice's section."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from bids import service as bids
from core import clock
from core.api import API_PREFIX, actor, flatten_messages, route, translate
from core.errors import DomainError
from core.transaction import commit, rollback
from results.rebidding import schemas, service
from signatures import service as signatures_service
from tenders import service as tenders

api = Blueprint("rebidding_api", __name__, url_prefix=API_PREFIX)
bp = Blueprint("rebidding", __name__)

ROUND_ERRORS = ("rebidding_not_closed", "rebidding_published", "rebidding_running")
OFFER_ERRORS = ("rebidding_closed", "rebidding_none", "bid_changed", "approval_required")


@route(
    api,
    "/tenders/<int:tender_id>/rebidding/rounds",
    "POST",
    summary="Announce a re-bidding round",
    body=schemas.RoundIn,
    response=schemas.RoundOut,
    status=201,
    tag="rebidding",
    errors=(*ROUND_ERRORS, "evaluation_pending"),
)
def api_announce(tender_id: int, body: dict):
    """The tender's customer (a member with the "prepare" right), after the close and before
    the results are published, when no other round runs: lots, a deadline at least one hour
    ahead (without a zone: in the tender's), the participants invited (default: every
    admissible one of those lots) and the scope (prices, or prices_and_criteria)."""
    user, org = actor()
    round_ = service.announce(user, org, tender_id, body)
    commit()
    return {**service.report(round_), "server_time": round_.announced_at}


@route(
    api,
    "/tenders/<int:tender_id>/rebidding/rounds",
    "GET",
    summary="The tender's re-bidding rounds",
    response=schemas.RoundsOut,
    auth="optional",
    tag="rebidding",
)
def api_rounds(tender_id: int):
    """Every round: lots, deadline (with extensions), scope, offers. Who was invited and the
    prices before and after go to the customer, and to the participants once results are
    published; an invitee also gets its own invitation while the round runs."""
    user = getattr(g, "api_user", None)
    org = getattr(g, "org", None) if user else None
    tender = tenders.visible_tender(tenders.get_tender(tender_id), org)
    return {"rounds": service.shown(tender, bids.viewing_org(user, org, tender))}


@route(
    api,
    "/tenders/<int:tender_id>/rebidding/offer/prepare",
    "POST",
    summary="The payload of an improved offer to sign",
    body=schemas.ImprovedOfferIn,
    response=schemas.ImprovedPreparedOut,
    tag="rebidding",
    errors=OFFER_ERRORS,
)
def api_prepare(tender_id: int, body: dict):
    """Checks the improved offer (every unit price at most the previous one, no new position,
    criterion values never worse) and returns the full offer's payload to sign."""
    return service.prepare(*actor(), tender_id, body)


@route(
    api,
    "/tenders/<int:tender_id>/rebidding/offer",
    "POST",
    summary="Submit a signed improved offer",
    body=schemas.SignedImprovedOfferIn,
    response=schemas.ImprovedAcceptedOut,
    status=201,
    tag="rebidding",
    errors=OFFER_ERRORS,
)
def api_submit(tender_id: int, body: dict):
    """An invitee's (a member with the "sign" right) new revision of its bid, accepted only
    before the round's deadline (409 rebidding_closed names it); may extend that deadline by
    the tender's 30-minute rule."""
    user, org = actor()
    accepted = service.submit(user, org, tender_id, body, body["key_id"], body["signature"])
    commit(keep_loaded=True)
    return accepted


# -- pages ---------------------------------------------------------------------------------------


def _viewer():
    return g.org if current_user.is_authenticated else None


@bp.app_template_global("rebidding_rounds")
def rebidding_rounds(tender) -> list[dict]:
    """The tender's rounds as the current viewer may see them (notice, review, results)."""
    if tender.status not in ("closed", "results_published"):
        return []
    return service.shown(tender, bids.viewing_org(current_user, _viewer(), tender))


@bp.post("/cabinet/tenders/<int:tender_id>/rebidding")
@login_required
def announce(tender_id: int):
    """The review page's form: announce a round (errors are flashed, nothing stored)."""
    form = {
        "lots": request.form.getlist("lots"),
        "participants": request.form.getlist("participants") or None,
        "deadline": request.form.get("deadline", ""),
        "scope": request.form.get("scope", "prices"),
    }
    try:
        data = schemas.RoundIn().load(form)
        round_ = service.announce(current_user, g.org, tender_id, data)
        commit()
        flash(
            _(
                "Re-bidding round %(n)s announced: the invited participants are notified.",
                n=round_.number,
            ),
            "success",
        )
    except ValidationError as exc:
        rollback()
        fields = flatten_messages(exc.messages)
        flash("; ".join(f"{k}: {m}" for k, msgs in fields.items() for m in msgs), "error")
    except DomainError as exc:
        rollback()
        fields = "; ".join(m for msgs in exc.fields.values() for m in msgs)
        flash(translate(exc.message) + (f" {fields}" if fields else ""), "error")
    return redirect(url_for("results.review_page", tender_id=tender_id, _anchor="rebidding"))


@bp.get("/tenders/<number>/rebidding")
@login_required
def offer_page(number: str):
    """The invitee's form: its positions in the round, new unit prices, sign and submit."""
    tender = tenders.by_number(number)
    round_ = service.open_round(tender.id)
    org = bids.viewing_org(current_user, g.org, tender)  # a member who sees the bid
    invitation = service.invitation_of(round_, org) if round_ is not None else None
    if invitation is None:
        abort(404)
    keys = [k for k in signatures_service.user_keys(current_user) if k.revoked_at is None]
    return render_template(
        "results/rebidding_offer.html",
        tender=tender,
        round=round_,
        invitation=invitation,
        keys=keys,
        server_now=clock.now(),
    )
