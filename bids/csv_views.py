"""CSV bids: the API (template, upload, preview, prepare, submit) and the upload page.

The revision is made by bids.service through bids.csv_service, so a CSV revision is
validated, signed, extended and pushed live exactly like one from the bid form."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from bids import csv_schemas, csv_service, schemas, service
from core import clock
from core.api import API_PREFIX, actor, error_body, route, translate
from core.errors import Invalid
from core.extensions import db
from core.transaction import commit
from positions.xlsx_rules import CONTENT_TYPE as XLSX_CONTENT_TYPE
from signatures import service as signatures_service
from tenders import service as tenders

api = Blueprint("bids_csv_api", __name__, url_prefix=API_PREFIX)

_CONTENT_TYPES = {
    "utf-8": "text/csv; charset=utf-8",
    "windows-1251": "text/csv; charset=windows-1251",
}


@route(
    api,
    "/tenders/<int:tender_id>/bid/csv/template",
    "GET",
    summary="Download the CSV bid template",
    query=csv_schemas.CsvTemplateQuery,
    tag="bids",
)
def api_template(tender_id: int, query: dict):
    """A text/csv file: one row per position (of one lot with `lot`), the unit-price or
    total-price column to fill, pre-filled with your current prices. UTF-8 with BOM and
    `;` by default (what Russian Excel opens); `encoding=windows-1251` on request.
    `format=xlsx`: the same as an Excel workbook (header frozen, only the price and note
    columns editable, the price validated, an instructions sheet)."""
    data, filename = csv_service.template(
        *actor(),
        tender_id,
        variant=query["variant"],
        lot=query["lot"],
        encoding=query["encoding"],
        delimiter=query["delimiter"],
        language=query["lang"],
        file_format=query["format"],
    )
    if query["format"] == "xlsx":
        content_type = XLSX_CONTENT_TYPE
    else:
        content_type = _CONTENT_TYPES[query["encoding"]]
    response = Response(data, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"  # it holds the supplier's own prices
    return response


def _upload_bytes() -> bytes:
    """The file: the raw body (text/csv) or the `file` part of a multipart form; a file over
    the limit is refused before it is read."""
    limit = current_app.config["CSV_MAX_BYTES"]
    too_large = _(
        "The file is larger than the limit of %(mb)s MB (%(bytes)s bytes); "
        "upload the prices of one lot at a time.",
        mb=limit // (1024 * 1024),
        bytes=limit,
    )
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        raise Invalid(too_large, {"file": too_large})
    if request.mimetype == "multipart/form-data":
        part = request.files.get("file")
        if part is None:
            raise Invalid(
                _("Send the CSV file as the body or as the 'file' field."), {"file": _("Missing.")}
            )
        data = part.read(limit + 1)
    else:
        data = request.get_data(cache=False)
    if len(data) > limit:
        raise Invalid(too_large, {"file": too_large})
    if not data:
        raise Invalid(_("The file is empty."), {"file": _("The file is empty.")})
    return data


def _problems_response(exc: csv_service.CsvInvalid) -> Response:
    body = error_body(exc.code, exc.message, exc.fields)
    body["rows"] = exc.rows
    problems = csv_schemas.CsvProblemOut(many=True).dump(exc.problems)
    for problem, out in zip(exc.problems, problems):  # the reader's language
        out["message"] = translate(problem.message)
    body["problems"] = problems
    response = jsonify(body)
    response.status_code = 422
    return response


@route(
    api,
    "/tenders/<int:tender_id>/bid/csv",
    "POST",
    summary="Upload a CSV bid (the file is the request body)",
    query=csv_schemas.CsvUploadQuery,
    response=csv_schemas.CsvUploadOut,
    status=201,
    tag="bids",
    errors=("bidding_closed", "tender_not_open"),
)
def api_upload(tender_id: int, query: dict):
    """Checks the whole file; nothing is stored unless it is entirely valid. A refused file
    answers 422 with `problems`: every problem with its `line` (the row a spreadsheet shows;
    the header is row 1), `column` and `message`. A valid file is kept for signing: see its
    preview, then .../prepare and .../submit. Encodings UTF-8 (BOM or not) and Windows-1251
    are detected; `encoding` overrides. A newer upload replaces an older one not yet
    submitted. The file changes only the positions it holds (a file of one lot leaves the
    other lots of your bid as they are); an empty price cell drops that position."""
    data = _upload_bytes()
    filename = query["filename"] or getattr(request.files.get("file"), "filename", "") or ""
    try:
        kept = csv_service.upload(
            *actor(), tender_id, data, filename=filename, encoding=query["encoding"]
        )
    except csv_service.CsvInvalid as exc:
        return _problems_response(exc)
    commit()
    return kept


@route(
    api,
    "/tenders/<int:tender_id>/bid/csv/<int:upload_id>",
    "GET",
    summary="Preview an uploaded CSV bid",
    query=csv_schemas.CsvPreviewQuery,
    response=csv_schemas.CsvPreviewOut,
    tag="bids",
)
def api_preview(tender_id: int, upload_id: int, query: dict):
    """Positions priced, total, what changes against the current revision (new, up, down,
    dropped positions), and one page of lines (`only=changes`: the changed ones). A file
    changes only the positions it holds: `covered_lots` are the lots with rows in it,
    `kept_lots` the lots of the current revision it leaves as they are (their lines come
    as `kept`); `offer_positions` and `offer_total` describe the full offer to sign."""
    return csv_service.preview(
        *actor(),
        tender_id,
        upload_id,
        page=query["page"],
        per_page=query["per_page"],
        only=query["only"],
    )


@route(
    api,
    "/tenders/<int:tender_id>/bid/csv/<int:upload_id>",
    "DELETE",
    summary="Discard an uploaded CSV bid",
    status=204,
    tag="bids",
)
def api_discard(tender_id: int, upload_id: int):
    """Forget an upload that will not be submitted."""
    _tender, kept = csv_service.get_upload(*actor(), tender_id, upload_id)
    db.session.delete(kept)
    commit()


@route(
    api,
    "/tenders/<int:tender_id>/bid/csv/<int:upload_id>/prepare",
    "POST",
    summary="The payload to sign for an uploaded CSV bid",
    body=csv_schemas.CsvOfferIn,
    response=schemas.PreparedOut,
    tag="bids",
    errors=("bidding_closed", "tender_not_open"),
)
def api_prepare(tender_id: int, upload_id: int, body: dict):
    """The same checks and payload as /bid/prepare, with the file's lines."""
    return csv_service.prepare(*actor(), tender_id, upload_id, body["criteria"], body["documents"])


