"""marshmallow schemas of subscriptions, the inbox and the "Tenders for me" feed."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, fields, validate

from accounts.schemas import RegionField
from core.fields import CommaList, ExactDecimal, Id, InputSchema, QuerySchema
from notifications.models import FREQUENCIES
from tenders.schemas import TenderSummaryOut, known_category

_region = RegionField()
_category = fields.String(validate=[validate.Length(max=20), known_category])


class SubscriptionIn(InputSchema):
    """A subscription: at least one of categories, regions, keywords, customers."""

    name = fields.String(load_default="", validate=validate.Length(max=200))
    active = fields.Boolean(load_default=True)
    categories = fields.List(_category, load_default=list, validate=validate.Length(max=200))
    regions = fields.List(_region, load_default=list, validate=validate.Length(max=100))
    keywords = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)),
        load_default=list,
        validate=validate.Length(max=50),
    )
    customers = fields.List(
        Id(strict=True),
        load_default=list,
        validate=validate.Length(max=100),
    )
    price_min = ExactDecimal(places=2, minimum=Decimal(0), load_default=None, allow_none=True)
    price_max = ExactDecimal(places=2, minimum=Decimal(0), load_default=None, allow_none=True)
    by_email = fields.Boolean(load_default=True)
    in_cabinet = fields.Boolean(load_default=True)
    frequency = fields.String(load_default="instant", validate=validate.OneOf(FREQUENCIES))


class SubscriptionOut(Schema):
    id = fields.Integer()
    name = fields.String()
    active = fields.Boolean()
    default_for_organization = fields.Integer(attribute="default_for_org_id", allow_none=True)
    categories = fields.Function(lambda s: [c.code for c in s.categories])
    regions = fields.Function(lambda s: [r.region_code for r in s.regions])
    keywords = fields.Function(lambda s: [k.text for k in s.keywords])
    customers = fields.Function(lambda s: [c.organization_id for c in s.customers])
    price_min = ExactDecimal(places=2, allow_none=True)
    price_max = ExactDecimal(places=2, allow_none=True)
    by_email = fields.Boolean()
    in_cabinet = fields.Boolean()
    frequency = fields.String()


class InboxQuery(InputSchema):
    unread = fields.Boolean(load_default=False)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class NotificationOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    text = fields.String(metadata={"description": "What it says, in the caller's language."})
    note = fields.String(
        metadata={"description": "A second line (a participant's results), in its language."}
    )
    tender_id = fields.Integer(allow_none=True)
    tender_number = fields.String(allow_none=True)
    link = fields.String(allow_none=True)
    payload = fields.Dict()
    created_at = fields.AwareDateTime()
    read = fields.Boolean()


class InboxOut(Schema):
    items = fields.List(fields.Nested(NotificationOut))
    total = fields.Integer()
    unread = fields.Integer()


class UnreadOut(Schema):
    unread = fields.Integer()


class FeedQuery(QuerySchema):
    """Narrow or widen "Tenders for me" from the page."""

    add_region = CommaList(_region, load_default=list)
    drop_category = CommaList(_category, load_default=list)
    subscription = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1)
    )
    q = fields.String(load_default="", validate=validate.Length(max=200))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


class FeedOut(Schema):
    items = fields.List(fields.Nested(TenderSummaryOut))
    total = fields.Integer()


class CategoriesIn(InputSchema):
    """The categories a supplier organization declares (its members' default subscription)."""

    categories = fields.List(_category, required=True, validate=validate.Length(max=200))


class CategoriesOut(Schema):
    organization_id = fields.Integer(attribute="id")
    categories = fields.List(fields.String(), attribute="declared_categories")


class FollowOut(Schema):
    tender_id = fields.Integer()
    following = fields.Boolean()
