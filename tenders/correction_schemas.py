"""marshmallow schemas of the correction of published results and of its versions."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.fields import InputSchema
from tenders.correction import ACTIONS, CHANGE_REASON_MAX, MAX_CHANGES, REASON_MAX, REASON_MIN
from tenders.results_schemas import ResultSummaryOut, ResultVersionOut


class ChangeIn(InputSchema):
    """Disqualify a participant (whole tender when lot is omitted, or one lot), or lift an
    earlier disqualification; each with its own reason."""

    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    participant = fields.Integer(load_default=None, validate=validate.Range(min=1))
    lot = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    disqualification = fields.Integer(load_default=None, validate=validate.Range(min=1))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=CHANGE_REASON_MAX))

    @validates_schema
    def _needs(self, data, **kwargs):
        if data.get("action") == "disqualify" and data.get("participant") is None:
            raise ValidationError("Which participant to disqualify.", "participant")
        if data.get("action") == "lift" and data.get("disqualification") is None:
            raise ValidationError("Which disqualification to lift.", "disqualification")


class CorrectionIn(InputSchema):
    """A correction of published results: why, and what changes."""

    reason = fields.String(required=True, validate=validate.Length(min=REASON_MIN, max=REASON_MAX))
    changes = fields.List(
        fields.Nested(ChangeIn),
        required=True,
        validate=validate.Length(min=1, max=MAX_CHANGES, error="Give 1 to {max} changes."),
    )


class VersionsOut(Schema):
    current = fields.Integer(allow_none=True)
    items = fields.List(fields.Nested(ResultVersionOut))


class VersionOfferOut(Schema):
    participant = fields.Integer()
    organization = fields.String()
    inn = fields.String()
    rank = fields.Integer(allow_none=True)
    status = fields.String()
    reason = fields.String(allow_none=True)
    unit_price = fields.String(allow_none=True)
    total = fields.String()
    score = fields.String()
    breakdown = fields.Dict()


class VersionAwardOut(Schema):
    lot = fields.Integer()
    lot_title = fields.String()
    award_mode = fields.String()
    position = fields.String(allow_none=True)
    name = fields.String()
    status = fields.String()
    winner = fields.Integer(allow_none=True)
    price = fields.String(allow_none=True)
    total = fields.String(allow_none=True)
    score = fields.String(allow_none=True)
    reference_total = fields.String(allow_none=True)
    savings = fields.String(allow_none=True)
    offers = fields.List(fields.Nested(VersionOfferOut))


class VersionOut(Schema):
    """A version with (for the customer and the participants) its awards as published."""

    level = fields.String()
    version = fields.Nested(ResultVersionOut)
    awards = fields.List(fields.Nested(VersionAwardOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class CorrectionOut(Schema):
    status = fields.String()
    version = fields.Nested(ResultVersionOut)
    summary = fields.Nested(ResultSummaryOut)