@route(
    api,
    "/tenders/<int:tender_id>/bid/csv/<int:upload_id>/submit",
    "POST",
    summary="Submit a signed CSV bid as a new revision",
    body=csv_schemas.CsvSignedIn,
    response=schemas.AcceptedOut,
    status=201,
    tag="bids",
    errors=("bidding_closed", "tender_not_open", "bid_changed", "approval_required"),
)
def api_submit(tender_id: int, upload_id: int, body: dict):
    """The same operation as /bid/revisions: signature checked, deadline rule applied
    (the 30-minute extension), revision stored, live updates pushed; the upload is then
    forgotten. Send the criteria/documents given to .../prepare, if any."""
    user, org = actor()
    revision = csv_service.submit(
        user,
        org,
        tender_id,
        upload_id,
        body["key_id"],
        body["signature"],
        body["criteria"],
        body["documents"],
    )
    commit()
    return revision  # with its receipt and the deadline in force (bids.service.submit)


# -- the page -----------------------------------------------------------------------------------

bp = Blueprint("bids_csv", __name__)


@bp.get("/tenders/<number>/bid/csv")
@login_required
def page(number: str):
    """Upload a CSV bid: templates, upload with progress, preview (errors or summary and
    changes, paged), criteria, signing in the browser and submitting."""
    tender = tenders.visible_tender(tenders.by_number(number), g.org)
    service.check_bidder(current_user, g.org, tender)
    bid, revisions = service.my_bid(current_user, g.org, tender.id)
    cfg = current_app.config
    return render_template(
        "bids/csv.html",
        tender=tender,
        lots=tender.lots,
        bid=bid,
        revision_count=len(revisions),
        current=service.current_offer(tender, bid),
        keys=[k for k in signatures_service.user_keys(current_user) if k.revoked_at is None],
        server_now=clock.now(),
        closed_notice=service.closed_notice(tender, clock.now()),
        max_bytes=cfg["CSV_MAX_BYTES"],
        max_rows=cfg["CSV_MAX_ROWS"],
    )
