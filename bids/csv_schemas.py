"""marshmallow schemas of the CSV bid flow (template, upload, preview, sign, submit)."""

from __future__ import annotations

from marshmallow import Schema, fields, pre_load, validate

from bids.schemas import CriterionValueIn
from core.fields import ExactDecimal, Id, InputSchema
from signatures.schemas import SIGNATURE_MAX_CHARS


class CsvTemplateQuery(InputSchema):
    """Which template: unit or total prices, one lot or all, encoding, delimiter, language."""

    variant = fields.String(load_default="unit", validate=validate.OneOf(("unit", "total")))
    lot = fields.Integer(load_default=None, validate=validate.Range(min=1))
    encoding = fields.String(
        load_default="utf-8", validate=validate.OneOf(("utf-8", "windows-1251"))
    )
    delimiter = fields.String(
        load_default="semicolon", validate=validate.OneOf(("semicolon", "comma", "tab"))
    )
    lang = fields.String(load_default="ru", validate=validate.OneOf(("ru", "en")))
    format = fields.String(
        load_default="csv",
        validate=validate.OneOf(("csv", "xlsx")),
        metadata={"description": "csv, or xlsx: an Excel workbook (encoding, delimiter unused)"},
    )

    @pre_load
    def drop_empty(self, data, **kwargs):
        """An empty choice of the page's form ("all lots") means the default."""
        return {k: v for k, v in data.items() if v != ""} if isinstance(data, dict) else data


class CsvUploadQuery(InputSchema):
    """The file is the request body; the encoding is detected unless given."""

    encoding = fields.String(load_default=None, validate=validate.OneOf(("utf-8", "windows-1251")))
    filename = fields.String(load_default="", validate=validate.Length(max=255))


class CsvUploadOut(Schema):
    id = fields.Integer()
    filename = fields.String()
    sha256 = fields.String()
    size = fields.Integer()
    variant = fields.String()
    encoding = fields.String()
    delimiter = fields.String()
    rows = fields.Integer()
    positions = fields.Integer()
    total = ExactDecimal(places=2)
    uploaded_at = fields.AwareDateTime()


class CsvProblemOut(Schema):
    """One problem of a refused file: its row, column and reason."""

    line = fields.Integer(
        metadata={"description": "the row as a spreadsheet shows it (the header is row 1)"}
    )
    column = fields.String(allow_none=True)
    cell = fields.String(
        allow_none=True,
        metadata={"description": "a workbook's cell as Excel names it (Лист1!F12); null for CSV"},
    )
    message = fields.String()


class CsvPreviewQuery(InputSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    only = fields.String(load_default="all", validate=validate.OneOf(("all", "changes")))


class CsvPreviewLineOut(Schema):
    """change: new, up, down, note (only the note changed), same, dropped (priced before,
    its price cell empty in the file), kept (not in the file: the current price stays)."""

    position = fields.String()
    lot = fields.Integer()
    name = fields.String()
    unit = fields.String()
    quantity = ExactDecimal(places=3)
    max_unit_price = ExactDecimal(places=2, allow_none=True)
    unit_price = ExactDecimal(places=2, allow_none=True)
    total = ExactDecimal(places=2, allow_none=True)
    note = fields.String()
    current_unit_price = ExactDecimal(places=2, allow_none=True)
    change = fields.String()


class CsvPreviewOut(Schema):
    upload = fields.Nested(CsvUploadOut)
    tender_id = fields.Integer()
    tender_number = fields.String()
    expires_at = fields.AwareDateTime()
    delimiter_name = fields.String()
    revision = fields.Integer()
    current_revision = fields.Integer(allow_none=True)
    current_total = ExactDecimal(places=2)
    changes_prices = fields.Boolean()
    stale = fields.Boolean()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    lots = fields.List(
        fields.Integer(), metadata={"description": "the lots the offer bids on after the file"}
    )
    covered_lots = fields.List(
        fields.Integer(),
        metadata={"description": "the lots with at least one row in the file: they change"},
    )
    kept_lots = fields.List(
        fields.Integer(),
        metadata={"description": "lots of the current revision not in the file: they stay"},
    )
    offer_positions = fields.Integer(
        metadata={"description": "positions priced in the offer to sign (file and kept)"}
    )
    offer_total = ExactDecimal(places=2, metadata={"description": "the offer's total"})
    lines = fields.List(fields.Nested(CsvPreviewLineOut))
    matching = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class CsvOfferIn(InputSchema):
    """Criterion values and documents of the revision; omitted, those of the current
    revision are kept (criteria only for the lots the offer bids on)."""

    criteria = fields.List(
        fields.Nested(CriterionValueIn),
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=1000),
    )
    documents = fields.List(
        Id(strict=True),
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=50),
    )


class CsvSignedIn(CsvOfferIn):
    """The signature over the payload that .../prepare returned."""

    # Optional for a qualified (CAdES) signature: its certificate names the key.
    key_id = Id(load_default=None)
    signature = fields.String(
        required=True, validate=validate.Length(min=8, max=SIGNATURE_MAX_CHARS)
    )
