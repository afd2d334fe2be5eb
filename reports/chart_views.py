"""Charts: the price history (API, the notice's and the review's section) and the customer
dashboard (cabinet page, CSV and Excel exports, API)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, g, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from bids import service as bids
from core.api import API_PREFIX, actor, flatten_messages, route
from core.errors import DomainError, Invalid
from core.forms import parse_query
from positions.xlsx_rules import CONTENT_TYPE as XLSX_CONTENT_TYPE
from reports import dashboard, dashboard_exports, price_history, schemas
from tenders import service as tenders
from tenders.models import Tender

bp = Blueprint("charts", __name__)
api = Blueprint("charts_api", __name__, url_prefix=API_PREFIX)

_history_out = schemas.PriceHistoryOut()


def _org():
    return g.org if current_user.is_authenticated else None


# -- price history ---------------------------------------------------------------------------


@route(
    api,
    "/tenders/<int:tender_id>/price-history",
    "GET",
    summary="Price history of a position or a lot",
    query=schemas.PriceHistoryQuery,
    response=schemas.PriceHistoryOut,
    auth="optional",
    tag="results",
)
def api_price_history(tender_id: int, query: dict):
    """The best price and the caller's own price over time (a position's unit price, or a
    lot's total when no position is given), with the deadline's extensions; as the tender's
    visibility lets the caller see the offers (level "none": extensions only). After the
    close the customer gets every participant's line by name. Unknown lot or position: 404
    naming it; a position outside the given lot: 422."""
    user = getattr(g, "api_user", None)
    org = getattr(g, "org", None) if user else None
    tender = tenders.visible_tender(tenders.get_tender(tender_id), org)
    sc = price_history.scope(tender, query["lot"], query["position"])
    return price_history.history(tender, bids.viewing_org(user, org, tender), sc)


def chart_context(tender: Tender, org, args) -> dict | None:
    """The price-history section of a page: the chart's data (also as JSON for the script),
    its table, the lots to choose from, and a problem with the choice if any."""
    if tender.status == "draft" or not tender.lots:
        return None
    errors: dict = {}
    lot, position = args.get("history_lot") or None, args.get("history_position") or None
    sc = None
    try:
        query = schemas.PriceHistoryQuery().load(
            {k: v for k, v in (("lot", lot), ("position", position)) if v is not None}
        )
        if query["lot"] is not None or query["position"] is not None:
            sc = price_history.scope(tender, query["lot"], query["position"])
    except ValidationError as exc:
        errors = flatten_messages(exc.messages)
    except DomainError as exc:
        errors = exc.fields or {"_form": [exc.message]}
    if sc is None:
        sc = price_history.default_scope(tender)
    data = price_history.history(tender, org, sc)
    api_url = f"{API_PREFIX}/tenders/{tender.id}/price-history?lot={sc.lot.number}"
    if sc.position is not None:
        api_url += f"&position={sc.position.number}"
    return {
        "data": data,
        "json": json.dumps(_history_out.dump(data), ensure_ascii=False),
        "rows": price_history.table_rows(data),
        "errors": errors,
        "lots": tender.lots,
        "url": api_url,
        "live": tender.status == "published",
    }


@bp.app_template_global("price_history_chart")
def price_history_chart(tender: Tender) -> dict | None:
    """The notice's (and the review's) price-history section for the current viewer."""
    org = bids.viewing_org(current_user, _org(), tender)  # a member sees as its roles allow
    return chart_context(tender, org, request.args)


# -- the customer dashboard ------------------------------------------------------------------


def _dashboard_query(args) -> tuple[dict, dict]:
    query, errors = parse_query(schemas.DashboardQuery(), args)
    first, last = dashboard.period(query["from_"], query["to"])
    return {"from_": first, "to": last}, errors


@bp.get("/cabinet/dashboard")
@login_required
def dashboard_page():
    """The dashboard of the organization the user acts for, over a period."""
    org = dashboard.authorize(current_user, g.org.id if g.org else 0)
    query, errors = _dashboard_query(request.args)
    data = dashboard.dashboard(org, query["from_"], query["to"])
    charts = dashboard_exports.chart_data(data)
    return render_template(
        "reports/dashboard.html",
        data=data,
        charts=json.dumps(charts, ensure_ascii=False),
        errors=errors,
        args={"from": query["from_"].isoformat(), "to": query["to"].isoformat()},
    ), (422 if errors else 200)


def _dashboard_file(make, content_type: str, extension: str) -> Response:
    """The dashboard's numbers as a file (an invalid period: 422 naming it)."""
    org = dashboard.authorize(current_user, g.org.id if g.org else 0)
    query, errors = _dashboard_query(request.args)
    if errors:
        raise _invalid(errors)
    data = dashboard.dashboard(org, query["from_"], query["to"])
    return Response(
        make(data),
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{_filename(data)}.{extension}"'},
    )


@bp.get("/cabinet/dashboard.csv")
@login_required
def dashboard_csv():
    """The dashboard's numbers as CSV (UTF-8 with BOM; formula-safe)."""
    return _dashboard_file(dashboard_exports.dashboard_csv, "text/csv; charset=utf-8", "csv")


@bp.get("/cabinet/dashboard.xlsx")
@login_required
def dashboard_xlsx():
    """The dashboard's numbers as an Excel workbook (formula-safe)."""
    return _dashboard_file(dashboard_exports.dashboard_xlsx, XLSX_CONTENT_TYPE, "xlsx")


def _invalid(errors: dict) -> Invalid:
    return Invalid(_("The request has invalid fields."), errors)


def _filename(data: dict) -> str:
    return f"dashboard-{data['from_'].isoformat()}-{data['to'].isoformat()}"


@route(
    api,
    "/organizations/<int:org_id>/dashboard",
    "GET",
    summary="The customer's dashboard over a period",
    query=schemas.DashboardQuery,
    response=schemas.DashboardOut,
    tag="reports",
)
def api_dashboard(org_id: int, query: dict):
    """Tenders by stage, participants per lot, SME share, savings against maximum prices
    (total and per month), extensions, top categories, for the organization's tenders
    published in the period (dates, both included; the last 12 months by default). Members
    of the organization only."""
    org = dashboard.authorize(actor()[0], org_id)
    first, last = dashboard.period(query["from_"], query["to"])
    return dashboard.dashboard(org, first, last)
