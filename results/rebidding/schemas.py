"""marshmallow schemas of the re-bidding round: announcing it, improved offers, rounds out."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from bids.schemas import AcceptedOut, CriterionValueIn, LineIn, PreparedOut
from core.fields import ExactDecimal, Id, InputSchema
from results.rebidding.rules import SCOPES
from signatures.schemas import SIGNATURE_MAX_CHARS


class RoundIn(InputSchema):
    """A round: its lots, its deadline (without a zone: the tender's), whom it invites
    (participant numbers; omitted: every admissible participant of those lots) and whether
    criterion values may change too."""

    lots = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=100_000)),
        required=True,
        validate=validate.Length(min=1, max=1000),
    )
    deadline = fields.DateTime(required=True)
    participants = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=1_000_000)),
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=10_000),
    )
    scope = fields.String(load_default="prices", validate=validate.OneOf(SCOPES))


class ImprovedOfferIn(InputSchema):
    """New unit prices of some positions of the round (omitted ones keep their price) and,
    when the round takes criteria, new criterion values of its lots."""

    lines = fields.List(
        fields.Nested(LineIn), load_default=list, validate=validate.Length(max=50_000)
    )
    criteria = fields.List(
        fields.Nested(CriterionValueIn), load_default=list, validate=validate.Length(max=1000)
    )


class SignedImprovedOfferIn(ImprovedOfferIn):
    """The same improved offer, signed: the signature covers the payload prepare returned
    (key_id optional for a qualified CAdES signature: its certificate names the key)."""

    key_id = Id(load_default=None)
    signature = fields.String(
        required=True, validate=validate.Length(min=8, max=SIGNATURE_MAX_CHARS)
    )


class ImprovedPreparedOut(PreparedOut):
    round = fields.Integer()


class ImprovedAcceptedOut(AcceptedOut):
    """The accepted revision; bid_deadline is the round's deadline now in force."""


class InvitedOut(Schema):
    participant = fields.Integer()
    name = fields.String()
    inn = fields.String()
    lots = fields.List(fields.Integer())
    offers = fields.Integer()
    last_offer_at = fields.AwareDateTime(allow_none=True)


class PriceChangeOut(Schema):
    lot = fields.Integer()
    position = fields.String()
    name = fields.String()
    participant = fields.Integer()
    before = ExactDecimal(places=2)
    after = ExactDecimal(places=2)


class OwnPositionOut(Schema):
    lot = fields.Integer()
    position = fields.String()
    name = fields.String()
    quantity = ExactDecimal()
    unit_price = ExactDecimal(places=2)


class OwnCriterionOut(Schema):
    lot = fields.Integer()
    criterion = fields.Integer()
    value = fields.Raw()


class OwnInvitationOut(Schema):
    lots = fields.List(fields.Integer())
    positions = fields.List(fields.Nested(OwnPositionOut))
    # The invitee's current criterion values of its lots, when the round takes criteria.
    criteria = fields.List(fields.Nested(OwnCriterionOut))


class RoundOut(Schema):
    """A round; `invited` and `positions` (prices before and after) go to the customer, and
    to the participants once results are published; `invitation` is the caller's own."""

    number = fields.Integer()
    status = fields.String()
    scope = fields.String()
    lots = fields.List(fields.Integer())
    announced_at = fields.AwareDateTime()
    original_deadline = fields.AwareDateTime()
    deadline = fields.AwareDateTime()
    extensions = fields.Integer()
    closed_at = fields.AwareDateTime(allow_none=True)
    offers = fields.Integer()
    invited = fields.List(fields.Nested(InvitedOut), allow_none=True)
    positions = fields.List(fields.Nested(PriceChangeOut), allow_none=True)
    invitation = fields.Nested(OwnInvitationOut, allow_none=True)
    server_time = fields.AwareDateTime()


class RoundsOut(Schema):
    rounds = fields.List(fields.Nested(RoundOut))
