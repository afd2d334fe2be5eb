"""CSV bids: template download, upload -> preview -> sign -> submit.

A valid upload is kept (bid_csv_uploads) until it is signed; the revision itself is made by
bids.service.prepare/submit, exactly as for the bid form (same validation, signature,
auto-extension and live pushes). An invalid file stores nothing and answers with every
problem. Services flush; the entrypoint commits once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import NamedTuple

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, select

from accounts.models import Organization, User
from accounts.service import require_right
from audit.service import record
from bids import csv_bids, rules, xlsx_bids
from bids import service as bids
from bids.accepting import AcceptedRevision
from bids.csv_models import BidCsvUpload
from bids.models import (
    Bid,
    BidCriterionValue,
    BidLine,
    BidRevision,
    BidRevisionDocument,
    OrganizationDocument,
)
from core import clock
from core.api import translate
from core.chains import tender_chain
from core.collector import collector_paused
from core.errors import Invalid, NotFound
from core.extensions import db
from positions.models import Position
from tenders.models import Lot, Tender
from tenders.schemas import unit_short

ENCODINGS = {"utf-8": "utf-8-sig", "windows-1251": "cp1251"}
DELIMITERS = {"semicolon": ";", "comma": ",", "tab": "\t"}
DELIMITER_NAMES = {v: k for k, v in DELIMITERS.items()}


class CsvInvalid(Invalid):
    """A bid file with problems: every one of them, each with its line and column."""

    def __init__(self, problems: list[csv_bids.Problem], rows: int):
        count = len(problems)
        super().__init__(
            ngettext(
                "The file has %(num)d problem in %(rows)s rows; nothing was stored. "
                "Correct the file and upload it again.",
                "The file has %(num)d problems in %(rows)s rows; nothing was stored. "
                "Correct the file and upload it again.",
                count,
                rows=rows,
            ),
            {"file": ngettext("%(num)d problem", "%(num)d problems", count)},
        )
        self.problems = problems
        self.rows = rows


# -- the tender as the CSV sees it ------------------------------------------------------------


def _tender(tender_id: int) -> Tender:
    tender = db.session.get(Tender, tender_id)
    if tender is None or tender.status == "draft":
        raise NotFound(_("No such tender."))
    return tender


def _open(tender: Tender) -> None:
    bids.check_open(tender, clock.now())


def sheet_of(tender: Tender) -> csv_bids.TenderSheet:
    """The tender's positions (in the order of the notice) and lots' award modes."""
    lots = db.session.execute(
        select(Lot.id, Lot.number, Lot.award_mode).where(Lot.tender_id == tender.id)
    ).all()
    lot_numbers = {lot.id: lot.number for lot in lots}
    rows = db.session.execute(
        select(
            Position.number,
            Position.lot_id,
            Position.name,
            Position.unit_code,
            Position.quantity,
            Position.max_unit_price,
        )
        .where(Position.tender_id == tender.id)
        .order_by(Position.lot_id, Position.sort_key)
    ).all()
    units: dict[str, str] = {}
    positions = tuple(
        csv_bids.SheetPosition(
            r.number,
            lot_numbers[r.lot_id],
            r.name,
            units.get(r.unit_code) or units.setdefault(r.unit_code, unit_short(r.unit_code)),
            r.quantity,
            r.max_unit_price,
        )
        for r in sorted(rows, key=lambda r: lot_numbers[r.lot_id])
    )
    return csv_bids.TenderSheet(
        tender.number,
        positions,
        {lot.number: lot.award_mode for lot in lots},
        bids.CURRENCY_PLACES,
    )


def _latest_revision(bid: Bid | None) -> BidRevision | None:
    if bid is None or bid.status != "active" or not bid.revision_count:
        return None
    return db.session.execute(
        select(BidRevision).where(
            BidRevision.bid_id == bid.id, BidRevision.number == bid.revision_count
        )
    ).scalar_one()


def current_lines(bid: Bid | None) -> dict[str, csv_bids.CurrentLine]:
    """The lines of the bid's current revision (none for no bid or a withdrawn one)."""
    latest = _latest_revision(bid)
    if latest is None:
        return {}
    return _lines_of_revision(latest)


