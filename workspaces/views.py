"""The supplier's workspaces: "My bids" and followed tenders ("Избранное"), their pages,
CSV and Excel exports and API; the follow buttons of every tender list."""

from __future__ import annotations

from flask import Blueprint, Response, g, render_template, request
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from core import clock
from core.api import API_PREFIX, actor, route
from core.forms import link_args, parse_query
from positions.xlsx_rules import CONTENT_TYPE as XLSX_CONTENT_TYPE
from workspaces import exports, labels, schemas, service

bp = Blueprint("workspaces", __name__)
api = Blueprint("workspaces_api", __name__, url_prefix=API_PREFIX)


@bp.app_template_global()
def followed_among(tenders) -> set[int] | None:
    """The ids of these tenders the logged-in user follows (None: anonymous, no buttons)."""
    if not current_user.is_authenticated:
        return None
    ids = [t.id for t in tenders]
    return service.followed_ids(current_user.id, ids) if ids else set()


def _args() -> dict[str, str]:
    """The query string as one value per name: the stage checkboxes as "a,b"."""
    args = {k: v for k, v in request.args.items() if k != "stage"}
    stages = [s for v in request.args.getlist("stage") for s in v.split(",") if s.strip()]
    if stages:
        args["stage"] = ",".join(stages)
    return args


def _query(schema) -> tuple[dict, dict]:
    """The page's filters; invalid ones are dropped and named beside the form (422)."""
    args = _args()
    query, errors = parse_query(schema, MultiDict(args))
    if errors:
        bad = {key.split(".")[0] for key in errors}
        query, _ = parse_query(schema, MultiDict({k: v for k, v in args.items() if k not in bad}))
    return query, errors


def _workspace(kind: str):
    if kind == "bids":
        member = service.supplier_member(current_user, g.org)
        return service.my_bids_select(member), schemas.BidsQuery(), member
    member = service.optional_member(current_user, g.org)
    return service.followed_select(current_user, member), schemas.FollowedQuery(), member


def _page(kind: str):
    select, schema, member = _workspace(kind)
    query, errors = _query(schema)
    found = service.page(select, query, current_user, g.org, followed=kind == "followed")
    template = "workspaces/_rows.html" if request.args.get("fragment") else "workspaces/list.html"
    return render_template(
        template,
        kind=kind,
        found=found,
        query=query,
        errors=errors,
        args=link_args(schema, _args()),
        customers=service.customers(member) if member is not None else [],
        server_now=clock.now(),
        stage_words=labels.STAGES,
        outcome_words=labels.OUTCOMES,
        sort_words=labels.SORTS,
    ), (422 if errors else 200)


@bp.get("/cabinet/bids")
@login_required
def my_bids():
    """Every tender the organization bid on: stage, deadline, own offer, rank, results."""
    return _page("bids")


@bp.get("/cabinet/followed")
@login_required
def followed():
    """The tenders I follow, with the same columns as "My bids"."""
    return _page("followed")


def _export(kind: str, fmt: str, query: dict):
    select, _schema, _member = _workspace(kind)
    user, org = current_user._get_current_object(), g.org
    rows = service.every_row(select, query, user, org)
    name = "my-bids" if kind == "bids" else "followed"
    if fmt == "xlsx":
        data, content_type = exports.workbook(rows), XLSX_CONTENT_TYPE
        filename = f"{name}.xlsx"
    else:
        data, content_type = exports.csv_file(rows), "text/csv; charset=utf-8"
        filename = f"{name}.csv"
    return Response(
        data,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/cabinet/<any(bids, followed):kind>.<any(csv, xlsx):fmt>")
@login_required
def export(kind: str, fmt: str):
    """Every row of the list as filtered, as CSV (UTF-8 with BOM) or an Excel workbook."""
    schema = schemas.BidsQuery() if kind == "bids" else schemas.FollowedQuery()
    query, _errors = _query(schema)
    return _export(kind, fmt, query)


# -- API ---------------------------------------------------------------------------------------


@route(
    api,
    "/bids",
    "GET",
    summary="My bids",
    query=schemas.BidsQuery,
    response=schemas.PageOut,
    tag="workspaces",
)
def api_my_bids(query: dict):
    """Every tender the caller's organization bid on (a specialist: those it submitted a
    revision of), with stage, deadline, latest revision, standing per lot as the tender's
    visibility allows, and the published results; filtered, sorted, paged."""
    user, org = actor()
    member = service.supplier_member(user, org)
    return service.page(service.my_bids_select(member), query, user, org)


@route(
    api,
    "/followed",
    "GET",
    summary="Followed tenders",
    query=schemas.FollowedQuery,
    response=schemas.PageOut,
    tag="workspaces",
)
def api_followed(query: dict):
    """The tenders the caller follows (PUT/DELETE /tenders/<id>/follow), with the same
    columns as /bids: its organization's bid on each where the caller may see it."""
    user, org = actor()
    member = service.optional_member(user, org)
    select = service.followed_select(user, member)
    return service.page(select, query, user, org, followed=True)
