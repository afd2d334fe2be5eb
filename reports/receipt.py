"""The bid receipt PDF: what one accepted revision offered and the signatures that bind it.
Pure: the service gathers the data."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

from reportlab.lib.units import mm

from reports import pdf


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
    story = [
        pdf.heading(
            f"Bid receipt — tender {data.tender_number}, revision {data.revision}", "title"
        ),
        pdf.para(data.tender_title, "h2"),
        pdf.facts(
            [
                ("Customer", data.customer_name),
                ("Supplier", f"{data.supplier_name} (INN {data.supplier_inn})"),
                ("Revision", str(data.revision)),
                ("Accepted at", pdf.local_time(data.accepted_at, zone)),
                (
                    "Deadline after this revision",
                    pdf.local_time(data.deadline_after, zone)
                    + (" (extended by this revision)" if data.extended else ""),
                ),
                ("Total offered", f"{pdf.money(data.total)} {data.currency}"),
                ("Positions priced", str(len(data.lines))),
            ],
            (label_w, width - label_w),
        ),
        pdf.heading("Totals per lot"),
        pdf.grid(
            ("Lot", f"Total, {data.currency}"),
            [(f"Lot {lot}", pdf.money(total)) for lot, total in lot_totals(data.lines).items()],
            (30 * mm, 50 * mm),
            numeric=(1,),
        ),
        pdf.heading("Priced positions"),
        _lines(data, width),
    ]
    if data.criteria:
        story += [
            pdf.heading("Criterion values"),
            pdf.grid(
                ("Lot", "Criterion", "Value"),
                [(c.lot_number, c.name, f"{c.value} {c.unit}".strip()) for c in data.criteria],
                (14 * mm, width - 74 * mm, 60 * mm),
            ),
        ]
    story += [
        pdf.heading("Signatures"),
        pdf.facts(
            [
                ("Revision hash (SHA-256)", data.revision_hash),
                ("Previous revision hash", data.previous_hash or "— (first revision)"),
                ("Signed by", data.signer_email),
                ("Supplier key", f"{data.key_algorithm}, fingerprint {data.key_fingerprint}"),
                ("Supplier signature", data.supplier_signature),
                ("Platform receipt", json.dumps(data.receipt_payload, ensure_ascii=False)),
                ("Platform signature", data.receipt_signature),
                ("Platform key fingerprint", data.platform_fingerprint),
            ],
            (label_w, width - label_w),
        ),
        pdf.spacer(3),
        pdf.para(
            "The supplier signed the SHA-256 of the revision's canonical JSON (RFC 8785). The "
            "platform signed the receipt object above with its key (GET /api/v1/platform-key); "
            "anyone can re-verify it with POST /api/v1/receipts/verify.",
            "small",
        ),
    ]
    return pdf.build(
        story,
        title=f"Bid receipt {data.tender_number} r{data.revision}",
        subject=data.tender_title,
        footer=f"Bid receipt, tender {data.tender_number}, {data.supplier_name}, "
        f"revision {data.revision}",
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
        ("Lot / pos.", "Name", "Quantity", "Unit price", "Total"),
        rows,
        (20 * mm, width - 96 * mm, 24 * mm, 24 * mm, 28 * mm),
        numeric=(2, 3, 4),
    )
