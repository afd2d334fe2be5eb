"""The organization's document vault and the documents attached to bid revisions.

A supplier uploads a file once (charter, registry extract, licence, a technical proposal) and
attaches it to any revision; the revision's signed payload names each file by its SHA-256, so
the signature covers the content. Who may read an attached file: the organization itself, and
the tender's customer once bidding has closed (before that a file could reveal the bidder)."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, select

from accounts.models import Organization, User
from accounts.service import require_member, require_right
from audit.service import record
from bids.models import Bid, BidRevision, BidRevisionDocument, OrganizationDocument
from core import clock
from core.errors import Forbidden, Invalid, NotFound
from core.extensions import db
from core.files import document_type, save_stream
from tenders.models import Tender

MAX_ATTACHED = 50
CUSTOMER_READS_FROM = frozenset({"closed", "results_published", "unsuccessful"})


def _member_org(user: User, org: Organization | None, right: str | None = None) -> Organization:
    """The organization, if the user is its member (with right: holding it)."""
    if org is None:
        raise Forbidden(_("Choose an organization first."))
    if right is None:
        require_member(user, org.id)
    else:
        require_right(user, org.id, right)
    return org


def vault(user: User, org: Organization | None) -> list[OrganizationDocument]:
    """The organization's current documents, newest first."""
    org = _member_org(user, org)
    return list(
        db.session.execute(
            select(OrganizationDocument)
            .where(
                OrganizationDocument.organization_id == org.id,
                OrganizationDocument.archived_at.is_(None),
            )
            .order_by(OrganizationDocument.uploaded_at.desc(), OrganizationDocument.id.desc())
        ).scalars()
    )


def upload(
    user: User, org: Organization | None, filename: str, stream, title: str = ""
) -> OrganizationDocument:
    """Store a file in the organization's vault."""
    org = _member_org(user, org, "sign")  # the vault feeds bids: who prepares them
    title = " ".join((title or "").split())
    if len(title) > 200:
        raise Invalid(_("The title is too long."), {"title": _("At most 200 characters.")})
    name, content_type = document_type(filename)
    sha, size = save_stream(stream, current_app.config["DOCUMENT_MAX_BYTES"])
    document = OrganizationDocument(
        organization_id=org.id,
        title=title or name,
        filename=name,
        content_type=content_type,
        size=size,
        sha256=sha,
        uploaded_by_id=user.id,
    )
    db.session.add(document)
    db.session.flush()
    record(
        "organization.document_added",
        "organization",
        org.id,
        {"document": document.id, "filename": name, "sha256": sha, "size": size},
        actor_user_id=user.id,
        actor_org_id=org.id,
    )
    return document


def archive(user: User, org: Organization | None, document_id: int) -> OrganizationDocument:
    """Hide a document from the vault; revisions that signed it keep it."""
    org = _member_org(user, org, "sign")  # the vault feeds bids: who prepares them
    document = db.session.get(OrganizationDocument, document_id)
    if document is None or document.organization_id != org.id or document.archived_at:
        raise NotFound(_("No such document in your vault."))
    document.archived_at = clock.now()
    record(
        "organization.document_archived",
        "organization",
        org.id,
        {"document": document.id},
        actor_user_id=user.id,
        actor_org_id=org.id,
    )
    return document


def to_attach(org: Organization, document_ids: list[int]) -> list[OrganizationDocument]:
    """The vault documents an offer names, in the given order, or Invalid naming the bad ids."""
    ids = list(dict.fromkeys(document_ids))
    if len(ids) > MAX_ATTACHED:
        raise Invalid(
            _("Too many documents."),
            {"documents": _("At most %(max)s per revision.", max=MAX_ATTACHED)},
        )
    if not ids:
        return []
    found = {
        d.id: d
        for d in db.session.execute(
            select(OrganizationDocument).where(
                OrganizationDocument.id.in_(ids),
                OrganizationDocument.organization_id == org.id,
                OrganizationDocument.archived_at.is_(None),
            )
        ).scalars()
    }
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise Invalid(
            _("Some documents are not in your vault; nothing was stored."),
            {"documents": _("Unknown or archived document(s): %(ids)s.", ids=", ".join(missing))},
        )
    return [found[i] for i in ids]


def payload_entries(documents: list[OrganizationDocument]) -> list[dict]:
    """The documents as the signed payload names them."""
    return [{"name": d.filename, "sha256": d.sha256} for d in documents]


def attach(revision: BidRevision, documents: list[OrganizationDocument]) -> None:
    """Record the documents a revision was signed with."""
    if documents:
        db.session.execute(
            BidRevisionDocument.__table__.insert(),
            [
                {
                    "revision_id": revision.id,
                    "document_id": d.id,
                    "name": d.filename,
                    "sha256": d.sha256,
                }
                for d in documents
            ],
        )


def of_revisions(revision_ids: list[int]) -> dict[int, list[BidRevisionDocument]]:
    """The attached documents of several revisions, by revision id."""
    result: dict[int, list[BidRevisionDocument]] = {rid: [] for rid in revision_ids}
    if revision_ids:
        rows = db.session.execute(
            select(BidRevisionDocument)
            .where(BidRevisionDocument.revision_id.in_(revision_ids))
            .order_by(BidRevisionDocument.name)
        ).scalars()
        for row in rows:
            result[row.revision_id].append(row)
    return result


def for_download(
    user: User | None, org: Organization | None, document_id: int
) -> OrganizationDocument:
    """A document the caller may read: its own organization's, or one attached to a bid on
    the caller's tender once bidding has closed. Anything else is 'not found' (no hint that
    the file exists)."""
    document = db.session.get(OrganizationDocument, document_id)
    if document is None or user is None or org is None:
        raise NotFound(_("No such document."))
    member = require_member(user, org.id)
    if document.organization_id == org.id:
        return document
    found = (
        exists()
        .where(BidRevisionDocument.document_id == document.id)
        .where(BidRevision.id == BidRevisionDocument.revision_id)
        .where(Bid.id == BidRevision.bid_id)
        .where(Tender.id == Bid.tender_id)
        .where(Tender.customer_id == org.id, Tender.status.in_(CUSTOMER_READS_FROM))
    )
    if not member.may("see_all"):  # a specialist: the tenders in its charge only
        found = found.where((Tender.responsible_id == user.id) | (Tender.created_by_id == user.id))
    customer_may_read = db.session.execute(select(found)).scalar()
    if not customer_may_read:
        raise NotFound(_("No such document."))
    return document