def _lines_of_revision(latest: BidRevision) -> dict[str, csv_bids.CurrentLine]:
    rows = db.session.execute(
        select(BidLine.position_number, BidLine.unit_price, BidLine.total, BidLine.note).where(
            BidLine.revision_id == latest.id
        )
    ).all()
    return {r[0]: csv_bids.CurrentLine(r[1], r[2], r[3]) for r in rows}


# -- template ---------------------------------------------------------------------------------


def template(
    user: User,
    org: Organization | None,
    tender_id: int,
    *,
    variant: str = "unit",
    lot: int | None = None,
    encoding: str = "utf-8",
    delimiter: str = "semicolon",
    language: str = "ru",
    file_format: str = "csv",
) -> tuple[bytes, str]:
    """The bid template (bytes, file name), pre-filled with the supplier's current prices:
    a CSV file, or with ``file_format="xlsx"`` an Excel workbook (bids.xlsx_bids)."""
    tender = _tender(tender_id)
    bids.check_bidder(user, org, tender)
    sheet = sheet_of(tender)
    if lot is not None and not any(p.lot == lot for p in sheet.positions):
        raise NotFound(
            _("Tender %(number)s has no lot %(lot)s with positions.", number=tender.number, lot=lot)
        )
    if file_format == "xlsx":
        current = current_lines(bids.own_bid(org, tender.id))
        data = xlsx_bids.template(sheet, variant, lot=lot, current=current, language=language)
        return data, csv_bids.template_filename(tender.number, variant, lot, "xlsx")
    try:
        data = csv_bids.template(
            sheet,
            variant,
            lot=lot,
            current=current_lines(bids.own_bid(org, tender.id)),
            encoding=ENCODINGS[encoding],
            delimiter=DELIMITERS[delimiter],
            language=language,
        )
    except csv_bids.CsvRefused as exc:  # a name windows-1251 cannot hold
        message = translate(exc.args[0])
        raise Invalid(message, {"encoding": message}) from None
    return data, csv_bids.template_filename(tender.number, variant, lot)


# -- upload -----------------------------------------------------------------------------------


def upload(
    user: User,
    org: Organization | None,
    tender_id: int,
    data: bytes,
    *,
    filename: str = "",
    encoding: str | None = None,
) -> BidCsvUpload:
    """Check a bid file; keep it for signing if it is valid, else raise CsvInvalid."""
    tender = _tender(tender_id)
    bids.check_bidder(user, org, tender)
    _open(tender)
    with collector_paused():  # 50,000 positions and lines: see core.collector
        return _check_and_keep(user, org, tender, data, filename, encoding)


