"""The commission's decision: the review page's forms and the API (commission, decision,
votes, close of the vote). Thin: the use cases are in results/commission.py."""

from __future__ import annotations

from flask import Blueprint, g, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from core.api import API_PREFIX, actor, flatten_messages, route
from core.transaction import commit
from results import commission, review
from results import commission_schemas as cs
from results import views as result_views
from tenders import service

bp = Blueprint("commission", __name__)
api = Blueprint("commission_api", __name__, url_prefix=API_PREFIX)


# -- the review page -------------------------------------------------------------------------


@bp.app_template_global("commission_view")
def commission_view(tender) -> dict | None:
    """Template helper: the commission and its decision for the review page."""
    decision = commission.decision(tender)
    user_id = current_user.id if current_user.is_authenticated else None
    me = decision.member(user_id) if user_id else None
    return {
        "decision": decision,
        "candidates": commission.candidates(tender),
        "may_manage": user_id is not None and commission.may_manage(current_user, tender),
        "me": me,
        "my_vote": decision.vote_of(user_id) if me else None,
    }


@bp.app_template_global("published_decision")
def published_decision(tender):
    """Template helper: the commission's decision shown with published results, or None."""
    return commission.for_publication(tender)


def _invalid_form(tender_id: int, exc: ValidationError):
    return result_views._review_again(tender_id, flatten_messages(exc.messages))


def _act(tender_id: int, action, success: str):
    return result_views._act(tender_id, action, success, anchor="commission")


def _int_or_raw(value: str):
    value = (value or "").strip()
    return int(value) if value.isdigit() else value


@bp.post("/cabinet/tenders/<int:tender_id>/review/commission")
@login_required
def name_commission(tender_id: int):
    """Name the commission's members and its chair."""
    raw = {
        "members": [_int_or_raw(v) for v in request.form.getlist("members")],
        "chair": _int_or_raw(request.form.get("chair", "")) or None,
    }
    try:
        data = cs.CommissionIn().load(raw)
    except ValidationError as exc:
        return _invalid_form(tender_id, exc)
    return _act(
        tender_id,
        lambda: commission.set_commission(
            current_user, g.org, tender_id, data["members"], data["chair"]
        ),
        _("The commission is named."),
    )


@bp.post("/cabinet/tenders/<int:tender_id>/review/decision")
@login_required
def prepare(tender_id: int):
    """Set one unit's decision (if given) and prepare the decision for the vote."""
    items = []
    if request.form.get("lot", "").strip():
        items.append(
            {
                "lot": _int_or_raw(request.form.get("lot", "")),
                "position": request.form.get("position", "").strip() or None,
                "outcome": request.form.get("outcome", ""),
                "participant": _int_or_raw(request.form.get("participant", "")) or None,
                "reason": request.form.get("reason", ""),
            }
        )
    try:
        data = cs.DecisionIn().load({"items": items})
    except ValidationError as exc:
        return _invalid_form(tender_id, exc)
    return _act(
        tender_id,
        lambda: commission.prepare(current_user, g.org, tender_id, data["items"]),
        _("The decision is prepared: the commission votes on it."),
    )


@bp.post("/cabinet/tenders/<int:tender_id>/review/vote")
@login_required
def vote(tender_id: int):
    """A member's vote for or against the prepared decision."""
    raw = {"vote": request.form.get("vote", ""), "comment": request.form.get("comment", "")}
    try:
        data = cs.VoteIn().load(raw)
    except ValidationError as exc:
        return _invalid_form(tender_id, exc)
    return _act(
        tender_id,
        lambda: commission.vote(current_user, g.org, tender_id, data["vote"], data["comment"]),
        _("Your vote is recorded."),
    )


@bp.post("/cabinet/tenders/<int:tender_id>/review/close-vote")
@login_required
def close_vote(tender_id: int):
    """The chair closes the vote (a majority of the commission is for)."""
    return _act(
        tender_id,
        lambda: commission.close_vote(current_user, g.org, tender_id),
        _("The vote is closed: the decision is approved and the results can be published."),
    )


# -- API -------------------------------------------------------------------------------------


def _out(tender_id: int):
    tender = service.get_tender(tender_id)
    return commission.decision(tender)


@route(
    api,
    "/tenders/<int:tender_id>/commission",
    "GET",
    summary="The commission and its decision (customer)",
    response=cs.DecisionOut,
    tag="results",
)
def api_decision(tender_id: int):
    """Members and chair (the managers by default), the prepared decision's deviations from
    the ranking, the votes on it and its status. Only the tender's customer."""
    tender = review.own(*actor(), tender_id, for_update=False)
    return commission.decision(tender)


@route(
    api,
    "/tenders/<int:tender_id>/commission",
    "POST",
    summary="Name the commission and its chair",
    body=cs.CommissionIn,
    response=cs.DecisionOut,
    tag="results",
)
def api_name_commission(tender_id: int, body: dict):
    """The responsible person or a manager names members of the customer organization (at
    least one) and the chair among them; refused once a vote has started."""
    commission.set_commission(*actor(), tender_id, body["members"], body["chair"])
    commit()
    return _out(tender_id)


@route(
    api,
    "/tenders/<int:tender_id>/decision",
    "POST",
    summary="Prepare the commission's decision",
    body=cs.DecisionIn,
    response=cs.DecisionOut,
    tag="results",
    errors=("evaluation_pending",),
)
def api_prepare(tender_id: int, body: dict):
    """After the close, the responsible person (or a manager) sets exceptions to the ranking
    per position or whole lot: `choose` another admissible participant or `unsuccessful`, each
    with a reason; `confirm` returns a unit to the ranking. The whole decision is then open
    for the vote (its digest changes whenever its content does)."""
    commission.prepare(*actor(), tender_id, body["items"])
    commit()
    return _out(tender_id)


@route(
    api,
    "/tenders/<int:tender_id>/decision/votes",
    "POST",
    summary="Vote on the prepared decision",
    body=cs.VoteIn,
    response=cs.DecisionOut,
    tag="results",
)
def api_vote(tender_id: int, body: dict):
    """A member of the commission votes `for` or `against` (a comment is required against);
    voting again before the close replaces the member's vote."""
    commission.vote(*actor(), tender_id, body["vote"], body["comment"])
    commit()
    return _out(tender_id)


@route(
    api,
    "/tenders/<int:tender_id>/decision/close",
    "POST",
    summary="Close the vote (chair)",
    response=cs.DecisionOut,
    tag="results",
)
def api_close(tender_id: int):
    """The chair closes the vote once a majority of the whole commission is for; then the
    results can be published."""
    commission.close_vote(*actor(), tender_id)
    commit()
    return _out(tender_id)
