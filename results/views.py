"""Review and results: the customer's comparison page, CSV export, disqualification,
publication and correction (cabinet and API), and the published results and their versions
for participants and the public."""

from __future__ import annotations

import dataclasses

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from core.api import API_PREFIX, actor, flatten_messages, route, translate
from core.errors import DomainError, Invalid, NotFound
from core.extensions import db
from core.forms import parse_query
from core.transaction import commit
from positions.xlsx_rules import CONTENT_TYPE as XLSX_CONTENT_TYPE
from results import (
    commission,
    comparison,
    correction,
    disqualification,
    evaluation,
    exports,
    publication,
    review,
    schemas,
    xlsx_exports,
)
from results import outcome as results
from tenders import service

bp = Blueprint("results", __name__)
api = Blueprint("results_api", __name__, url_prefix=API_PREFIX)


def _org():
    return g.org if current_user.is_authenticated else None


# -- the customer's review (cabinet) ---------------------------------------------------------


@bp.get("/cabinet/tenders/<int:tender_id>/review")
@login_required
def review_page(tender_id: int):
    """The comparison table after the close: positions x participants, filters, savings."""
    tender = review.require_reviewer(current_user, g.org, tender_id)
    # Not evaluated yet: the page says "being evaluated" (the job or its sweeper stores it).
    filters, errors = parse_query(schemas.ComparisonQuery(), request.args)
    return _review_page(tender, filters, errors)


def _review_page(tender, filters: dict, errors: dict, status: int = 200):
    table = comparison.comparison(tender, filters, filters["page"], filters["per_page"])
    whole_lots = {
        row["award"].lot_id: comparison.whole_lot_lines(
            row["award"].lot_id, [p["bid_id"] for p in table["participants"]]
        )
        for row in table["rows"]
        if row["award"].award_mode == "whole_lot"
    }
    params = {k: v for k, v in request.args.items() if k != "page" and v}
    may_prepare = service.may_prepare(current_user, g.org, tender)  # observers: read only
    return render_template(
        "results/review.html",
        tender=tender,
        table=table,
        whole_lots=whole_lots,
        filters=filters,
        errors=errors,
        params=params,
        editable=tender.status == "closed" and may_prepare,
        may_prepare=may_prepare,
    ), (422 if errors and status == 200 else status)


@bp.get("/cabinet/tenders/<int:tender_id>/review.csv")
@login_required
def review_csv(tender_id: int):
    """The comparison as CSV (one row per offer; formula-safe; UTF-8 with BOM or cp1251)."""
    tender = review.require_reviewer(current_user, g.org, tender_id)
    encoding = request.args.get("encoding", "utf-8-sig")
    if encoding not in ("utf-8-sig", "windows-1251"):
        raise Invalid(_("Use utf-8-sig or windows-1251."), {"encoding": [_("Unknown encoding.")]})
    try:
        data = exports.comparison_csv(tender, encoding)
    except ValueError as exc:  # a character windows-1251 cannot hold
        raise Invalid(str(exc), {"encoding": [str(exc)]}) from None
    charset = "utf-8" if encoding == "utf-8-sig" else "windows-1251"
    return Response(
        data,
        content_type=f"text/csv; charset={charset}",  # mimetype= would add a second charset
        headers={"Content-Disposition": f'attachment; filename="{tender.number}-comparison.csv"'},
    )


@bp.get("/cabinet/tenders/<int:tender_id>/review.xlsx")
@login_required
def review_xlsx(tender_id: int):
    """The comparison as an Excel workbook: positions x participants (prices, scores, ranks,
    the best highlighted) and the CSV's rows; formula-safe."""
    tender = review.require_reviewer(current_user, g.org, tender_id)
    return Response(
        exports.comparison_xlsx(tender),
        content_type=XLSX_CONTENT_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{tender.number}-comparison.xlsx"'},
    )


def _review_again(tender_id: int, errors: dict, status: int = 422):
    """The review page again with the errors of a refused form (the user must see it)."""
    tender = review.require_reviewer(current_user, g.org, tender_id)
    filters, _errors = parse_query(schemas.ComparisonQuery(), request.args)
    return _review_page(tender, filters, errors, status)


