"""marshmallow schemas of the approvals API: settings, requests, decisions, the timeline."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from approvals.rules import ACTIONS, COMMENT_MAX, MAX_APPROVERS, STATES, STEPS, TENDER_ACTIONS
from bids.schemas import OfferIn
from core.fields import InputSchema


class SettingsIn(InputSchema):
    """What an administrator puts under approval (fields left out keep their value)."""

    publication = fields.Boolean()
    approvers = fields.Integer(validate=validate.Range(min=1, max=MAX_APPROVERS))
    other_approver = fields.Boolean()
    bids = fields.Boolean()


class SettingsOut(Schema):
    publication = fields.Boolean(
        metadata={"description": "Publication, amendments and cancellation need approval."}
    )
    approvers = fields.Integer(metadata={"description": "How many different managers approve."})
    other_approver = fields.Boolean(
        metadata={"description": "The requester may not approve its own request."}
    )
    bids = fields.Boolean(metadata={"description": "A bid payload needs approval to be signed."})
    managers = fields.Integer(metadata={"description": "Members who may approve."})


class TenderRequestIn(InputSchema):
    """Send a draft (publish), an amendment or a cancellation for approval."""

    action = fields.String(required=True, validate=validate.OneOf(TENDER_ACTIONS))
    comment = fields.String(load_default="", validate=validate.Length(max=COMMENT_MAX))
    # For "amend": the amendment as POST /tenders/{id}/amendments takes it.
    amendment = fields.Dict(load_default=dict)
    # For "cancel": the reason.
    reason = fields.String(validate=validate.Length(max=2000))


class BidRequestIn(OfferIn):
    """The offer as POST .../bid/prepare takes it, with a comment for the manager."""

    comment = fields.String(load_default="", validate=validate.Length(max=COMMENT_MAX))


class ApprovalDecisionIn(InputSchema):
    """A manager's decision: `version` is the hash the manager saw (optional: when given,
    a different one is refused)."""

    comment = fields.String(load_default="", validate=validate.Length(max=COMMENT_MAX))
    version = fields.String(validate=validate.Regexp(r"^[0-9a-f]{6,64}$"))


class StepOut(Schema):
    kind = fields.String(metadata={"enum": list(STEPS)})
    user_id = fields.Integer(allow_none=True)
    user = fields.Function(lambda s: s.user.name if s.user else None)
    comment = fields.String()
    at = fields.DateTime()


class RequestOut(Schema):
    id = fields.Integer()
    tender_id = fields.Integer()
    action = fields.String(metadata={"enum": list(ACTIONS)})
    state = fields.String(metadata={"enum": list(STATES)})
    version = fields.String(metadata={"description": "SHA-256 of what is approved."})
    required = fields.Integer()
    approvals = fields.Integer()
    other_approver = fields.Boolean()
    comment = fields.String()
    requested_by_id = fields.Integer()
    requested_by = fields.Function(lambda r: r.requested_by.name if r.requested_by else None)
    requested_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    content = fields.Dict(
        metadata={"description": "The amendment, cancellation or bid payload approved."}
    )
    steps = fields.List(fields.Nested(StepOut))
