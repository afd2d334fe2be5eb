"""Approval chains: the settings page and the decisions in the cabinet, the panels of the
draft editor and of the bid form (template globals), and the /api/v1 operations."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from accounts.service import membership, require_member
from approvals import rules, schemas, service
from core import clock
from core.api import API_PREFIX, actor, route, translate
from core.errors import DomainError, Forbidden
from core.extensions import db
from core.forms import parse_form
from core.transaction import commit
from tenders import service as tenders

api = Blueprint("approvals_api", __name__, url_prefix=API_PREFIX)
bp = Blueprint("approvals", __name__, url_prefix="/cabinet/approvals")

ACTION_WORDS = {
    "publish": _l("Publication of the draft"),
    "amend": _l("Amendment"),
    "cancel": _l("Cancellation"),
    "bid": _l("Bid offer"),
}
STEP_WORDS = {
    "requested": _l("sent for approval"),
    "approved": _l("approved"),
    "returned": _l("returned"),
    "superseded": _l("replaced by a newer request"),
    "done": _l("carried out"),
}

APPROVAL_ERRORS = ("approval_stale", "approval_closed", "own_request", "approval_not_required")


def _settings_out(org_id: int) -> dict:
    s = service.settings_of(org_id)
    return {
        "publication": s.publication,
        "approvers": s.approvers,
        "other_approver": s.other_approver,
        "bids": s.bids,
        "managers": len(service.managers(org_id)),
    }


# -- API ---------------------------------------------------------------------------------------


@route(
    api,
    "/approval-settings",
    "GET",
    summary="My organization's approval settings",
    response=schemas.SettingsOut,
    tag="approvals",
)
def api_settings():
    """What needs approval in the caller's organization, and how many managers it has."""
    user, org = actor()
    if org is None:
        raise Forbidden(_("Choose an organization first."))
    require_member(user, org.id)
    return _settings_out(org.id)


@route(
    api,
    "/approval-settings",
    "PUT",
    summary="Change the approval settings (administrator)",
    body=schemas.SettingsIn,
    response=schemas.SettingsOut,
    tag="approvals",
)
def api_save_settings(body: dict):
    """The number of approvers may not exceed the organization's managers (422 names it)."""
    user, org = actor()
    service.save_settings(user, org, body)
    commit()
    return _settings_out(org.id)


@route(
    api,
    "/approvals",
    "GET",
    summary="Requests waiting for my decision",
    response=schemas.RequestOut(many=True),
    tag="approvals",
)
def api_waiting():
    """The organization's pending requests that the caller (a manager) may decide."""
    return service.waiting_for(*actor(), listed=True)


@route(
    api,
    "/approvals/<int:request_id>",
    "GET",
    summary="An approval request with its timeline",
    response=schemas.RequestOut,
    tag="approvals",
)
def api_request(request_id: int):
    """Members of the requesting organization only."""
    return service.visible_request(*actor(), request_id)


@route(
    api,
    "/approvals/<int:request_id>/approve",
    "POST",
    summary="Approve the exact version sent",
    body=schemas.ApprovalDecisionIn,
    response=schemas.RequestOut,
    tag="approvals",
    errors=APPROVAL_ERRORS,
)
def api_approve(request_id: int, body: dict):
    """A manager approves; a draft changed since it was sent (or another `version` than
    the one waiting) is refused with 409 approval_stale naming the versions."""
    req = service.decide(*actor(), request_id, True, body["comment"], body.get("version"))
    commit()
    return req


@route(
    api,
    "/approvals/<int:request_id>/return",
    "POST",
    summary="Return a request with a comment",
    body=schemas.ApprovalDecisionIn,
    response=schemas.RequestOut,
    tag="approvals",
    errors=APPROVAL_ERRORS,
)
def api_return(request_id: int, body: dict):
    """The comment is mandatory; the author hears of it (inbox and mail)."""
    req = service.decide(*actor(), request_id, False, body["comment"], body.get("version"))
    commit()
    return req


@route(
    api,
    "/approvals/<int:request_id>/carry-out",
    "POST",
    summary="Carry out an approved amendment or cancellation",
    response=schemas.RequestOut,
    tag="approvals",
    errors=("approval_required", "bidding_closed"),
)
def api_carry_out(request_id: int):
    """Exactly as approved."""
    user, org = actor()
    service.carry_out(user, org, request_id)
    commit()
    return service.visible_request(user, org, request_id)


@route(
    api,
    "/tenders/<int:tender_id>/approvals",
    "GET",
    summary="The approval timeline of my tender",
    response=schemas.RequestOut(many=True),
    tag="approvals",
)
def api_tender_timeline(tender_id: int):
    """Newest first, each with its steps (sent, approved, returned, carried out)."""
    return service.tender_timeline(*actor(), tender_id)


