"""marshmallow schemas for tender inputs and outputs."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from accounts.regions import REGIONS_BY_CODE, region_name
from accounts.schemas import RegionField
from core.fields import MAX_ID, CommaList, ExactDecimal, InputSchema, QuerySchema, TimeZone, to_utc
from core.i18n import N_
from core.messages import Text
from positions import classifiers
from positions.models import CRITERION_KINDS, DIRECTIONS
from tenders.models import AWARD_MODES, EXTENSION_MODES, STATUSES, VAT_MODES, VISIBILITY_MODES
from tenders.search import SORTS, STAGES

CURRENCIES = ("RUB", "USD", "EUR", "CNY")
DATETIME_FIELDS = ("questions_until", "bid_deadline", "latest_close")


_Input = InputSchema


class OptionIn(_Input):
    label = fields.String(required=True, validate=validate.Length(min=1, max=300))
    score = ExactDecimal(places=4, minimum=Decimal(0), maximum=Decimal(1_000_000), required=True)


class CriterionIn(_Input):
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    kind = fields.String(required=True, validate=validate.OneOf(CRITERION_KINDS))
    unit = fields.String(load_default="", validate=validate.Length(max=50))
    required = fields.Boolean(load_default=False)
    weight = ExactDecimal(
        places=2, minimum=Decimal(0), maximum=Decimal(100), load_default=Decimal(0)
    )
    direction = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(DIRECTIONS)
    )
    min_value = ExactDecimal(places=4, load_default=None, allow_none=True, minimum=None)
    max_value = ExactDecimal(places=4, load_default=None, allow_none=True, minimum=None)
    options = fields.List(fields.Nested(OptionIn), load_default=list)

    @validates_schema(skip_on_field_errors=False)
    def options_only_for_choice(self, data, **kwargs):
        if data.get("options") and data.get("kind") != "choice":
            raise ValidationError({"options": [N_("Only a choice criterion has options.")]})
        # Runs after field errors too: an option refused for its own fields has no label.
        labels = [o["label"] for o in data.get("options") or [] if "label" in o]
        if len(labels) != len(set(labels)):
            raise ValidationError({"options": [N_("Option labels must differ.")]})


class PositionIn(_Input):
    number = fields.String(required=True, validate=validate.Length(min=1, max=20))
    name = fields.String(required=True, validate=validate.Length(min=1, max=500))
    specification = fields.String(load_default="", validate=validate.Length(max=20000))
    category_code = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=20)
    )
    quantity = ExactDecimal(places=3, positive=True, required=True)
    unit_code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    max_unit_price = ExactDecimal(places=2, positive=True, load_default=None, allow_none=True)
    delivery_place = fields.String(load_default="", validate=validate.Length(max=500))
    delivery_date = fields.Date(load_default=None, allow_none=True)

    @post_load
    def unit_by_code_or_name(self, data, **kwargs):
        found = classifiers.find_unit(data["unit_code"])
        if found is None:
            raise ValidationError(
                {"unit_code": [Text(N_("Unknown unit '%(unit)s'."), {"unit": data["unit_code"]})]}
            )
        data["unit_code"] = found.code
        data["category_code"] = data["category_code"] or None
        return data


class LotIn(_Input):
    number = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=9999)
    )
    title = fields.String(load_default="", validate=validate.Length(max=500))
    award_mode = fields.String(load_default="per_position", validate=validate.OneOf(AWARD_MODES))
    price_weight = ExactDecimal(
        places=2, minimum=Decimal(0), maximum=Decimal(100), load_default=Decimal(100)
    )
    positions = fields.List(
        fields.Nested(PositionIn), load_default=list, validate=validate.Length(max=10_000)
    )
    criteria = fields.List(
        fields.Nested(CriterionIn), load_default=list, validate=validate.Length(max=50)
    )


class LotUpdate(_Input):
    title = fields.String(validate=validate.Length(max=500))
    award_mode = fields.String(validate=validate.OneOf(AWARD_MODES))
    price_weight = ExactDecimal(places=2, minimum=Decimal(0), maximum=Decimal(100))


class PositionsIn(_Input):
    positions = fields.List(
        fields.Nested(PositionIn), required=True, validate=validate.Length(min=1, max=10_000)
    )


class TenderHeader(_Input):
    """Header fields of a draft (all optional: a draft is completed step by step)."""

    title = fields.String(validate=validate.Length(min=1, max=500))
    description = fields.String(validate=validate.Length(max=20000))
    region_code = fields.String(
        validate=validate.OneOf(sorted(REGIONS_BY_CODE), error=N_("Choose a region."))
    )
    categories = fields.List(
        fields.String(validate=validate.Length(max=20)), validate=validate.Length(max=200)
    )
    currency = fields.String(validate=validate.OneOf(CURRENCIES))
    vat_mode = fields.String(validate=validate.OneOf(VAT_MODES))
    sme_only = fields.Boolean()
    qualified_signature_required = fields.Boolean()
    timezone = TimeZone()
    questions_until = fields.DateTime(allow_none=True)
    bid_deadline = fields.DateTime(allow_none=True)
    extension_window_minutes = fields.Integer(validate=validate.Range(min=1, max=1440))
    extension_minutes = fields.Integer(validate=validate.Range(min=1, max=1440))
    extension_mode = fields.String(validate=validate.OneOf(EXTENSION_MODES))
    extension_trigger_rank = fields.Integer(
        allow_none=True, validate=validate.Range(min=1, max=10_000)
    )
    max_extensions = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=1000))
    latest_close = fields.DateTime(allow_none=True)
    visibility = fields.String(validate=validate.OneOf(VISIBILITY_MODES))

    @post_load
    def times_in_utc(self, data, **kwargs):
        zone = data.get("timezone") or self.context_zone()
        for key in DATETIME_FIELDS:
            if key in data:
                data[key] = to_utc(data[key], zone)
        return data

    def context_zone(self) -> str:
        return "Europe/Moscow"


class TenderCreate(TenderHeader):
    """A new draft; lots, positions and criteria may come in the same request."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=500))
    lots = fields.List(fields.Nested(LotIn), load_default=list, validate=validate.Length(max=500))


