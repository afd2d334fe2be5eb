"""marshmallow schemas of the price history and the customer dashboard API."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.fields import MAX_ID, ExactDecimal, InputSchema
from reports import rules

# -- price history ---------------------------------------------------------------------------


class PriceHistoryQuery(InputSchema):
    """Which chart: a lot's total (position omitted; the first lot by default) or one
    position's unit price (its lot found when omitted)."""

    lot = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    position = fields.String(load_default=None, validate=validate.Length(min=1, max=20))


class PricePointOut(Schema):
    at = fields.DateTime()
    value = ExactDecimal(places=2, allow_none=True)


class PriceSeriesOut(Schema):
    key = fields.String(metadata={"description": "best, own, or pN (participant N)"})
    label = fields.String()
    role = fields.String(metadata={"description": "best | own | participant"})
    participant = fields.Integer()
    points = fields.List(
        fields.Nested(PricePointOut),
        metadata={"description": "steps: the value holds from `at` to the next point"},
    )


class PriceExtensionOut(Schema):
    at = fields.DateTime()
    previous = fields.DateTime()
    deadline = fields.DateTime()


class PriceHistoryOut(Schema):
    tender_id = fields.Integer()
    number = fields.String()
    lot = fields.Integer()
    lot_title = fields.String()
    position = fields.String(allow_none=True)
    position_name = fields.String(allow_none=True)
    kind = fields.String(metadata={"description": "position | whole_lot | per_position_lot"})
    measure = fields.String(metadata={"description": "unit_price | total"})
    level = fields.String(
        metadata={
            "description": "none (extensions only) | own (best and own) | everyone (every "
            "participant, anonymous) | named (every participant by name)"
        }
    )
    currency = fields.String()
    timezone = fields.String()
    status = fields.String()
    published_at = fields.DateTime(allow_none=True)
    original_deadline = fields.DateTime(allow_none=True)
    deadline = fields.DateTime(allow_none=True)
    extensions = fields.List(fields.Nested(PriceExtensionOut))
    series = fields.List(fields.Nested(PriceSeriesOut))


# -- the customer dashboard ------------------------------------------------------------------


class DashboardQuery(InputSchema):
    """The period: dates (YYYY-MM-DD), both included; the last 12 months by default."""

    from_ = fields.Date(data_key="from", load_default=None)
    to = fields.Date(load_default=None)

    @validates_schema
    def _period(self, data, **kwargs):
        first, last = data.get("from_"), data.get("to")
        if first is None or last is None:
            return
        problem = rules.period_problem(first, last)
        if problem == "reversed":
            raise ValidationError(_l("The end of the period is before its start."), "to")
        if problem == "too_long":
            raise ValidationError(
                _l("The period is longer than %(days)s days.", days=rules.MAX_PERIOD_DAYS), "to"
            )


class DashboardStageOut(Schema):
    status = fields.String()
    tenders = fields.Integer()


class DashboardCategoryOut(Schema):
    code = fields.String()
    name = fields.String()
    tenders = fields.Integer()
    estimated_value = ExactDecimal(places=2)


class DashboardExtensionsOut(Schema):
    tenders = fields.Integer(metadata={"description": "tenders whose bidding has ended"})
    extended = fields.Integer(metadata={"description": "of them, extended at least once"})
    total = fields.Integer()
    average = ExactDecimal(places=2, allow_none=True)
    most = fields.Integer()


class DashboardParticipationOut(Schema):
    lots = fields.Integer(metadata={"description": "lots of tenders whose bidding has ended"})
    offers = fields.Integer(metadata={"description": "participants summed over those lots"})
    average_per_lot = ExactDecimal(places=2, allow_none=True)
    participations = fields.Integer()
    sme = fields.Integer()
    sme_percent = ExactDecimal(places=2, allow_none=True)


class DashboardSavingsOut(Schema):
    tenders = fields.Integer()
    reference = ExactDecimal(places=2)
    savings = ExactDecimal(places=2)
    percent = ExactDecimal(places=2, allow_none=True)


class DashboardMonthOut(DashboardSavingsOut):
    """One month's figures: the same as the period's savings."""

    month = fields.String(metadata={"description": "YYYY-MM (UTC)"})


class DashboardOut(Schema):
    organization_id = fields.Integer()
    organization = fields.String()
    currency = fields.String()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    tenders = fields.Integer()
    stages = fields.List(fields.Nested(DashboardStageOut))
    participation = fields.Nested(DashboardParticipationOut)
    savings = fields.Nested(DashboardSavingsOut)
    months = fields.List(fields.Nested(DashboardMonthOut))
    extensions = fields.Nested(DashboardExtensionsOut)
    categories = fields.List(fields.Nested(DashboardCategoryOut))
