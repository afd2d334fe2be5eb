"""Correction of published results: the customer's form on the review page and the API, and
the published versions (list and one version) for the API. Registered on the results
blueprints (imported by tenders.results_views)."""

from __future__ import annotations

import dataclasses

from flask import g, request
from flask_login import current_user, login_required
from marshmallow import ValidationError

from core.api import actor, flatten_messages, route
from core.errors import NotFound
from core.transaction import commit
from tenders import correction, results, review, service
from tenders import correction_schemas as schemas
from tenders.results_schemas import ComparisonQuery, ResultsQuery
from tenders.results_views import _act, _query, _review_page, api, bp


def _viewer_org():
    return getattr(g, "org", None) if getattr(g, "api_user", None) else None


def _published(tender_id: int):
    org = _viewer_org()
    tender = service.visible_tender(service.get_tender(tender_id), org)
    level = results.view_level(tender, org)
    if level == "none":
        raise NotFound("The results of this tender are not published.")
    return tender, level


@bp.app_template_global("result_versions")
def result_versions(tender) -> list[correction.VersionInfo]:
    """Template helper: the published versions of a tender's results, oldest first."""
    return correction.versions(tender)


# -- the cabinet form ------------------------------------------------------------------------


def form_changes(form) -> list[dict]:
    """The review page's correction form as changes: one disqualification (when a participant
    is chosen) and every ticked lift, in that order."""
    changes: list[dict] = []
    participant = form.get("dq_participant", "").strip()
    if participant:
        change = {"action": "disqualify", "participant": participant}
        if form.get("dq_lot", "").strip():
            change["lot"] = form["dq_lot"].strip()
        change["reason"] = form.get("dq_reason", "")
        changes.append(change)
    for item in form.getlist("lift"):
        changes.append(
            {
                "action": "lift",
                "disqualification": item,
                "reason": form.get(f"lift_reason_{item}", ""),
            }
        )
    return changes


def _page_errors(fields: dict) -> dict:
    """API field names as the form's: the reason keeps its field, the rest is listed."""
    out: dict = {}
    for key, messages in fields.items():
        if key == "reason":
            out["correction_reason"] = messages
        else:
            out.setdefault("_form", []).extend(f"{key}: {m}" for m in messages)
    return out


@bp.post("/cabinet/tenders/<int:tender_id>/review/correct")
@login_required
def correct(tender_id: int):
    """Correct the published results (new version), with a reason."""
    raw = {
        "reason": request.form.get("correction_reason", ""),
        "changes": form_changes(request.form),
    }
    try:
        data = schemas.CorrectionIn().load(raw)
    except ValidationError as exc:
        tender = review.require_reviewer(current_user, g.org, tender_id)
        filters, _ = _query(ComparisonQuery(), request.args)
        return _review_page(tender, filters, _page_errors(flatten_messages(exc.messages)), 422)
    return _act(
        tender_id,
        lambda: correction.correct(current_user, g.org, tender_id, data["reason"], data["changes"]),
        "Results corrected and published as a new version: participants are notified.",
    )


# -- API -------------------------------------------------------------------------------------


@route(
    api,
    "/tenders/<int:tender_id>/results/corrections",
    "POST",
    summary="Correct the published results (new version)",
    body=schemas.CorrectionIn,
    response=schemas.CorrectionOut,
    status=201,
    tag="results",
)
def api_correct(tender_id: int, body: dict):
    """Only the tender's customer, after publication: a reason (10-2000 characters) and the
    changes (disqualify a participant for the whole tender or a lot, or lift a
    disqualification, each with its reason). The results are recomputed and published as the
    next version; the earlier versions stay readable; participants are notified."""
    row = correction.correct(*actor(), tender_id, body["reason"], body["changes"])
    commit()
    tender = service.get_tender(tender_id)
    return {
        "status": tender.status,
        "version": correction.version(tender, row.number),
        "summary": results.summary(tender),
    }


@route(
    api,
    "/tenders/<int:tender_id>/results/versions",
    "GET",
    summary="Published versions of the results",
    response=schemas.VersionsOut,
    auth="optional",
    tag="results",
)
def api_versions(tender_id: int):
    """Every published version (1 = first publication, then each correction with its
    reason, time and changes); 404 until published."""
    tender, level = _published(tender_id)
    items = [_for_level(v, level) for v in correction.versions(tender)]
    return {"current": items[-1].number if items else None, "items": items}


def _for_level(info: correction.VersionInfo, level: str) -> correction.VersionInfo:
    """The public sees each version's time, reason and totals; which participants a
    correction disqualified or reinstated (and why) only the customer and the participants."""
    return info if level == "detail" else dataclasses.replace(info, changes=())


def _award_dict(a) -> dict:
    """A current award in the shape of an archived one."""
    winner = a.winner
    return {
        "lot": a.lot_number,
        "lot_title": a.lot_title,
        "award_mode": a.award_mode,
        "position": a.position_number,
        "name": a.position_name,
        "status": a.status,
        "winner": winner.participant_number if winner else None,
        "price": correction._text(a.price),
        "total": correction._text(a.total),
        "score": correction._text(a.score),
        "reference_total": correction._text(a.reference_total),
        "savings": correction._text(a.savings),
        "offers": [
            {
                "participant": o.participant_number,
                "organization": o.organization_name,
                "inn": o.inn,
                "rank": o.rank,
                "status": o.status,
                "reason": o.reason,
                "unit_price": correction._text(o.unit_price),
                "total": correction._text(o.total),
                "score": correction._text(o.score),
                "breakdown": {
                    "price_weight": str(o.price_weight),
                    "best_price": str(o.best_price),
                    "price_points": str(o.price_points),
                    "criteria": [
                        {
                            "criterion_id": c.criterion_id,
                            "name": c.name,
                            "value": c.value,
                            "best": c.best,
                            "ratio": str(c.ratio),
                            "weight": str(c.weight),
                            "points": str(c.points),
                        }
                        for c in o.criteria
                    ],
                },
            }
            for o in a.offers
        ],
    }


@route(
    api,
    "/tenders/<int:tender_id>/results/versions/<int:number>",
    "GET",
    summary="One published version of the results",
    query=ResultsQuery,
    response=schemas.VersionOut,
    auth="optional",
    tag="results",
)
def api_version(tender_id: int, number: int, query: dict):
    """The version's facts for everyone; its awards with the ranked offers as they were
    published for the customer and the participants (earlier versions from their archive)."""
    tender, level = _published(tender_id)
    info = _for_level(correction.version(tender, number), level)
    awards, total = [], 0
    if level == "detail":
        page, per_page, lot = query["page"], query["per_page"], query["lot"]
        if info.current:
            current, total = results.awards_page(tender, page, per_page, lot)
            awards = [_award_dict(a) for a in current]
        else:
            awards, total = correction.snapshot_awards(tender, number, page, per_page, lot)
    return {
        "level": level,
        "version": info,
        "awards": awards,
        "total": total,
        "page": query["page"],
        "per_page": query["per_page"],
    }
