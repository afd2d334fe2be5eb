"""marshmallow schemas of the commission's API: the commission, the decision, votes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.fields import MAX_ID, InputSchema
from results.commission_rules import COMMENT_MAX, MEMBERS_MAX, OUTCOMES, REASON_MAX, VOTES


class CommissionIn(InputSchema):
    """The commission: user ids of members of the customer organization, and the chair."""

    members = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=MAX_ID)),
        required=True,
        validate=validate.Length(min=1, max=MEMBERS_MAX),
    )
    chair = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))


class DecisionItemIn(InputSchema):
    """One unit's decision: confirm the ranking, choose a participant, or unsuccessful."""

    lot = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    position = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=20)
    )
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    participant = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=MAX_ID)
    )
    reason = fields.String(load_default="", validate=validate.Length(max=REASON_MAX))


class DecisionIn(InputSchema):
    """Prepare the decision: the exceptions to set (confirm removes one; may be empty)."""

    items = fields.List(
        fields.Nested(DecisionItemIn), load_default=list, validate=validate.Length(max=10_000)
    )


class VoteIn(InputSchema):
    vote = fields.String(required=True, validate=validate.OneOf(VOTES))
    comment = fields.String(load_default="", validate=validate.Length(max=COMMENT_MAX))


class CommissionMemberOut(Schema):
    user_id = fields.Integer()
    name = fields.String()
    email = fields.String()
    chair = fields.Boolean(attribute="is_chair")


class DeviationOut(Schema):
    lot = fields.Integer()
    position = fields.String(allow_none=True)
    name = fields.String()
    outcome = fields.String()
    winner = fields.Integer(attribute="winner_participant", allow_none=True)
    winner_name = fields.String(allow_none=True)
    ranked_first = fields.Integer(attribute="top_participant", allow_none=True)
    ranked_first_name = fields.String(attribute="top_name", allow_none=True)
    reason = fields.String()
    problem = fields.String(allow_none=True)


class VoteOut(Schema):
    user_id = fields.Integer()
    name = fields.String()
    vote = fields.String(attribute="choice")
    comment = fields.String()
    cast_at = fields.AwareDateTime()


class TallyOut(Schema):
    members = fields.Integer()
    votes_for = fields.Integer(data_key="for")
    votes_against = fields.Integer(data_key="against")
    pending = fields.Integer()
    needed = fields.Integer()
    majority = fields.Boolean()


class DecisionOut(Schema):
    """The commission and the decision as they stand; status not_prepared, voting, changed
    (prepare again: the ranking moved) or approved."""

    status = fields.String()
    members = fields.List(fields.Nested(CommissionMemberOut))
    default_members = fields.Boolean()
    editable = fields.Boolean()
    digest = fields.String(allow_none=True)
    prepared_digest = fields.String(allow_none=True)
    prepared_at = fields.AwareDateTime(allow_none=True)
    prepared_by = fields.String(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    closed_by = fields.String(allow_none=True)
    units = fields.Integer()
    deviations = fields.List(fields.Nested(DeviationOut))
    problems = fields.List(fields.String())
    votes = fields.List(fields.Nested(VoteOut))
    tally = fields.Nested(TallyOut)


class PublishedMemberOut(Schema):
    user_id = fields.Integer()
    name = fields.String()
    chair = fields.Boolean(attribute="is_chair")


class PublishedDecisionOut(DecisionOut):
    """The decision as published with the results: who voted how, without email addresses."""

    members = fields.List(fields.Nested(PublishedMemberOut))

    class Meta:
        exclude = ("editable", "default_members", "problems")