@route(
    api,
    "/tenders/<int:tender_id>/approvals",
    "POST",
    summary="Send a draft, an amendment or a cancellation for approval",
    body=schemas.TenderRequestIn,
    response=schemas.RequestOut,
    status=201,
    tag="approvals",
    errors=("approval_not_required",),
)
def api_send_tender(tender_id: int, body: dict):
    """publish: the draft as it is now (its hash is the version approved); amend: the
    `amendment` object as POST /tenders/{id}/amendments takes it; cancel: the `reason`."""
    change = body["amendment"] if body["action"] == "amend" else {"reason": body.get("reason", "")}
    req = service.send_tender(*actor(), tender_id, body["action"], body["comment"], change)
    commit()
    return req


@route(
    api,
    "/tenders/<int:tender_id>/bid/approvals",
    "GET",
    summary="The approval timeline of my bid",
    response=schemas.RequestOut(many=True),
    tag="approvals",
)
def api_bid_timeline(tender_id: int):
    """Newest first; an approved request's `version` is the payload hash that may be signed."""
    return service.bid_timeline(*actor(), tender_id)


@route(
    api,
    "/tenders/<int:tender_id>/bid/approvals",
    "POST",
    summary="Send a prepared offer for approval",
    body=schemas.BidRequestIn,
    response=schemas.RequestOut,
    status=201,
    tag="approvals",
    errors=("approval_not_required", "bidding_closed", "tender_not_open"),
)
def api_send_bid(tender_id: int, body: dict):
    """The offer is prepared as .../bid/prepare does; the managers approve its payload hash."""
    comment = body.pop("comment")
    req = service.send_bid(*actor(), tender_id, body, comment)
    commit()
    return req


# -- pages -------------------------------------------------------------------------------------


@bp.before_request
@login_required
def members_only():
    """Every page here acts for the active organization."""
    if g.org is None:
        raise Forbidden(_("Choose an organization first."))


@bp.route("", methods=["GET", "POST"])
def settings_page():
    """The organization's approval settings (administrators change them) and the requests
    waiting for this manager's decision."""
    errors: dict = {}
    status = 200
    values = _settings_out(g.org.id)
    if request.method == "POST":
        raw = {
            "publication": "publication" in request.form,
            "other_approver": "other_approver" in request.form,
            "bids": "bids" in request.form,
            "approvers": request.form.get("approvers", ""),
        }
        data, errors = parse_form(schemas.SettingsIn(), request.form)
        if not errors:
            try:
                service.save_settings(current_user, g.org, data)
                commit()
                flash(_("Approval settings saved."), "success")
                return redirect(url_for("approvals.settings_page"))
            except DomainError as exc:
                db.session.rollback()
                errors = {k: [translate(m) for m in v] for k, v in exc.fields.items()}
                errors["_form"] = [translate(exc.message)]
                status = exc.status
        else:
            status = 422
        values = {**values, **raw}
    member = membership(current_user, g.org.id)
    return render_template(
        "approvals/settings.html",
        values=values,
        errors=errors,
        may_administer=bool(member and member.may("administer")),
        waiting=service.waiting_for(current_user, g.org, listed=True),
        max_approvers=rules.MAX_APPROVERS,
    ), status


def _back(req) -> str:
    if req.action == "bid":
        tender = tenders.get_tender(req.tender_id)
        return url_for("bids.form", number=tender.number, _anchor="approval")
    return url_for("cabinet.edit", tender_id=req.tender_id, _anchor="approval")


def _run(action, back: str, success: str):
    """Run a decision from a page: commit and go back with a message, or show the refusal."""
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        parts = [translate(exc.message)]
        parts += [translate(m) for v in exc.fields.values() for m in v if m != exc.message]
        flash(" ".join(parts), "error")
        return redirect(back, code=303)
    commit()
    flash(success, "success")
    return redirect(back, code=303)


@bp.post("/tenders/<int:tender_id>/send")
def send_tender(tender_id: int):
    """Send the draft, an amendment or a cancellation for approval."""
    action = request.form.get("action", "publish")
    change: dict = {}
    if action == "amend":
        change = {
            k: v
            for k, v in request.form.items()
            if k in ("summary", "description", "bid_deadline", "questions_until", "timezone")
            and v != ""
        }
        specs = {}
        for line in request.form.get("specifications_text", "").splitlines():
            number, sep, text = line.partition(":")
            if sep and number.strip():
                specs[number.strip()] = text.strip()
        if specs:
            change["specifications"] = specs
    elif action == "cancel":
        change = {"reason": request.form.get("reason", "")}
    back = url_for("cabinet.edit", tender_id=tender_id, _anchor="approval")
    return _run(
        lambda: service.send_tender(
            current_user, g.org, tender_id, action, request.form.get("comment", ""), change
        ),
        back,
        _("Sent for approval: the managers are notified."),
    )