def _act(tender_id: int, action, success: str, anchor: str | None = None):
    """Run a review page's action: on success commit and go back to the page (at anchor);
    refused, nothing is stored and the page says why in the reader's language."""
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        fields = {k: [translate(m) for m in v] for k, v in exc.fields.items()}
        return _review_again(tender_id, {**fields, "_form": [translate(exc.message)]}, exc.status)
    commit()
    flash(success, "success")
    return redirect(url_for("results.review_page", tender_id=tender_id, _anchor=anchor))


@bp.post("/cabinet/tenders/<int:tender_id>/review/disqualify")
@login_required
def disqualify(tender_id: int):
    """Disqualify a participant for the whole tender or one lot, with a reason."""
    raw = {k: v for k, v in request.form.items() if v != "" and k != "csrf_token"}
    try:
        data = schemas.DisqualifyIn().load(raw)
    except ValidationError as exc:
        return _review_again(tender_id, flatten_messages(exc.messages))
    return _act(
        tender_id,
        lambda: disqualification.disqualify(
            current_user, g.org, tender_id, data["participant"], data["lot"], data["reason"]
        ),
        _(
            "Participant %(p)s disqualified; the ranking was recomputed.",
            p=data["participant"],
        ),
    )


@bp.post("/cabinet/tenders/<int:tender_id>/review/disqualifications/<int:item_id>/lift")
@login_required
def lift(tender_id: int, item_id: int):
    """Lift a disqualification before publication, with a reason."""
    reason = request.form.get("reason", "")
    return _act(
        tender_id,
        lambda: disqualification.lift(current_user, g.org, tender_id, item_id, reason),
        _("Disqualification lifted; the ranking was recomputed."),
    )


@bp.post("/cabinet/tenders/<int:tender_id>/review/publish")
@login_required
def publish(tender_id: int):
    """Publish the results (final)."""
    return _act(
        tender_id,
        lambda: publication.publish(current_user, g.org, tender_id),
        _("Results published: participants are notified."),
    )


# -- published results (public page) ---------------------------------------------------------


