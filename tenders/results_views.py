"""Review and results: the customer's comparison page, CSV export, disqualification and
publication (cabinet and API), and the published results for participants and the public."""

from __future__ import annotations

import dataclasses

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError

from core.api import API_PREFIX, actor, flatten_messages, route
from core.errors import DomainError, Invalid, NotFound
from core.extensions import db
from core.transaction import commit
from tenders import correction, results, review, service
from tenders import results_schemas as schemas

bp = Blueprint("results", __name__)
api = Blueprint("results_api", __name__, url_prefix=API_PREFIX)


def _org():
    return g.org if current_user.is_authenticated else None


def _query(schema, args) -> tuple[dict, dict]:
    try:
        return schema.load(args.to_dict()), {}
    except ValidationError as exc:
        return schema.load({}), flatten_messages(exc.messages)


# -- the customer's review (cabinet) ---------------------------------------------------------


@bp.get("/cabinet/tenders/<int:tender_id>/review")
@login_required
def review_page(tender_id: int):
    """The comparison table after the close: positions x participants, filters, savings."""
    tender = review.require_reviewer(current_user, g.org, tender_id)
    # Not evaluated yet: the page says "being evaluated" (the job or its sweeper stores it).
    filters, errors = _query(schemas.ComparisonQuery(), request.args)
    return _review_page(tender, filters, errors)


def _review_page(tender, filters: dict, errors: dict, status: int = 200):
    table = review.comparison(tender, filters, filters["page"], filters["per_page"])
    whole_lots = {
        row["award"].lot_id: review.whole_lot_lines(
            row["award"].lot_id, [p["bid_id"] for p in table["participants"]]
        )
        for row in table["rows"]
        if row["award"].award_mode == "whole_lot"
    }
    params = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "results/review.html",
        tender=tender,
        table=table,
        whole_lots=whole_lots,
        filters=filters,
        errors=errors,
        params=params,
        editable=tender.status == "closed",
    ), (422 if errors and status == 200 else status)


@bp.get("/cabinet/tenders/<int:tender_id>/review.csv")
@login_required
def review_csv(tender_id: int):
    """The comparison as CSV (one row per offer; formula-safe; UTF-8 with BOM or cp1251)."""
    tender = review.require_reviewer(current_user, g.org, tender_id)
    encoding = request.args.get("encoding", "utf-8-sig")
    if encoding not in ("utf-8-sig", "windows-1251"):
        raise Invalid("Use utf-8-sig or windows-1251.", {"encoding": ["Unknown encoding."]})
    try:
        data = review.comparison_csv(tender, encoding)
    except ValueError as exc:  # a character windows-1251 cannot hold
        raise Invalid(str(exc), {"encoding": [str(exc)]}) from None
    charset = "utf-8" if encoding == "utf-8-sig" else "windows-1251"
    return Response(
        data,
        content_type=f"text/csv; charset={charset}",  # mimetype= would add a second charset
        headers={"Content-Disposition": f'attachment; filename="{tender.number}-comparison.csv"'},
    )


def _act(tender_id: int, action, success: str):
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        tender = review.require_reviewer(current_user, g.org, tender_id)
        filters, _ = _query(schemas.ComparisonQuery(), request.args)
        return _review_page(tender, filters, {**exc.fields, "_form": [exc.message]}, exc.status)
    commit()
    flash(success, "success")
    return redirect(url_for("results.review_page", tender_id=tender_id))


@bp.post("/cabinet/tenders/<int:tender_id>/review/disqualify")
@login_required
def disqualify(tender_id: int):
    """Disqualify a participant for the whole tender or one lot, with a reason."""
    raw = {k: v for k, v in request.form.items() if v != "" and k != "csrf_token"}
    try:
        data = schemas.DisqualifyIn().load(raw)
    except ValidationError as exc:
        tender = review.require_reviewer(current_user, g.org, tender_id)
        filters, _ = _query(schemas.ComparisonQuery(), request.args)
        return _review_page(tender, filters, flatten_messages(exc.messages), 422)
    return _act(
        tender_id,
        lambda: review.disqualify(
            current_user, g.org, tender_id, data["participant"], data["lot"], data["reason"]
        ),
        f"Participant {data['participant']} disqualified; the ranking was recomputed.",
    )


@bp.post("/cabinet/tenders/<int:tender_id>/review/disqualifications/<int:item_id>/lift")
@login_required
def lift(tender_id: int, item_id: int):
    """Lift a disqualification before publication, with a reason."""
    reason = request.form.get("reason", "")
    return _act(
        tender_id,
        lambda: review.lift(current_user, g.org, tender_id, item_id, reason),
        "Disqualification lifted; the ranking was recomputed.",
    )


@bp.post("/cabinet/tenders/<int:tender_id>/review/publish")
@login_required
def publish(tender_id: int):
    """Publish the results (final)."""
    return _act(
        tender_id,
        lambda: review.publish(current_user, g.org, tender_id),
        "Results published: participants are notified.",
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
        raise NotFound("The results of this tender are not published.")
    query, errors = _query(schemas.ResultsQuery(), request.args)
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
        review.require_evaluated(tender)  # 409 evaluation_pending until the job has stored it
    table = review.comparison(tender, query, query["page"], query["per_page"])
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
    d = review.disqualify(*actor(), tender_id, body["participant"], body["lot"], body["reason"])
    commit()
    tender = service.get_tender(tender_id)
    return next(x for x in review.disqualification_list(tender) if x["id"] == d.id)


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
    review.lift(*actor(), tender_id, item_id, body["reason"])
    commit()
    tender = service.get_tender(tender_id)
    return next(x for x in review.disqualification_list(tender) if x["id"] == item_id)


@route(
    api,
    "/tenders/<int:tender_id>/results/publish",
    "POST",
    summary="Publish the results (final)",
    response=schemas.ResultsPublishedOut,
    tag="results",
    errors=("evaluation_pending",),
)
def api_publish(tender_id: int):
    """closed -> results_published; every participant is notified."""
    result_set = review.publish(*actor(), tender_id)
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
    org = getattr(g, "org", None) if getattr(g, "api_user", None) else None
    tender = service.visible_tender(service.get_tender(tender_id), org)
    level = results.view_level(tender, org)
    if level == "none":
        raise NotFound("The results of this tender are not published.")
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
    _, org = actor()
    tender = service.visible_tender(service.get_tender(tender_id), org)
    if not results.is_published(tender):
        raise NotFound("The results of this tender are not published.")
    if org is None:
        raise Invalid("Choose an organization first.")
    return {"items": results.participant_results(tender, org.id)}


# The correction of published results adds its routes to these blueprints.
from tenders import correction_views  # noqa: E402, F401