class AmendmentIn(_Input):
    summary = fields.String(required=True, validate=validate.Length(min=3, max=2000))
    description = fields.String(validate=validate.Length(max=20000))
    bid_deadline = fields.DateTime()
    questions_until = fields.DateTime()
    timezone = TimeZone(load_default="Europe/Moscow")
    specifications = fields.Dict(
        keys=fields.String(validate=validate.Length(max=20)),
        values=fields.String(validate=validate.Length(max=20000)),
        load_default=dict,
    )

    @post_load
    def times_in_utc(self, data, **kwargs):
        for key in ("bid_deadline", "questions_until"):
            if key in data:
                data[key] = to_utc(data[key], data["timezone"])
        return data


class CancelIn(_Input):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))


class QuestionIn(_Input):
    text = fields.String(required=True, validate=validate.Length(min=5, max=5000))


class AnswerIn(_Input):
    answer = fields.String(required=True, validate=validate.Length(min=1, max=10000))


class ResponsibleIn(_Input):
    """The member put in charge (a member with the right to prepare)."""

    user_id = fields.Integer(
        required=True, strict=False, validate=validate.Range(min=1, max=MAX_ID)
    )


class CabinetQuery(QuerySchema):
    """The customer's own list: "mine" or "all" (those who see all), by responsible person."""

    scope = fields.String(load_default=None, validate=validate.OneOf(("mine", "all")))
    responsible = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=MAX_ID)
    )
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


def known_category(code: str) -> None:
    """A classifier code the platform knows."""
    if classifiers.category(code) is None:
        raise ValidationError(classifiers.UNKNOWN_CATEGORY)


class SearchQuery(QuerySchema):
    q = fields.String(load_default="", validate=validate.Length(max=200))
    customer = fields.String(load_default="", validate=validate.Length(max=300))
    region = CommaList(
        RegionField(),
        load_default=list,
        data_key="region",
        attribute="regions",
    )
    category = fields.String(
        load_default=None, allow_none=True, validate=[validate.Length(max=20), known_category]
    )
    sme_only = fields.Boolean(load_default=None, allow_none=True)
    status = CommaList(
        fields.String(validate=validate.OneOf(STATUSES[1:])),
        load_default=list,
        attribute="statuses",
    )
    stage = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(STAGES))
    published_from = fields.Date(load_default=None, allow_none=True)
    published_to = fields.Date(load_default=None, allow_none=True)
    deadline_from = fields.Date(load_default=None, allow_none=True)
    deadline_to = fields.Date(load_default=None, allow_none=True)
    price_min = ExactDecimal(places=2, minimum=Decimal(0), load_default=None, allow_none=True)
    price_max = ExactDecimal(places=2, minimum=Decimal(0), load_default=None, allow_none=True)
    sort = fields.String(load_default="published_desc", validate=validate.OneOf(SORTS))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


class PageQuery(_Input):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    lot = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=MAX_ID)
    )


# -- outputs -------------------------------------------------------------------------------


