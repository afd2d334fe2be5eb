"""marshmallow schemas of the workspaces: the filters of "My bids" and followed tenders (the
query string of the pages, the exports and the API) and the rows they answer with."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.fields import CommaList, ExactDecimal, Id, QuerySchema
from tenders.schemas import CustomerOut
from workspaces import rules


class BidsQuery(QuerySchema):
    """Filters, sorting and paging of "My bids"."""

    SORT_DEFAULT = "-deadline"
    SORT_CHOICES = tuple(s for s in rules.SORTS if s.lstrip("-") != "followed")

    stage = CommaList(
        fields.String(validate=validate.OneOf(tuple(rules.STAGES))),
        load_default=list,
        metadata={"description": "bidding, review, results, cancelled, unsuccessful (a,b)"},
    )
    outcome = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(rules.OUTCOMES)
    )
    customer = Id(load_default=None, allow_none=True)
    deadline_from = fields.Date(load_default=None, allow_none=True)
    deadline_to = fields.Date(load_default=None, allow_none=True)
    sort = fields.String(load_default=None, allow_none=True)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))

    @validates_schema
    def sort_and_range(self, data, **kwargs):
        problems = {}
        sort = data.get("sort")
        if sort is not None and sort not in self.SORT_CHOICES:
            problems["sort"] = [
                validate.OneOf(self.SORT_CHOICES).error.format(choices=", ".join(self.SORT_CHOICES))
            ]
        problem = rules.check_range(data.get("deadline_from"), data.get("deadline_to"))
        if problem:
            problems["deadline_to"] = [problem]
        if problems:
            raise ValidationError(problems)

    def load(self, *args, **kwargs):
        data = super().load(*args, **kwargs)
        data["sort"] = data.get("sort") or self.SORT_DEFAULT
        return data


class FollowedQuery(BidsQuery):
    """The same, for followed tenders (newest followed first by default)."""

    SORT_DEFAULT = "-followed"
    SORT_CHOICES = rules.SORTS


class LatestRevisionOut(Schema):
    number = fields.Integer()
    accepted_at = fields.AwareDateTime()
    total = ExactDecimal(places=2)
    extended = fields.Boolean()


class BidSummaryOut(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"description": "active or withdrawn"})
    participant_number = fields.Integer()
    first_bid_at = fields.AwareDateTime()


class LotStandingOut(Schema):
    lot = fields.Integer()
    title = fields.String()
    award_mode = fields.String()
    positions = fields.Integer(metadata={"description": "Positions the bid prices."})
    own_total = ExactDecimal(places=2)
    best_total = ExactDecimal(
        places=2,
        allow_none=True,
        metadata={
            "description": "Whole lot: the best total; per position: the sum of the "
            "best offers on the positions the bid prices."
        },
    )
    own_rank = fields.Integer(allow_none=True, metadata={"description": "Whole lot only."})
    leading = fields.Integer(
        allow_none=True,
        metadata={"description": "Per position: how many of its positions the bid leads."},
    )


class UnitOut(Schema):
    lot = fields.Integer()
    position = fields.String(allow_none=True, metadata={"description": "None: a whole lot."})
    award_mode = fields.String()
    outcome = fields.String(metadata={"description": "won, lost, disqualified, unsuccessful"})
    rank = fields.Integer(allow_none=True)
    own_price = ExactDecimal(places=2, allow_none=True)
    winning_price = ExactDecimal(places=2, allow_none=True)


class BidResultsOut(Schema):
    won = fields.Integer()
    lost = fields.Integer()
    disqualified = fields.Integer()
    units_total = fields.Integer()
    won_total = ExactDecimal(places=2)
    units = fields.List(
        fields.Nested(UnitOut),
        metadata={"description": f"The first {rules.RESULT_UNITS_SHOWN} in notice order."},
    )


class TenderBriefOut(Schema):
    id = fields.Integer()
    number = fields.String()
    title = fields.String()
    status = fields.String()
    currency = fields.String()
    timezone = fields.String()
    visibility = fields.String()
    published_at = fields.AwareDateTime(allow_none=True)
    bid_deadline = fields.AwareDateTime(allow_none=True)
    original_deadline = fields.AwareDateTime(allow_none=True)
    extensions = fields.Integer(attribute="extensions_count")


class RowOut(Schema):
    tender = fields.Nested(TenderBriefOut)
    customer = fields.Function(
        lambda r: CustomerOut().dump(
            {"id": r.tender.customer_id, "name": r.customer_name, "inn": r.customer_inn}
        )
    )
    stage = fields.String(allow_none=True)
    following = fields.Boolean()
    participants = fields.Integer()
    level = fields.String(
        metadata={
            "description": "What the tender's visibility lets the caller see: count (the "
            "number of bids only), rank, offers, named (own rank and best prices), results."
        }
    )
    bid = fields.Nested(BidSummaryOut, allow_none=True)
    revision = fields.Nested(LatestRevisionOut, allow_none=True)
    lots = fields.List(fields.Nested(LotStandingOut))
    results = fields.Function(
        lambda r: BidResultsOut().dump(r.results._asdict()) if r.results is not None else None
    )


class PageOut(Schema):
    items = fields.List(fields.Nested(RowOut), attribute="rows")
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
