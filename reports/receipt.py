"""The bid receipt PDF: what one accepted revision offered and the signatures that bind it.
No database: the service gathers the data and renders it in the tender's language."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from reportlab.lib.units import mm

from core import formats
from reports import pdf
from signatures import cades


@dataclass(frozen=True)
class ReceiptLine:
    lot_number: int
    position: str
    name: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    total: Decimal
    note: str = ""


@dataclass(frozen=True)
class ReceiptCriterion:
    lot_number: int
    name: str
    value: str
    unit: str = ""


@dataclass(frozen=True)
class ReceiptData:
    tender_number: str
    tender_title: str
    customer_name: str
    supplier_name: str
    supplier_inn: str
    currency: str
    timezone: str
    revision: int
    accepted_at: dt.datetime
    revision_hash: str
    previous_hash: str | None
    deadline_after: dt.datetime
    extended: bool
    total: Decimal
    lines: tuple[ReceiptLine, ...]
    criteria: tuple[ReceiptCriterion, ...]
    signer_email: str
    key_algorithm: str
    key_fingerprint: str
    supplier_signature: str
    receipt_payload: dict
    receipt_signature: str
    platform_fingerprint: str
    # Who signed and with which kind of signature (signatures.service.signature_line), and a
    # qualified signer's certificate: INN, OGRN/OGRNIP, issuer, serial (issue 24).
    signature_kind: str = ""
    qualified_signer: dict | None = None


def lot_totals(lines: tuple[ReceiptLine, ...]) -> dict[int, Decimal]:
    """The offered total per lot."""
    totals: dict[int, Decimal] = {}
    for line in lines:
        totals[line.lot_number] = totals.get(line.lot_number, Decimal(0)) + line.total
    return dict(sorted(totals.items()))


def render(data: ReceiptData) -> bytes:
    """The receipt as a PDF (portrait A4)."""
    zone = data.timezone
    width = pdf.usable_width()
    label_w = 48 * mm
    deadline = pdf.local_time(data.deadline_after, zone)
    story = [
        pdf.heading(
            _(
                "Bid receipt — tender %(number)s, revision %(revision)s",
                number=data.tender_number,
                revision=data.revision,
            ),
            "title",
        ),
        pdf.para(data.tender_title, "h2"),
        pdf.facts(
            [
                (_("Customer"), data.customer_name),
                (
                    _("Supplier"),
                    _("%(name)s (INN %(inn)s)", name=data.supplier_name, inn=data.supplier_inn),
                ),
                (_("Revision"), str(data.revision)),
                (_("Accepted at"), pdf.local_time(data.accepted_at, zone)),
                (
                    _("Deadline after this revision"),
                    _("%(deadline)s (extended by this revision)", deadline=deadline)
                    if data.extended
                    else deadline,
                ),
                (_("Total offered"), pdf.amount(data.total, data.currency)),
                (_("Positions priced"), str(len(data.lines))),
            ],
            (label_w, width - label_w),
        ),
        pdf.heading(_("Totals per lot")),
        pdf.grid(
            (_("Lot"), _("Total, %(currency)s", currency=formats.currency(data.currency))),
            [
                (_("Lot %(lot)s", lot=lot), pdf.money(total))
                for lot, total in lot_totals(data.lines).items()
            ],
            (30 * mm, 50 * mm),
            numeric=(1,),
        ),
        pdf.heading(_("Priced positions")),
        _lines(data, width),
    ]
    if data.criteria:
        story += [
            pdf.heading(_("Criterion values")),
            pdf.grid(
                (_("Lot"), _("Criterion"), _("Value")),
                [(c.lot_number, c.name, f"{c.value} {c.unit}".strip()) for c in data.criteria],
                (14 * mm, width - 74 * mm, 60 * mm),
            ),
        ]
    key = _(
        "%(algorithm)s, fingerprint %(fingerprint)s",
        algorithm=data.key_algorithm,
        fingerprint=data.key_fingerprint,
    )
    story += [
        pdf.heading(_("Signatures")),
        pdf.facts(
            [
                (_("Revision hash (SHA-256)"), data.revision_hash),
                (_("Previous revision hash"), data.previous_hash or _("— (first revision)")),
                (_("Signed by"), data.signer_email),
                *_signature_kind(data),
                (_("Supplier key"), key),
                (_("Supplier signature"), _supplier_signature(data)),
                (_("Platform receipt"), json.dumps(data.receipt_payload, ensure_ascii=False)),
                (_("Platform signature"), data.receipt_signature),
                (_("Platform key fingerprint"), data.platform_fingerprint),
            ],
            (label_w, width - label_w),
        ),
        pdf.spacer(3),
        pdf.para(
            _(
                "The supplier signed the revision's canonical JSON (RFC 8785) with a qualified "
                "electronic signature: a detached CAdES-BES file (GOST R 34.10-2012, Streebog) "
                "checked against the certificate's chain, the certification centre's CRL and "
                "the supplier's INN. The platform signed the receipt object above with its key "
                "(GET /api/v1/platform-key); anyone can re-verify it with POST "
                "/api/v1/receipts/verify."
            )
            if data.qualified_signer
            else _(
                "The supplier signed the SHA-256 of the revision's canonical JSON (RFC 8785). "
                "The platform signed the receipt object above with its key (GET "
                "/api/v1/platform-key); anyone can re-verify it with POST "
                "/api/v1/receipts/verify."
            ),
            "small",
        ),
    ]
    return pdf.build(
        story,
        title=_(
            "Bid receipt %(number)s r%(revision)s",
            number=data.tender_number,
            revision=data.revision,
        ),
        subject=data.tender_title,
        footer=_(
            "Bid receipt, tender %(number)s, %(supplier)s, revision %(revision)s",
            number=data.tender_number,
            supplier=data.supplier_name,
            revision=data.revision,
        ),
        created=data.accepted_at,
    )


def _lines(data: ReceiptData, width: float):
    rows = [
        (
            f"{line.lot_number} / {line.position}",
            line.name + (f" — {line.note}" if line.note else ""),
            f"{pdf.qty(line.quantity)} {line.unit}",
            pdf.money(line.unit_price),
            pdf.money(line.total),
        )
        for line in data.lines
    ]
    return pdf.grid(
        (_("Lot / pos."), _("Name"), _("Quantity"), _("Unit price"), _("Total")),
        rows,
        (20 * mm, width - 96 * mm, 24 * mm, 24 * mm, 28 * mm),
        numeric=(2, 3, 4),
    )


def _signature_kind(data: ReceiptData) -> list[tuple[str, str]]:
    """The kind of signature, and a qualified signer's certificate details."""
    rows = [(_("Signature"), data.signature_kind)] if data.signature_kind else []
    signer = data.qualified_signer
    if signer:
        ogrn_label = _("OGRNIP") if signer.get("entrepreneur") else _("OGRN")
        rows.append(
            (
                _("Certificate"),
                _(
                    "INN %(inn)s, %(ogrn_label)s %(ogrn)s; issued by %(issuer)s, serial %(serial)s",
                    inn=signer["inn"] or "—",
                    ogrn_label=ogrn_label,
                    ogrn=signer["ogrn"] or "—",
                    issuer=signer["issuer"],
                    serial=signer["serial"],
                ),
            )
        )
    return rows


def _supplier_signature(data: ReceiptData) -> str:
    """A raw signature as it is; a CAdES file (kilobytes of base64) by its size and hash."""
    if not data.qualified_signer:
        return data.supplier_signature
    der = cades.decode_cms(data.supplier_signature)
    return _(
        "CAdES-BES, %(size)s bytes, SHA-256 %(sha256)s",
        size=len(der),
        sha256=hashlib.sha256(der).hexdigest(),
    )