def _check_and_keep(
    user: User,
    org: Organization,
    tender: Tender,
    data: bytes,
    filename: str,
    encoding: str | None,
) -> BidCsvUpload:
    cfg = current_app.config
    bid = bids.own_bid(org, tender.id)
    sheet = sheet_of(tender)
    try:
        parsed = csv_bids.parse_bid(
            data,
            sheet,
            current=current_lines(bid),
            max_bytes=cfg["CSV_MAX_BYTES"],
            max_rows=cfg["CSV_MAX_ROWS"],
            encoding=ENCODINGS.get(encoding) if encoding else None,
            max_unzipped=cfg.get("XLSX_MAX_UNZIPPED_BYTES", 100 * 1024 * 1024),
        )
    except csv_bids.CsvRefused as exc:
        message = translate(exc.args[0])
        raise Invalid(message, {"file": message}) from None
    if parsed.problems:
        raise CsvInvalid(parsed.problems, parsed.rows)
    _forget_old(org, tender)
    lot_of = sheet.by_number
    lines = [[n, str(p.unit_price), p.note, lot_of[n].lot] for n, p in parsed.lines.items()]
    stored = {"lines": lines, "cleared": parsed.cleared, "lots": parsed.covered_lots}
    kept = BidCsvUpload(
        tender_id=tender.id,
        organization_id=org.id,
        uploaded_by_id=user.id,
        uploaded_at=clock.now(),
        filename=(filename or "")[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        variant=parsed.variant,
        encoding=parsed.encoding,
        delimiter=parsed.delimiter,
        rows=parsed.rows,
        positions=len(lines),
        total=parsed.total(sheet),
        base_revision=bid.revision_count if bid is not None else 0,
        lines=json.dumps(stored, ensure_ascii=False, separators=(",", ":")),
    )
    db.session.add(kept)
    db.session.flush()
    return kept


def _forget_old(org: Organization, tender: Tender) -> None:
    """One pending upload per organization and tender; expired ones of anybody go too."""
    ttl = dt.timedelta(hours=current_app.config.get("CSV_UPLOAD_TTL_HOURS", 24))
    db.session.execute(
        delete(BidCsvUpload).where(
            (BidCsvUpload.uploaded_at < clock.now() - ttl)
            | ((BidCsvUpload.tender_id == tender.id) & (BidCsvUpload.organization_id == org.id))
        )
    )


def get_upload(
    user: User, org: Organization | None, tender_id: int, upload_id: int
) -> tuple[Tender, BidCsvUpload]:
    """An upload of the caller's organization (anyone else: not found)."""
    if org is None:
        raise NotFound(_("No such upload."))
    require_right(user, org.id, "sign")
    kept = db.session.get(BidCsvUpload, upload_id)
    if kept is None or kept.tender_id != tender_id or kept.organization_id != org.id:
        raise NotFound(_("No such upload: it was submitted, replaced by a newer one or expired."))
    ttl = dt.timedelta(hours=current_app.config.get("CSV_UPLOAD_TTL_HOURS", 24))
    if kept.uploaded_at < clock.now() - ttl:
        raise NotFound(_("This upload has expired: upload the file again."))
    return _tender(tender_id), kept


class _File(NamedTuple):
    """What an upload holds: its priced lines, the positions it clears (an empty price
    cell) and the lots it covers; ``cleared`` None: the file is the whole offer (an upload
    kept before files were merged with the current revision)."""

    lines: list[list]  # [position, unit_price, note, lot]
    cleared: frozenset[str] | None
    lots: list[int]


def _file_of(kept: BidCsvUpload) -> _File:
    stored = json.loads(kept.lines)
    if isinstance(stored, list):
        return _File(stored, None, sorted({entry[3] for entry in stored}))
    return _File(stored["lines"], frozenset(stored["cleared"]), stored["lots"])


def merged_offer(
    sheet: csv_bids.TenderSheet, file: _File, current: dict[str, csv_bids.CurrentLine]
) -> dict[str, tuple[Decimal, str]]:
    """The full offer the upload makes against the current revision (csv_bids.merge): the
    file's lots change, the others stay as they are."""
    priced = {n: (Decimal(price), note) for n, price, note, _lot in file.lines}
    if file.cleared is None:
        return priced
    return csv_bids.merge(sheet, priced, file.cleared, current)


# -- preview ----------------------------------------------------------------------------------


def preview(
    user: User,
    org: Organization | None,
    tender_id: int,
    upload_id: int,
    *,
    page: int = 1,
    per_page: int = 100,
    only: str = "all",
) -> dict:
    """Summary (positions priced, total, changes against the current revision) and one page
    of lines; ``only="changes"`` keeps new, changed and dropped positions."""
    tender, kept = get_upload(user, org, tender_id, upload_id)
    with collector_paused():
        return _preview(tender, org, kept, page, per_page, only)


def _preview(
    tender: Tender, org: Organization, kept: BidCsvUpload, page: int, per_page: int, only: str
) -> dict:
    bid = bids.own_bid(org, tender.id)
    sheet = sheet_of(tender)
    current = current_lines(bid)
    file = _file_of(kept)
    offered = merged_offer(sheet, file, current)
    in_file = {entry[0] for entry in file.lines} | (file.cleared or set())
    rows, counts = _compare(sheet, offered, current, in_file if file.cleared is not None else None)
    if only == "changes":
        rows = [r for r in rows if r["change"] not in ("same", "kept")]
    offer_lots = sorted({sheet.by_number[n].lot for n in offered})
    current_lots = {sheet.by_number[n].lot for n in current if n in sheet.by_number}
    start = (page - 1) * per_page
    previous = rules.Offer({n: rules.Line(c.unit_price, c.note) for n, c in current.items()})
    new = rules.Offer({n: rules.Line(price, note) for n, (price, note) in offered.items()})
    return {
        "upload": kept,
        "tender_id": tender.id,
        "tender_number": tender.number,
        "expires_at": kept.uploaded_at
        + dt.timedelta(hours=current_app.config.get("CSV_UPLOAD_TTL_HOURS", 24)),
        "delimiter_name": DELIMITER_NAMES.get(kept.delimiter, kept.delimiter),
        "revision": (bid.revision_count if bid else 0) + 1,
        "current_revision": _latest_revision(bid).number if current else None,
        "current_total": sum((c.total for c in current.values()), Decimal(0)),
        "changes_prices": rules.is_triggering(previous if current else None, new),
        "counts": counts,
        "lots": offer_lots,
        "covered_lots": file.lots,
        "kept_lots": sorted(current_lots - set(file.lots)),
        "offer_positions": len(offered),
        "offer_total": sum(
            (
                csv_bids.line_total(price, sheet.by_number[n].quantity, sheet.currency_places)
                for n, (price, _note) in offered.items()
            ),
            Decimal(0),
        ),
        "lines": rows[start : start + per_page],
        "matching": len(rows),
        "page": page,
        "per_page": per_page,
        "stale": kept.base_revision != (bid.revision_count if bid else 0),
    }


def _compare(
    sheet: csv_bids.TenderSheet,
    offered: dict[str, tuple[Decimal, str]],
    current: dict[str, csv_bids.CurrentLine],
    in_file: set[str] | None,
) -> tuple[list[dict], dict[str, int]]:
    """Each position of the offer or of the current revision with its change; "kept": not
    in the file, its current price stays (``in_file`` None: every position is)."""
    counts = dict.fromkeys(("new", "up", "down", "note", "same", "dropped", "kept"), 0)
    rows = []
    places = sheet.currency_places
    for p in sheet.positions:
        mine, before = offered.get(p.number), current.get(p.number)
        if mine is None and before is None:
            continue
        if in_file is not None and p.number not in in_file:
            change = "kept"
        elif mine is None:
            change = "dropped"
        elif before is None:
            change = "new"
        elif mine[0] != before.unit_price:
            change = "up" if mine[0] > before.unit_price else "down"
        else:
            change = "note" if mine[1] != before.note else "same"
        counts[change] += 1
        rows.append(
            {
                "position": p.number,
                "lot": p.lot,
                "name": p.name,
                "unit": p.unit,
                "quantity": p.quantity,
                "max_unit_price": p.max_unit_price,
                "unit_price": mine[0] if mine else None,
                "total": csv_bids.line_total(mine[0], p.quantity, places) if mine else None,
                "note": mine[1] if mine else "",
                "current_unit_price": before.unit_price if before else None,
                "change": change,
            }
        )
    return rows, counts


# -- signing and submitting -------------------------------------------------------------------


def offer_data(
    org: Organization,
    tender: Tender,
    file: _File,
    criteria: list[dict] | None,
    documents: list[int] | None = None,
) -> dict:
    """The offer as bids.service takes it: the file merged with the current revision (the
    lots the file covers change, the others stay); criterion values and attached documents
    as given, or else those of the current revision (criteria of the lots the offer bids
    on, documents still in the vault)."""
    latest = _latest_revision(bids.own_bid(org, tender.id))
    if latest is None or file.cleared is None:  # nothing to merge with: the file's lines
        offered = {n: (Decimal(price), note) for n, price, note, _lot in file.lines}
        bid_lots = {entry[3] for entry in file.lines}
    else:
        sheet = sheet_of(tender)
        offered = merged_offer(sheet, file, _lines_of_revision(latest))
        bid_lots = {sheet.by_number[n].lot for n in offered}
    lines = [
        {"position": n, "unit_price": price, "note": note} for n, (price, note) in offered.items()
    ]
    if criteria is None:
        criteria = [c for c in _current_criteria(latest) if c["lot"] in bid_lots]
    if documents is None:
        documents = _current_documents(latest)
    return {"lines": lines, "criteria": criteria, "documents": documents}


def _current_criteria(latest: BidRevision | None) -> list[dict]:
    """The criterion values of a revision as the offer takes them (booleans as booleans)."""
    if latest is None:
        return []
    rows = db.session.execute(
        select(
            BidCriterionValue.lot_number, BidCriterionValue.criterion_id, BidCriterionValue.value
        ).where(BidCriterionValue.revision_id == latest.id)
    )
    booleans = {"true": True, "false": False}
    return [
        {"lot": lot, "criterion": criterion, "value": booleans.get(value, value)}
        for lot, criterion, value in rows
        if value not in (None, "")
    ]


def _current_documents(latest: BidRevision | None) -> list[int]:
    if latest is None:
        return []
    return list(
        db.session.execute(
            select(BidRevisionDocument.document_id)
            .join(OrganizationDocument, OrganizationDocument.id == BidRevisionDocument.document_id)
            .where(
                BidRevisionDocument.revision_id == latest.id,
                OrganizationDocument.archived_at.is_(None),
            )
        ).scalars()
    )


def prepare(
    user: User,
    org: Organization | None,
    tender_id: int,
    upload_id: int,
    criteria: list[dict] | None = None,
    documents: list[int] | None = None,
) -> dict:
    """The payload to sign for an upload (bids.service.prepare: the form's own checks)."""
    tender, kept = get_upload(user, org, tender_id, upload_id)
    with collector_paused():
        file = _file_of(kept)
        data = offer_data(org, tender, file, criteria, documents)
        return bids.prepare(user, org, tender.id, data)


def submit(
    user: User,
    org: Organization | None,
    tender_id: int,
    upload_id: int,
    key_id: int,
    signature: str,
    criteria: list[dict] | None = None,
    documents: list[int] | None = None,
) -> AcceptedRevision:
    """Submit the signed upload as a revision (bids.service.submit), then forget the upload;
    the tender's audit chain records which file the revision came from."""
    tender, kept = get_upload(user, org, tender_id, upload_id)
    with collector_paused():
        file = _file_of(kept)
        data = offer_data(org, tender, file, criteria, documents)
        # The file's audit event goes in the revision's own transaction: the locked path.
        revision = bids.submit(user, org, tender.id, data, key_id, signature, one_call=False)
    record(
        "bid.csv_submitted",
        "bid",
        revision.bid_id,
        {
            "revision": revision.number,
            "file": kept.filename,
            "sha256": kept.sha256,
            "size": kept.size,
            "variant": kept.variant,
            "encoding": kept.encoding,
            "rows": kept.rows,
            "positions": kept.positions,
            "lots": file.lots,
        },
        actor_user_id=user.id,
        actor_org_id=org.id,
        chain=tender_chain(tender.id),
    )
    db.session.delete(kept)
    db.session.flush()
    return revision
