"""marshmallow schemas of the review, disqualification, results and correction API."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.fields import MAX_ID, ExactDecimal, InputSchema
from results.commission_schemas import PublishedDecisionOut
from results.correction import ACTIONS, CHANGE_REASON_MAX, MAX_CHANGES, REASON_MAX, REASON_MIN


class ResultsQuery(InputSchema):
    """Paging of awards, optionally one lot's."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    lot = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))


class ComparisonQuery(ResultsQuery):
    """Filters and paging of the comparison table."""

    q = fields.String(load_default="", validate=validate.Length(max=200))
    status = fields.String(
        load_default="", validate=validate.OneOf(["", "awarded", "unsuccessful"])
    )
    participant = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    winner = fields.Boolean(load_default=False)


class DisqualifyIn(InputSchema):
    """Disqualify a participant's bid for the whole tender (lot omitted) or for one lot."""

    participant = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    lot = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=MAX_ID)
    )
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class LiftDisqualificationIn(InputSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ResultCriterionOut(Schema):
    criterion_id = fields.Integer()
    name = fields.String()
    value = fields.String(allow_none=True)
    best = fields.String(allow_none=True)
    ratio = ExactDecimal(places=6)
    weight = ExactDecimal(places=2)
    points = ExactDecimal(places=6)


class ResultOfferOut(Schema):
    participant = fields.Integer(attribute="participant_number")
    bid_id = fields.Integer()
    organization = fields.String(attribute="organization_name")
    inn = fields.String()
    rank = fields.Integer(allow_none=True)
    status = fields.String()
    reason = fields.String(allow_none=True)
    unit_price = ExactDecimal(places=2, allow_none=True)
    total = ExactDecimal(places=2)
    score = ExactDecimal(places=6)
    price_weight = ExactDecimal(places=2)
    best_price = ExactDecimal(places=2)
    price_points = ExactDecimal(places=6)
    criteria = fields.List(fields.Nested(ResultCriterionOut))
    first_offered_at = fields.AwareDateTime()
    won = fields.Boolean()  # the award's winner as decided (not always rank 1)


class ResultAwardOut(Schema):
    lot = fields.Integer(attribute="lot_number")
    lot_title = fields.String()
    award_mode = fields.String()
    position = fields.String(attribute="position_number", allow_none=True)
    name = fields.String(attribute="position_name")
    quantity = ExactDecimal(places=3, allow_none=True)
    max_unit_price = ExactDecimal(places=2, allow_none=True)
    status = fields.String()
    price = ExactDecimal(places=2, allow_none=True)
    total = ExactDecimal(places=2, allow_none=True)
    score = ExactDecimal(places=6, allow_none=True)
    reference_total = ExactDecimal(places=2, allow_none=True)
    savings = ExactDecimal(places=2, allow_none=True)
    savings_percent = ExactDecimal(places=2, allow_none=True)
    winner = fields.Method("winner_number", allow_none=True)  # participant number, as decided
    offers = fields.List(fields.Nested(ResultOfferOut))

    def winner_number(self, award) -> int | None:
        """The winner's participant number (the commission's choice where it deviated)."""
        return award.winner.participant_number if award.winner else None


class ResultWinnerOut(Schema):
    name = fields.String()
    inn = fields.String()
    awards = fields.Integer()
    total = ExactDecimal(places=2)


class ResultSummaryOut(Schema):
    number = fields.String()
    published_at = fields.AwareDateTime(allow_none=True)
    participants = fields.Integer()
    awarded = fields.Integer()
    unsuccessful = fields.Integer()
    awarded_total = ExactDecimal(places=2)
    reference_total = ExactDecimal(places=2)
    savings = ExactDecimal(places=2)
    savings_percent = ExactDecimal(places=2, allow_none=True)
    winners = fields.List(fields.Nested(ResultWinnerOut))


class ResultChangeOut(Schema):
    """One change of a correction: a disqualification made or lifted."""

    action = fields.String()
    disqualification = fields.Integer()
    participant = fields.Integer()
    lot = fields.Integer(allow_none=True)
    reason = fields.String()


class ResultVersionOut(Schema):
    """A published version of the results: 1 is the first publication, each correction
    publishes the next one with its reason."""

    number = fields.Integer()
    published_at = fields.AwareDateTime()
    reason = fields.String(allow_none=True)
    changes = fields.List(fields.Nested(ResultChangeOut))
    digest = fields.String()
    participants = fields.Integer()
    awarded = fields.Integer()
    unsuccessful = fields.Integer()
    reference_total = ExactDecimal(places=2)
    savings = ExactDecimal(places=2)
    current = fields.Boolean()
    superseded_at = fields.AwareDateTime(allow_none=True)


class ResultsOut(Schema):
    """level "summary" (everyone) or "detail" (the customer and the participants)."""

    level = fields.String()
    version = fields.Integer(allow_none=True)
    versions = fields.List(fields.Nested(ResultVersionOut))
    summary = fields.Nested(ResultSummaryOut)
    awards = fields.List(fields.Nested(ResultAwardOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    # the commission's decision: deviations from the ranking with reasons, and the votes
    decision = fields.Nested(PublishedDecisionOut, allow_none=True)


class ResultAwardBriefOut(ResultAwardOut):
    """An award without its offers (a participant's own result carries its own offer)."""

    class Meta:
        exclude = ("offers",)


class OwnResultOut(Schema):
    award = fields.Nested(ResultAwardBriefOut)
    own = fields.Nested(ResultOfferOut)
    won = fields.Boolean()


class OwnResultsOut(Schema):
    items = fields.List(fields.Nested(OwnResultOut))


class ResultParticipantOut(Schema):
    participant = fields.Integer()
    bid_id = fields.Integer()
    name = fields.String()
    inn = fields.String()
    disqualified = fields.String(allow_none=True)


class ResultDisqualificationOut(Schema):
    id = fields.Integer()
    participant = fields.Integer()
    name = fields.String()
    lot = fields.Integer(allow_none=True)
    reason = fields.String()
    created_at = fields.AwareDateTime()
    lifted_at = fields.AwareDateTime(allow_none=True)
    lift_reason = fields.String(allow_none=True)


class ComparisonCellOut(Schema):
    participant = fields.Integer()
    rank = fields.Integer(allow_none=True)
    status = fields.String()
    reason = fields.String(allow_none=True)
    unit_price = ExactDecimal(places=2, allow_none=True)
    total = ExactDecimal(places=2)
    score = ExactDecimal(places=6)
    breakdown = fields.Dict()


class ComparisonRowOut(Schema):
    lot = fields.Integer()
    position = fields.String(allow_none=True)
    name = fields.String()
    award_mode = fields.String()
    status = fields.String()
    winner = fields.Integer(allow_none=True)
    price = ExactDecimal(places=2, allow_none=True)
    reference_total = ExactDecimal(places=2, allow_none=True)
    savings = ExactDecimal(places=2, allow_none=True)
    savings_percent = ExactDecimal(places=2, allow_none=True)
    offers = fields.List(fields.Nested(ComparisonCellOut))


class ComparisonOut(Schema):
    """The customer's comparison after the close (names revealed)."""

    status = fields.String()
    participants = fields.List(fields.Nested(ResultParticipantOut))
    rows = fields.List(fields.Nested(ComparisonRowOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    awarded = fields.Integer()
    unsuccessful = fields.Integer()
    reference_total = ExactDecimal(places=2)
    savings = ExactDecimal(places=2)
    savings_percent = ExactDecimal(places=2, allow_none=True)
    disqualifications = fields.List(fields.Nested(ResultDisqualificationOut))


class ResultsPublishedOut(Schema):
    status = fields.String()
    published_at = fields.AwareDateTime()
    digest = fields.String()
    awarded = fields.Integer()
    unsuccessful = fields.Integer()


# -- correction of published results and its versions ----------------------------------------


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
            raise ValidationError(_("Which participant to disqualify."), "participant")
        if data.get("action") == "lift" and data.get("disqualification") is None:
            raise ValidationError(_("Which disqualification to lift."), "disqualification")


class CorrectionIn(InputSchema):
    """A correction of published results: why, and what changes."""

    reason = fields.String(required=True, validate=validate.Length(min=REASON_MIN, max=REASON_MAX))
    changes = fields.List(
        fields.Nested(ChangeIn),
        required=True,
        validate=validate.Length(min=1, max=MAX_CHANGES, error=_l("Give 1 to {max} changes.")),
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