def unit_short(code: str) -> str:
    """The short name of an OKEI unit (the code itself if unknown)."""
    found = classifiers.unit(code)
    return found.short if found else code


def category_name(code: str) -> str:
    """The classifier name of a category code."""
    found = classifiers.category(code)
    return found.name if found else code


class OptionOut(Schema):
    label = fields.String()
    score = ExactDecimal(places=4)


class CriterionOut(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    unit = fields.String()
    required = fields.Boolean()
    weight = ExactDecimal(places=2)
    direction = fields.String(allow_none=True)
    min_value = ExactDecimal(places=4, allow_none=True)
    max_value = ExactDecimal(places=4, allow_none=True)
    options = fields.List(fields.Nested(OptionOut))


class LotOut(Schema):
    id = fields.Integer()
    number = fields.Integer()
    title = fields.String()
    award_mode = fields.String()
    price_weight = ExactDecimal(places=2)
    positions_count = fields.Integer()
    criteria = fields.List(fields.Nested(CriterionOut))


class PositionOut(Schema):
    id = fields.Integer()
    lot_number = fields.Function(lambda p: p.lot.number)
    number = fields.String()
    name = fields.String()
    specification = fields.String()
    category_code = fields.String(allow_none=True)
    quantity = ExactDecimal(places=3)
    unit_code = fields.String()
    unit = fields.Function(lambda p: unit_short(p.unit_code))
    max_unit_price = ExactDecimal(places=2, allow_none=True)
    delivery_place = fields.String()
    delivery_date = fields.Date(allow_none=True)


class PositionPage(Schema):
    items = fields.List(fields.Nested(PositionOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class CustomerOut(Schema):
    id = fields.Integer()
    name = fields.String()
    inn = fields.String()


class CategoryOut(Schema):
    code = fields.String()
    name = fields.Function(lambda c: category_name(c.code))


class DocumentOut(Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    amendment_number = fields.Integer()
    uploaded_at = fields.AwareDateTime()


class ExtensionPolicyOut(Schema):
    window_minutes = fields.Integer(attribute="extension_window_minutes")
    extension_minutes = fields.Integer()
    mode = fields.String(attribute="extension_mode")
    trigger_rank = fields.Integer(attribute="extension_trigger_rank", allow_none=True)
    max_extensions = fields.Integer(allow_none=True)
    latest_close = fields.AwareDateTime(allow_none=True)
    extensions_count = fields.Integer()


class TenderSummaryOut(Schema):
    """A tender in a registry listing."""

    id = fields.Integer()
    number = fields.String()
    title = fields.String()
    status = fields.String()
    customer = fields.Nested(CustomerOut)
    region_code = fields.String()
    region_name = fields.Function(lambda t: region_name(t.region_code))
    sme_only = fields.Boolean()
    qualified_signature_required = fields.Boolean()
    currency = fields.String()
    estimated_value = ExactDecimal(places=2, allow_none=True)
    published_at = fields.AwareDateTime(allow_none=True)
    bid_deadline = fields.AwareDateTime(allow_none=True)
    itemized = fields.Boolean(attribute="is_itemized")


class TenderOut(TenderSummaryOut):
    """The whole notice (positions are paged separately)."""

    description = fields.String()
    vat_mode = fields.String()
    timezone = fields.String()
    questions_until = fields.AwareDateTime(allow_none=True)
    original_deadline = fields.AwareDateTime(allow_none=True)
    extension_policy = fields.Function(lambda t: ExtensionPolicyOut().dump(t))
    visibility = fields.String()
    categories = fields.List(fields.Nested(CategoryOut))
    lots = fields.List(fields.Nested(LotOut))
    documents = fields.List(fields.Nested(DocumentOut))
    amendment_count = fields.Integer()
    cancel_reason = fields.String(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)


class CabinetTenderOut(TenderSummaryOut):
    """A tender in its customer's own list, with who is in charge of it."""

    responsible_id = fields.Integer()
    created_by_id = fields.Integer()
    updated_at = fields.AwareDateTime(allow_none=True)


class SearchResult(Schema):
    items = fields.List(fields.Nested(TenderSummaryOut))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class QuestionOut(Schema):
    """A published clarification: never who asked."""

    id = fields.Integer()
    text = fields.String()
    answer = fields.String(allow_none=True)
    asked_at = fields.AwareDateTime()
    answered_at = fields.AwareDateTime(allow_none=True)


class AmendmentOut(Schema):
    number = fields.Integer()
    summary = fields.String()
    changes = fields.Dict()
    created_at = fields.AwareDateTime()
