"""marshmallow schemas for offers, signed revisions and receipts."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.fields import ExactDecimal, Id, InputSchema
from signatures.schemas import SIGNATURE_MAX_CHARS
from signatures.service import signature_view


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

    # Optional for a qualified (CAdES) signature: its certificate names the key.
    key_id = Id(load_default=None)
    signature = fields.String(
        required=True, validate=validate.Length(min=8, max=SIGNATURE_MAX_CHARS)
    )


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
    # The kind of signature and, for a qualified one, the signer (name, SNILS, INN, OGRN).
    signed_with = fields.Function(lambda r: signature_view(r.signing_key_id))
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
    responsible_id = fields.Integer()
    revisions = fields.List(fields.Nested(RevisionOut))


class PageIn(InputSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class StandingIn(InputSchema):
    # Position numbers, comma-separated (the bid form asks for the page it shows).
    positions = fields.String(load_default="", validate=validate.Length(max=10_000))


class StandingPositionOut(Schema):
    position = fields.String()
    best_price = ExactDecimal(places=2, allow_none=True)
    own_price = ExactDecimal(places=2, allow_none=True)
    own_rank = fields.Integer(allow_none=True)


class StandingOut(Schema):
    """The bid form's view: level "rank", "offers" or "named" (best price, own price and
    rank per position), "count" (nothing: sealed, or no own bid yet) or "results"."""

    level = fields.String()
    participants = fields.Integer()
    positions = fields.List(fields.Nested(StandingPositionOut))


class OfferColumnOut(Schema):
    participant = fields.Integer()
    label = fields.String()
    own = fields.Boolean()
    # Level "results" only: the organization's INN, the reason of a whole-tender disqualification.
    inn = fields.String()
    disqualified = fields.String(allow_none=True)


class OfferCellOut(Schema):
    """Level "results": one participant's offer on a position and its fate in the award."""

    participant = fields.Integer()
    price = ExactDecimal(places=2, allow_none=True)
    status = fields.String(allow_none=True)  # "winner", "ranked", "disqualified" or None
    rank = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)


class OfferRowOut(Schema):
    position = fields.String()
    name = fields.String()
    quantity = ExactDecimal(places=3)
    best_price = ExactDecimal(places=2, allow_none=True)
    prices = fields.List(ExactDecimal(places=2, allow_none=True))
    own_price = ExactDecimal(places=2, allow_none=True)
    own_rank = fields.Integer(allow_none=True)
    # Level "results" only.
    lot = fields.Integer(allow_none=True)
    award_mode = fields.String(allow_none=True)
    award_status = fields.String(allow_none=True)
    winner = fields.Integer(allow_none=True)
    cells = fields.List(fields.Nested(OfferCellOut))


class CriterionOffersOut(Schema):
    """One criterion of a lot: each column's value (as stored: a number's digits, true or
    false, a choice's label, a text) and, after the close, each column's points."""

    criterion = fields.Integer()
    name = fields.String()
    unit = fields.String()
    kind = fields.String()
    required = fields.Boolean()
    weight = ExactDecimal(places=2)
    values = fields.List(fields.String(allow_none=True))
    points = fields.List(ExactDecimal(places=6, allow_none=True), allow_none=True)


class LotCriteriaOut(Schema):
    """The competitors' parameters on a lot, in the columns' order (anonymous as they are)."""

    lot = fields.Integer()
    title = fields.String()
    award_mode = fields.String()
    rows = fields.List(fields.Nested(CriterionOffersOut))
    scores = fields.List(
        ExactDecimal(places=6, allow_none=True),
        allow_none=True,
        metadata={"description": "After the close: score_kind per column."},
    )
    score_kind = fields.String(
        allow_none=True,
        metadata={
            "description": "score (a whole lot: the offer's score) or criteria_points (a lot "
            "awarded per position: the criteria's points, the same on each position)"
        },
    )


class OffersOut(Schema):
    """What the viewer may see: level "count", "rank", "offers" or "named"; once the results
    are published "results" (the customer and the participants: names and each offer's
    fate) or "count" (everyone else, with a note)."""

    level = fields.String()
    participants = fields.Integer()
    note = fields.String()
    columns = fields.List(fields.Nested(OfferColumnOut))
    rows = fields.List(fields.Nested(OfferRowOut))
    criteria = fields.List(fields.Nested(LotCriteriaOut))
    page = fields.Integer()
    per_page = fields.Integer()