@bp.get("/tenders/<number>/results")
def results_page(number: str):
    """Published results: a summary for everyone, every award with ranked offers for the
    customer and the participants, and a participant's own result per position."""
    org = _org()
    tender = service.visible_tender(service.by_number(number), org)
    level = results.view_level(tender, org)
    if level == "none":
        raise NotFound(_("The results of this tender are not published."))
    query, errors = parse_query(schemas.ResultsQuery(), request.args)
    awards, total = ([], 0)
    if level == "detail":
        awards, total = results.awards_page(tender, query["page"], query["per_page"], query["lot"])
    own = results.participant_results(tender, org.id) if org and level == "detail" else []
    return render_template(
        "results/public.html",
        tender=tender,
        level=level,
        summary=results.summary(tender),
        awards=awards,
        total=total,
        page=query["page"],
        pages=max(1, -(-total // query["per_page"])),
        own=own,
        disqualifications=results.disqualifications(tender) if level == "detail" else (),
        errors=errors,
    )


@bp.get("/tenders/<number>/results.xlsx")
def results_xlsx(number: str):
    """The published results as an Excel workbook: the summary for everyone, every award and
    ranked offer for those who see the detail (the page's own rule)."""
    org = _org()
    tender = service.visible_tender(service.by_number(number), org)
    level = results.view_level(tender, org)
    if level == "none":
        raise NotFound("The results of this tender are not published.")
    awards: list = []
    if level == "detail":
        awards, _total = results.awards_page(tender, 1, 1_000_000, None)
    data = xlsx_exports.results_workbook(results.summary(tender), awards, level == "detail")
    return Response(
        data,
        content_type=XLSX_CONTENT_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{tender.number}-results.xlsx"'},
    )


@bp.app_template_global("notice_results")
def notice_results_global(tender) -> dict | None:
    """Template helper of the notice page."""
    return notice_results(tender, _org())


def notice_results(tender, org) -> dict | None:
    """What the notice page shows of the results (None before publication)."""
    level = results.view_level(tender, org)
    if level == "none":
        return None
    own = results.participant_results(tender, org.id) if org and level == "detail" else []
    return {
        "level": level,
        "summary": results.summary(tender),
        "own": own[:20],
        "own_total": len(own),
    }


# -- API -------------------------------------------------------------------------------------


def _comparison_out(tender, table: dict) -> dict:
    rs = table["result_set"]
    people = table["participants"]
    rows = []
    for row in table["rows"]:
        a = row["award"]
        rows.append(
            {
                "lot": a.lot_number,
                "position": a.position_number,
                "name": row["position"].name if row["position"] else row["lot"].title,
                "award_mode": a.award_mode,
                "status": a.status,
                "winner": row["winner"]["participant"] if row["winner"] else None,
                "price": a.price,
                "reference_total": a.reference_total,
                "savings": a.savings,
                "savings_percent": row["savings_percent"],
                "offers": [
                    {
                        "participant": people[i]["participant"],
                        "rank": c.rank,
                        "status": c.status,
                        "reason": c.reason,
                        "unit_price": c.unit_price,
                        "total": c.total,
                        "score": c.score,
                        "breakdown": c.breakdown,
                    }
                    for i, c in enumerate(row["cells"])
                    if c is not None
                ],
            }
        )
    return {
        "status": tender.status,
        "participants": people,
        "rows": rows,
        "total": table["total"],
        "page": table["page"],
        "per_page": table["per_page"],
        "awarded": rs.awarded if rs else 0,
        "unsuccessful": rs.unsuccessful if rs else 0,
        "reference_total": rs.reference_total if rs else 0,
        "savings": rs.savings if rs else 0,
        "savings_percent": table["savings_percent"],
        "disqualifications": table["disqualifications"],
    }


@route(
    api,
    "/tenders/<int:tender_id>/evaluation",
    "GET",
    summary="Compare the offers after the close (customer)",
    query=schemas.ComparisonQuery,
    response=schemas.ComparisonOut,
    tag="results",
    errors=("conflict", "evaluation_pending"),  # before the close; until evaluated
)
def api_evaluation(tender_id: int, query: dict):
    """Positions and whole lots x participants with names, prices, scores with their
    breakdown, ranks and savings; filters by lot, text, status, participant. Only the
    tender's customer, after the close; 409 evaluation_pending until it is evaluated."""
    user, org = actor()
    tender = review.require_reviewer(user, org, tender_id)
    if tender.status == "closed":
        evaluation.require_evaluated(tender)  # 409 evaluation_pending until the job has stored it
    table = comparison.comparison(tender, query, query["page"], query["per_page"])
    return _comparison_out(tender, table)


@route(
    api,
    "/tenders/<int:tender_id>/disqualifications",
    "POST",
    summary="Disqualify a participant (whole tender or one lot)",
    body=schemas.DisqualifyIn,
    response=schemas.ResultDisqualificationOut,
    status=201,
    tag="results",
)
def api_disqualify(tender_id: int, body: dict):
    """With a reason (audited); the ranking of the affected lots is recomputed. Refused once
    the results are published."""
    d = disqualification.disqualify(
        *actor(), tender_id, body["participant"], body["lot"], body["reason"]
    )
    commit()
    tender = service.get_tender(tender_id)
    return next(x for x in comparison.disqualification_list(tender) if x["id"] == d.id)


@route(
    api,
    "/tenders/<int:tender_id>/disqualifications/<int:item_id>/lift",
    "POST",
    summary="Lift a disqualification before publication",
    body=schemas.LiftDisqualificationIn,
    response=schemas.ResultDisqualificationOut,
    tag="results",
)
def api_lift(tender_id: int, item_id: int, body: dict):
    """With a reason (audited); the ranking is recomputed."""
    disqualification.lift(*actor(), tender_id, item_id, body["reason"])
    commit()
    tender = service.get_tender(tender_id)
    return next(x for x in comparison.disqualification_list(tender) if x["id"] == item_id)


@route(
    api,
    "/tenders/<int:tender_id>/results/publish",
    "POST",
    summary="Publish the results (final)",
    response=schemas.ResultsPublishedOut,
    tag="results",
    errors=("evaluation_pending", "rebidding_running"),
)
def api_publish(tender_id: int):
    """closed -> results_published; every participant is notified (409 rebidding_running
    while a re-bidding round runs)."""
    result_set = publication.publish(*actor(), tender_id)
    commit()
    return {
        "status": "results_published",
        "published_at": result_set.published_at,
        "digest": result_set.digest,
        "awarded": result_set.awarded,
        "unsuccessful": result_set.unsuccessful,
    }


@route(
    api,
    "/tenders/<int:tender_id>/results",
    "GET",
    summary="Published results",
    query=schemas.ResultsQuery,
    response=schemas.ResultsOut,
    auth="optional",
    tag="results",
)
def api_results(tender_id: int, query: dict):
    """404 until published; then a summary for everyone, and every award with its ranked
    offers (names revealed) for the customer and the participants."""
    org = _viewer_org()
    tender = service.visible_tender(service.get_tender(tender_id), org)
    level = results.view_level(tender, org)
    if level == "none":
        raise NotFound(_("The results of this tender are not published."))
    awards, total = ([], 0)
    if level == "detail":
        awards, total = results.awards_page(tender, query["page"], query["per_page"], query["lot"])
    versions = correction.versions(tender)
    if level != "detail":  # the public: times, reasons and totals, not who was disqualified
        versions = [dataclasses.replace(v, changes=()) for v in versions]
    return {
        "level": level,
        "version": versions[-1].number if versions else None,
        "versions": versions,
        "summary": results.summary(tender),
        "awards": awards,
        "total": total,
        "page": query["page"],
        "per_page": query["per_page"],
        "decision": commission.for_publication(tender),
    }


@route(
    api,
    "/tenders/<int:tender_id>/results/mine",
    "GET",
    summary="My own result per position",
    response=schemas.OwnResultsOut,
    tag="results",
)
def api_my_results(tender_id: int):
    """The caller's organization's rank, price and score on every position it bid on, and
    whether it won; 404 until published."""
    _user, org = actor()
    tender = service.visible_tender(service.get_tender(tender_id), org)
    if not results.is_published(tender):
        raise NotFound(_("The results of this tender are not published."))
    if org is None:
        raise Invalid(_("Choose an organization first."))
    return {"items": results.participant_results(tender, org.id)}


# -- correction of published results and its versions ----------------------------------------


def _viewer_org():
    return getattr(g, "org", None) if getattr(g, "api_user", None) else None


def _published(tender_id: int):
    org = _viewer_org()
    tender = service.visible_tender(service.get_tender(tender_id), org)
    level = results.view_level(tender, org)
    if level == "none":
        raise NotFound(_("The results of this tender are not published."))
    return tender, level


@bp.app_template_global("result_versions")
def result_versions(tender) -> list[correction.VersionInfo]:
    """Template helper: the published versions of a tender's results, oldest first."""
    return correction.versions(tender)


@bp.app_template_global("result_change")
def result_change(change: dict) -> str:
    """Template helper: one change of a correction as a sentence."""
    return correction.change_text(change)


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
            continue
        parts = key.split(".")
        if key in ("changes", "_schema"):
            texts = messages
        elif parts[0] == "changes" and len(parts) > 1 and parts[1].isdigit():
            n = int(parts[1]) + 1
            texts = [_("Change %(n)s: %(message)s", n=n, message=m) for m in messages]
        else:
            texts = [f"{key}: {m}" for m in messages]
        out.setdefault("_form", []).extend(texts)
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
        return _review_again(tender_id, _page_errors(flatten_messages(exc.messages)))
    return _act(
        tender_id,
        lambda: correction.correct(current_user, g.org, tender_id, data["reason"], data["changes"]),
        _("Results corrected and published as a new version: participants are notified."),
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
    query=schemas.ResultsQuery,
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
