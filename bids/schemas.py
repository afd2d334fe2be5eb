"""marshmallow schemas for offers, signed revisions and receipts."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.fields import ExactDecimal, Id, InputSchema


class LineIn(InputSchema):
    position = fields.String(required=True, validate=validate.Length(min=1, max=20))
    # Up to 6 places are read so that the rule can say "at most 2 decimals" by position.
    unit_price = ExactDecimal(places=6, minimum=None, required=True)
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class CriterionValueIn(InputSchema):
    lot = fields.Integer(required=True, validate=validate.Range(min=1))
    criterion = Id(required=True)
    value = fields.Raw(required=True)


class OfferIn(InputSchema):
    """Prices per position (omit a position to not bid on it) and criterion values per lot."""

    lines = fields.List(fields.Nested(LineIn), required=True, validate=validate.Length(max=50_000))
    criteria = fields.List(
        fields.Nested(CriterionValueIn), load_default=list, validate=validate.Length(max=1000)
    )
    # Ids of documents in the organization's vault; the payload names them by SHA-256.
    documents = fields.List(Id(strict=True), load_default=list, validate=validate.Length(max=50))


class SignedOfferIn(OfferIn):
    """The same offer, signed: the signature covers the payload `prepare` returned."""

    key_id = Id(required=True)
    signature = fields.String(required=True, validate=validate.Length(min=8, max=4096))


class PreparedOut(Schema):
    payload = fields.Dict()
    canonical_b64 = fields.String()
    digest_hex = fields.String()
    revision = fields.Integer()


class LineOut(Schema):
    position = fields.String(attribute="position_number")
    unit_price = ExactDecimal(places=2)
    total = ExactDecimal(places=2)
    note = fields.String()


class AttachedDocumentOut(Schema):
    document_id = fields.Integer()
    name = fields.String()
    sha256 = fields.String()


class VaultDocumentOut(Schema):
    id = fields.Integer()
    title = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_at = fields.AwareDateTime()


class RevisionOut(Schema):
    id = fields.Integer()
    number = fields.Integer()
    accepted_at = fields.AwareDateTime()
    payload_hash = fields.String()
    previous_hash = fields.String(allow_none=True)
    signing_key_id = fields.Integer()
    triggering = fields.Boolean()
    extended = fields.Boolean()
    deadline_before = fields.AwareDateTime()
    deadline_after = fields.AwareDateTime()
    total = ExactDecimal(places=2)
    documents = fields.List(fields.Nested(AttachedDocumentOut))


class AcceptedOut(RevisionOut):
    """An accepted revision with the platform's signed receipt."""

    receipt = fields.Dict()
    bid_deadline = fields.AwareDateTime()
    extensions_count = fields.Integer()


class BidOut(Schema):
    status = fields.String()
    participant_number = fields.Integer()
    first_bid_at = fields.AwareDateTime()
    withdrawn_at = fields.AwareDateTime(allow_none=True)
    revisions = fields.List(fields.Nested(RevisionOut))


class PageIn(InputSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class OfferColumnOut(Schema):
    participant = fields.Integer()
    label = fields.String()
    own = fields.Boolean()


class OfferRowOut(Schema):
    position = fields.String()
    name = fields.String()
    quantity = ExactDecimal(places=3)
    best_price = ExactDecimal(places=2, allow_none=True)
    prices = fields.List(ExactDecimal(places=2, allow_none=True))
    own_price = ExactDecimal(places=2, allow_none=True)
    own_rank = fields.Integer(allow_none=True)


class OffersOut(Schema):
    """What the viewer may see: level "count", "rank", "offers" or "named"."""

    level = fields.String()
    participants = fields.Integer()
    columns = fields.List(fields.Nested(OfferColumnOut))
    rows = fields.List(fields.Nested(OfferRowOut))
    page = fields.Integer()
    per_page = fields.Integer()