def _decision(request_id: int, approve: bool):
    req = service.visible_request(current_user, g.org, request_id)
    back = _back(req)
    db.session.rollback()  # the decision locks and reads it afresh
    return _run(
        lambda: service.decide(
            current_user,
            g.org,
            request_id,
            approve,
            request.form.get("comment", ""),
            request.form.get("version") or None,
        ),
        back,
        _("Approved.") if approve else _("Returned to the author with your comment."),
    )


@bp.post("/<int:request_id>/approve")
def approve(request_id: int):
    """Approve the version shown."""
    return _decision(request_id, True)


@bp.post("/<int:request_id>/return")
def return_(request_id: int):
    """Return with a mandatory comment."""
    return _decision(request_id, False)


@bp.post("/<int:request_id>/carry-out")
def carry_out(request_id: int):
    """Publish the approved amendment, or cancel as approved."""
    req = service.visible_request(current_user, g.org, request_id)
    back = url_for("cabinet.edit", tender_id=req.tender_id)
    db.session.rollback()
    return _run(lambda: service.carry_out(current_user, g.org, request_id), back, _("Done."))


@bp.app_template_global("approval_action")
def approval_action(action: str) -> str:
    """What a request asks for, in the page's language."""
    return str(ACTION_WORDS.get(action, action))


@bp.app_template_global("approval_state")
def approval_state(state: str) -> str:
    """A request's state, in the page's language."""
    return translate(rules.STATE_WORDS.get(state, state))


@bp.app_template_global("approval_step")
def approval_step(kind: str) -> str:
    """A step of the timeline, in the page's language."""
    return str(STEP_WORDS.get(kind, kind))


@bp.app_template_global("approvals_waiting")
def approvals_waiting() -> int | None:
    """How many requests wait for the current member's decision (None: no organization)."""
    if not current_user.is_authenticated or g.get("org") is None:
        return None
    return len(service.waiting_for(current_user, g.org))


# -- the panels of the draft editor and of the bid form ----------------------------------------


def _may(right: str) -> bool:
    member = membership(current_user, g.org.id) if g.org is not None else None
    return bool(member and member.may(right))


@bp.app_template_global("tender_approval")
def tender_approval(tender) -> dict:
    """What the draft editor shows of the approval chain: the settings, the current version,
    the requests with their steps, and what this member may do."""
    shown = g.setdefault("tender_approvals", {})  # the editor asks up to three times
    if tender.id not in shown:
        shown[tender.id] = _tender_approval(tender)
    return shown[tender.id]


def _tender_approval(tender) -> dict:
    settings = service.settings_of(tender.customer_id)
    history = service.requests_of(tender.customer_id, tender.id, rules.TENDER_ACTIONS)
    required = rules.required_approvals("publish", settings)
    if not required and not history:
        return {"required": 0, "history": []}  # nothing to show: the draft is not hashed
    current = service.draft_version(tender) if tender.status == "draft" else None
    latest = {}
    for req in history:
        latest.setdefault(req.action, req)
    publish = latest.get("publish")
    return {
        "required": required,
        "settings": settings,
        "version": current,
        "history": history,
        "publish": publish,
        "stale": bool(publish and current and publish.version != current),
        "approved": bool(
            publish and publish.state == "approved" and current and publish.version == current
        ),
        "open": [r for r in history if r.state in rules.OPEN_STATES],
        "may_prepare": _may("prepare"),
        "may_approve": _may("approve"),
        "user_id": current_user.id,
    }


@bp.app_template_global("bid_approval")
def bid_approval(tender) -> dict | None:
    """What the bid form shows of the approval chain (None: the organization requires none
    and has no requests)."""
    if g.org is None:
        return None
    settings = service.settings_of(g.org.id)
    history = service.requests_of(g.org.id, tender.id, ("bid",))
    if not settings.bids and not history:
        return None
    now = clock.now()
    return {
        "required": settings.bids,
        "history": history,
        "open": [r for r in history if r.state in rules.OPEN_STATES],
        "signed": service.signed_revisions(history),
        "left": rules.time_left(tender.bid_deadline, now),
        "close": rules.deadline_close(tender.bid_deadline, now),
        "may_prepare": _may("prepare"),
        "may_approve": _may("approve"),
        "user_id": current_user.id,
    }
