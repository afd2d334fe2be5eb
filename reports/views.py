"""Downloads: the signed results protocol and its detached signature, bid receipts, and the
OCDS export (pages and the JSON API)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, g, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import Schema, fields
from sqlalchemy import select

from core.api import API_PREFIX, actor, route
from core.errors import NotFound
from core.extensions import db
from core.files import send_document
from reports import ocds, service
from reports.models import SignedDocument
from tenders import service as tenders
from tenders.models import Tender

bp = Blueprint("reports", __name__)
api = Blueprint("reports_api", __name__, url_prefix=API_PREFIX)


def _org():
    return g.org if current_user.is_authenticated else None


def _protocol(tender: Tender, version: str | None = None) -> SignedDocument:
    """The newest protocol, or the one numbered `version` (earlier results stay readable)."""
    if version is None:
        doc = service.latest_protocol(tender)
    else:
        doc = (
            db.session.execute(
                select(SignedDocument).where(
                    SignedDocument.tender_id == tender.id,
                    SignedDocument.kind == service.PROTOCOL,
                    SignedDocument.version == int(version),
                )
            ).scalar_one_or_none()
            if version.isdigit() and len(version) < 6
            else None
        )
    if doc is None:
        raise NotFound(_("There is no results protocol for this tender yet."))
    return doc


@bp.get("/tenders/<number>/protocol.pdf")
def protocol_pdf(number: str):
    """The results protocol (public once results are published), signed by the platform."""
    tender = tenders.visible_tender(tenders.by_number(number), _org())
    doc = _protocol(tender, request.args.get("version"))
    return send_document(
        doc.sha256,
        f"tender {tender.number} results protocol {doc.filename}",
        mimetype="application/pdf",
        as_attachment=True,
        download_name=doc.filename,
        max_age=300,
    )


@bp.get("/tenders/<number>/protocol.pdf.sig")
def protocol_signature(number: str):
    """The detached signature of the protocol: the signed object binding its SHA-256."""
    tender = tenders.visible_tender(tenders.by_number(number), _org())
    doc = _protocol(tender, request.args.get("version"))
    body = json.dumps(service.protocol_signature(doc, tender), ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{doc.filename}.sig"'},
    )


@bp.get("/tenders/<number>/bid/revisions/<int:revision>/receipt.pdf")
@login_required
def receipt_pdf(number: str, revision: int):
    """The receipt of one revision of the organization's own bid."""
    tender = tenders.visible_tender(tenders.by_number(number), g.org)
    content, filename = service.receipt_pdf(current_user, g.org, tender, revision)
    return _pdf(content, filename)


def _pdf(content: bytes, filename: str) -> Response:
    resp = Response(content, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


# -- API -------------------------------------------------------------------------------------


def _public_tender(tender_id: int) -> Tender:
    org = getattr(g, "org", None) if getattr(g, "api_user", None) else None
    tender = tenders.visible_tender(tenders.get_tender(tender_id), org)
    if tender.status == "draft":  # a draft is not public data, even for its customer
        raise NotFound(_("The tender is not published."))
    return tender


class ReleasePackageOut(Schema):
    """An OCDS 1.1 release package (lots and bid extensions); see the OCDS documentation."""

    uri = fields.String()
    version = fields.String()
    extensions = fields.List(fields.String())
    publishedDate = fields.String()  # noqa: N815  (OCDS field name)
    publisher = fields.Dict()
    releases = fields.List(fields.Dict())


class ProtocolOut(Schema):
    version = fields.Integer()
    filename = fields.String()
    sha256 = fields.String()
    size = fields.Integer()
    created_at = fields.DateTime()
    url = fields.String()
    signature_url = fields.String()
    payload = fields.Dict()
    signature = fields.String()
    key_fingerprint = fields.String()


@route(
    api,
    "/tenders/<int:tender_id>/ocds",
    "GET",
    summary="OCDS release package",
    response=ReleasePackageOut,
    auth="optional",
    tag="results",
)
def api_ocds(tender_id: int):
    """The tender as an OCDS 1.1 release package with the lots and bid extensions. Public and
    the same for every caller: while bidding is open only the number of bidders; after the
    deadline each bid's status (pending / withdrawn) without prices or names; once results
    are published bids with values, tenderers and status (valid / disqualified / withdrawn),
    and one award per position (per-position lots) or per lot (whole lots). Amounts are
    exact JSON numbers."""
    tender = _public_tender(tender_id)
    body = ocds.dumps(service.ocds_package(tender))
    return Response(body, mimetype="application/json")


@route(
    api,
    "/tenders/<int:tender_id>/protocol",
    "GET",
    summary="The signed results protocol",
    response=ProtocolOut,
    auth="optional",
    tag="results",
)
def api_protocol(tender_id: int):
    """Where the PDF and its detached signature are, its SHA-256 and the signed object."""
    tender = _public_tender(tender_id)
    doc = _protocol(tender)
    return {
        "version": doc.version,
        "filename": doc.filename,
        "sha256": doc.sha256,
        "size": doc.size,
        "created_at": doc.created_at,
        "url": f"/tenders/{tender.number}/protocol.pdf?version={doc.version}",
        "signature_url": f"/tenders/{tender.number}/protocol.pdf.sig?version={doc.version}",
        "payload": doc.signed_payload,
        "signature": doc.signature,
        "key_fingerprint": doc.key_fingerprint,
    }


@route(
    api,
    "/tenders/<int:tender_id>/bid/revisions/<int:revision>/receipt.pdf",
    "GET",
    summary="A bid revision's receipt as PDF",
    tag="bids",
)
def api_receipt_pdf(tender_id: int, revision: int):
    """Only for the bidding organization (anyone else: 404, it has no such bid)."""
    user, org = actor()
    tender = tenders.get_tender(tender_id)
    content, filename = service.receipt_pdf(user, org, tender, revision)
    return _pdf(content, filename)


@bp.app_context_processor
def _templates():
    """`results_protocol(tender)` for the notice and the cabinet: the newest protocol or None."""

    def results_protocol(tender):
        if tender is None or tender.status != "results_published":
            return None
        return service.latest_protocol(tender)

    return {"results_protocol": results_protocol}
