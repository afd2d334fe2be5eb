"""Approval use cases: an organization's settings; sending a draft, an amendment, a
cancellation or a bid payload for approval; approving and returning; the timeline; and the
guards that tenders and bids consult (approvals/guards.py) before they publish, amend,
cancel or accept a signed revision. Services flush; the entrypoint commits once."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import selectinload

from accounts.models import Membership, Organization, User
from accounts.service import (
    holders,
    membership,
    require_member,
    require_right,
    require_sight,
)
from approvals import rules
from approvals.models import ApprovalRequest, ApprovalSettings, ApprovalStep
from audit.service import record
from bids import service as bids
from bids.models import Bid, BidRevision
from core import clock
from core.api import flatten_messages, translate
from core.chains import tender_chain
from core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from core.events import record_event
from core.extensions import db
from core.transaction import lock
from positions.models import Position
from signatures import canonical
from tenders import rules as tender_rules
from tenders import schemas as tender_schemas
from tenders import service as tenders
from tenders.models import Tender


def refusal(refused: rules.Refusal) -> DomainError:
    """The error of a rule's refusal: its status, its stable code, its sentence."""
    kind = {403: Forbidden, 409: Conflict, 422: Invalid}[refused.status]
    error = kind(refused.message)
    error.code = refused.code
    return error


def _conflict(code: str, message) -> Conflict:
    error = Conflict(message)
    error.code = code
    return error


# -- settings --------------------------------------------------------------------------------


def settings_row(org_id: int) -> ApprovalSettings | None:
    """The organization's stored settings (None: the defaults, no approval)."""
    return db.session.get(ApprovalSettings, org_id)


def settings_of(org_id: int) -> rules.Settings:
    """The organization's settings as the rules take them."""
    row = settings_row(org_id)
    return row.rules() if row is not None else rules.Settings()


def managers(org_id: int) -> list[Membership]:
    """The members who may approve (holders of the "approve" right)."""
    return holders(org_id, "approve")


def save_settings(user: User, org: Organization | None, data: dict) -> ApprovalSettings:
    """An administrator sets what needs approval; audited in the platform chain."""
    if org is None:
        raise Forbidden(_("Choose an organization first."))
    require_right(user, org.id, "administer")
    current = settings_of(org.id)
    wanted = rules.Settings(
        publication=data.get("publication", current.publication),
        approvers=data.get("approvers", current.approvers),
        other_approver=data.get("other_approver", current.other_approver),
        bids=data.get("bids", current.bids),
    )
    problems = rules.settings_problems(wanted, len(managers(org.id)))
    if problems:
        raise Invalid(_("The approval settings were not saved."), problems)
    row = settings_row(org.id) or ApprovalSettings(organization_id=org.id)
    row.publication, row.approvers = wanted.publication, wanted.approvers
    row.other_approver, row.bids = wanted.other_approver, wanted.bids
    row.updated_by_id, row.updated_at = user.id, clock.now()
    db.session.add(row)
    db.session.flush()
    record(
        "organization.approval_settings",
        "organization",
        org.id,
        {
            "publication": wanted.publication,
            "approvers": wanted.approvers,
            "other_approver": wanted.other_approver,
            "bids": wanted.bids,
        },
        actor_user_id=user.id,
        actor_org_id=org.id,
    )
    return row


# -- versions: what exactly is approved --------------------------------------------------------


def _plain(value):
    """JSON values for hashing: decimals and moments as strings, in a stable shape."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 95.50 and 95.5 are one value on every database
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return value


_POSITION_FIELDS = (
    "number",
    "name",
    "specification",
    "category_code",
    "quantity",
    "unit_code",
    "max_unit_price",
    "delivery_place",
    "delivery_date",
)


def draft_content(tender: Tender) -> dict:
    """Everything of a draft that publication makes public: header, categories, lots,
    positions, criteria and documents (by SHA-256)."""
    positions: dict[int, list] = {}
    rows = db.session.execute(
        select(Position.lot_id, *(getattr(Position, f) for f in _POSITION_FIELDS))
        .where(Position.tender_id == tender.id)
        .order_by(Position.lot_id, Position.sort_key)
    )
    for lot_id, *values in rows:
        positions.setdefault(lot_id, []).append(dict(zip(_POSITION_FIELDS, values, strict=True)))
    return _plain(
        {
            "header": {k: getattr(tender, k) for k in tenders.HEADER_FIELDS},
            "categories": sorted(c.code for c in tender.categories),
            "lots": [
                {
                    "number": lot.number,
                    "title": lot.title,
                    "award_mode": lot.award_mode,
                    "price_weight": lot.price_weight,
                    "positions": positions.get(lot.id, []),
                    "criteria": [
                        {
                            "name": c.name,
                            "kind": c.kind,
                            "unit": c.unit,
                            "required": c.required,
                            "weight": c.weight,
                            "direction": c.direction,
                            "min_value": c.min_value,
                            "max_value": c.max_value,
                            "options": [[o.label, o.score] for o in c.options],
                        }
                        for c in lot.criteria
                    ],
                }
                for lot in tender.lots
            ],
            "documents": sorted([d.filename, d.sha256] for d in tender.documents),
        }
    )


def version_of(content: dict) -> str:
    """The SHA-256 of the content's canonical JSON (RFC 8785): the version approved."""
    return canonical.digest_hex(_plain(content))


def draft_version(tender: Tender) -> str:
    """The version of a draft as it is now."""
    return version_of(draft_content(tender))


def amendment_content(data: dict) -> dict:
    """What an amendment changes, as loaded by tenders.schemas.AmendmentIn."""
    return _plain({"amendment": {k: v for k, v in data.items() if k != "timezone"}})


def cancellation_content(reason: str) -> dict:
    """What a cancellation says."""
    return {"cancellation": {"reason": reason.strip()}}


# -- requests ---------------------------------------------------------------------------------


def _open_requests(org_id: int, tender_id: int, action: str) -> list[ApprovalRequest]:
    return list(
        db.session.execute(
            select(ApprovalRequest).where(
                ApprovalRequest.organization_id == org_id,
                ApprovalRequest.tender_id == tender_id,
                ApprovalRequest.action == action,
                ApprovalRequest.state.in_(rules.OPEN_STATES),
            )
        ).scalars()
    )


def _audit(req: ApprovalRequest, action: str, user: User | None, payload: dict) -> None:
    record(
        action,
        "approval",
        req.id,
        {"action": req.action, "version": req.version, **payload},
        actor_user_id=user.id if user else None,
        actor_org_id=req.organization_id,
        chain=tender_chain(req.tender_id),
    )


def _step(req: ApprovalRequest, kind: str, user: User | None, comment: str = "") -> None:
    req.steps.append(ApprovalStep(kind=kind, user_id=user.id if user else None, comment=comment))


def _comment(comment: str | None, *, required: bool) -> str:
    problem = rules.comment_problem(comment or "", required=required)
    if problem:
        raise Invalid(problem, {"comment": problem})
    return (comment or "").strip()


def _event_kind(action: str, what: str) -> str:
    """The domain event of a step: notifications tell the managers or the author."""
    return f"{'bid_approval' if action == 'bid' else 'approval'}.{what}"


def _create(
    user: User,
    org_id: int,
    tender: Tender,
    action: str,
    version: str,
    content: dict,
    comment: str,
    settings: rules.Settings,
) -> ApprovalRequest:
    for older in _open_requests(org_id, tender.id, action):
        older.state, older.decided_at = "superseded", clock.now()
        _step(older, "superseded", user)
        _audit(older, "approval.superseded", user, {})
    req = ApprovalRequest(
        organization_id=org_id,
        tender_id=tender.id,
        action=action,
        state="pending",
        version=version,
        content=content,
        required=rules.required_approvals(action, settings),
        other_approver=settings.other_approver,
        comment=comment,
        requested_by_id=user.id,
    )
    db.session.add(req)
    db.session.flush()
    _step(req, "requested", user, comment)
    _audit(req, "approval.requested", user, {"comment": comment, "required": req.required})
    deciders = [
        m.user_id
        for m in managers(org_id)
        if not (settings.other_approver and m.user_id == user.id)
    ]
    record_event(
        _event_kind(action, "requested"),
        tender.id,
        {
            "number": tender.number,
            "request_id": req.id,
            "action": action,
            "recipients": deciders,
            "by": user.name,
            "summary": comment,
        },
    )
    return req


def send_tender(
    user: User,
    org: Organization | None,
    tender_id: int,
    action: str,
    comment: str = "",
    change: dict | None = None,
) -> ApprovalRequest:
    """Send a draft (publish), an amendment (change: AmendmentIn's data, raw) or a
    cancellation (change: {"reason"}) of the organization's tender for approval."""
    if action not in rules.TENDER_ACTIONS:
        raise Invalid(_("Unknown action."), {"action": _("Use publish, amend or cancel.")})
    tender = tenders.own_tender(user, org, tender_id)  # "prepare", on this tender
    comment = _comment(comment, required=False)
    settings = settings_of(org.id)
    if not rules.needs_approval(action, settings):
        raise _conflict(
            "approval_not_required",
            _("Your organization does not require approval for this: do it directly."),
        )
    if action == "publish":
        tenders._require_draft(tender)
        problems = tender_rules.publication_problems(tender, clock.now())
        if problems:
            fields: dict[str, list[str]] = {}
            for field, message in problems:
                fields.setdefault(field, []).append(message)
            raise Invalid(_("Fix the draft before sending it for approval."), fields)
        content, stored = draft_content(tender), {}
    else:
        if tender.status != "published":
            raise Conflict(_("Only a published tender is amended or cancelled this way."))
        stored = _load_change(action, change or {})
        content = _change_content(action, stored)
    return _create(user, org.id, tender, action, version_of(content), stored, comment, settings)


def _load_change(action: str, raw: dict) -> dict:
    """The amendment or cancellation as sent (validated now; stored as sent)."""
    schema = tender_schemas.AmendmentIn() if action == "amend" else tender_schemas.CancelIn()
    errors = schema.validate(raw)
    if errors:
        raise Invalid(_("The request has invalid fields."), flatten_messages(errors))
    return {k: v for k, v in raw.items() if v not in (None, "", {})}


def _change_content(action: str, raw: dict) -> dict:
    if action == "amend":
        return amendment_content(tender_schemas.AmendmentIn().load(raw))
    return cancellation_content(tender_schemas.CancelIn().load(raw)["reason"])


def send_bid(
    user: User, org: Organization | None, tender_id: int, offer: dict, comment: str = ""
) -> ApprovalRequest:
    """Send a prepared offer (its exact canonical payload) to the managers for approval."""
    prepared = bids.prepare(user, org, tender_id, offer)  # every check of the offer
    require_right(user, org.id, "prepare")
    comment = _comment(comment, required=False)
    settings = settings_of(org.id)
    if not rules.needs_approval("bid", settings):
        raise _conflict(
            "approval_not_required",
            _("Your organization does not require approval of bids: sign and submit directly."),
        )
    tender = db.session.get(Tender, tender_id)
    stored = {"payload": prepared["payload"], "offer": _plain(offer)}
    return _create(user, org.id, tender, "bid", prepared["digest_hex"], stored, comment, settings)


def _request(
    user: User, org: Organization | None, request_id: int
) -> tuple[ApprovalRequest, Membership]:
    """A request of the user's organization, locked for the decision, and the membership."""
    req = lock(ApprovalRequest, request_id)
    if req is None:
        raise NotFound(_("No such approval request."))
    if org is None or req.organization_id != org.id:
        raise Forbidden(_("This approval request belongs to another organization."))
    return req, require_member(user, org.id)


def _current_version(req: ApprovalRequest) -> str | None:
    """The version of the object as it is now, where it can still change (a draft)."""
    if req.action != "publish":
        return None
    tender = db.session.get(Tender, req.tender_id)
    return draft_version(tender) if tender.status == "draft" else None


def _bid_moved(req: ApprovalRequest) -> bool:
    """Whether the bid got a revision after this payload was prepared (it cannot be signed)."""
    if req.action != "bid":
        return False
    payload = req.content.get("payload", {})
    bid = db.session.execute(
        select(Bid).where(
            Bid.tender_id == req.tender_id, Bid.organization_id == req.organization_id
        )
    ).scalar_one_or_none()
    now = (bid.revision_count, bid.last_hash or "") if bid else (0, "")
    return (payload.get("revision", 1) - 1, payload.get("previous", "")) != now


def decide(
    user: User,
    org: Organization | None,
    request_id: int,
    approve: bool,
    comment: str = "",
    version: str | None = None,
) -> ApprovalRequest:
    """A manager approves the exact version sent, or returns it with a mandatory comment."""
    req, member = _request(user, org, request_id)
    if req.action != "bid":
        tenders.own_tender(user, org, req.tender_id)  # the tender's lock orders the decisions
    comment = _comment(comment, required=not approve)
    refused = rules.decision_refusal(
        state=req.state,
        requested_by=req.requested_by_id,
        actor=user.id,
        may_approve=member.may("approve"),
        already_approved=approve
        and any(s.kind == "approved" and s.user_id == user.id for s in req.steps),
        other_approver=req.other_approver,
        request_version=req.version,
        current_version=_current_version(req) if approve else None,
        claimed_version=version,
    )
    if refused is not None:
        raise refusal(refused)
    if approve and _bid_moved(req):
        raise _conflict(
            "approval_stale",
            _(
                "The bid got a new revision after payload %(version)s was prepared: it can "
                "no longer be signed. Prepare the offer and send it again.",
                version=req.version[:12],
            ),
        )
    tender = db.session.get(Tender, req.tender_id)
    if approve:
        _step(req, "approved", user, comment)
        req.state = rules.state_after_approval(req.approvals, req.required)
        _audit(req, "approval.approved", user, {"comment": comment, "state": req.state})
    else:
        _step(req, "returned", user, comment)
        req.state = "returned"
        _audit(req, "approval.returned", user, {"comment": comment})
    if req.state != "pending":
        req.decided_at = clock.now()
        record_event(
            _event_kind(req.action, req.state),
            tender.id,
            {
                "number": tender.number,
                "request_id": req.id,
                "action": req.action,
                "recipients": [req.requested_by_id],
                "by": user.name,
                "summary": comment,
            },
        )
    db.session.flush()
    return req


def carry_out(user: User, org: Organization | None, request_id: int):
    """Carry out an approved amendment or cancellation exactly as it was approved."""
    req, _member = _request(user, org, request_id)
    require_right(user, org.id, "prepare")
    if req.action not in ("amend", "cancel"):
        raise Conflict(_("Only an approved amendment or cancellation is carried out this way."))
    if req.state != "approved":
        raise _conflict(
            "approval_required",
            _(
                "This request is %(state)s, not approved.",
                state=translate(rules.STATE_WORDS.get(req.state, req.state)),
            ),
        )
    if req.action == "amend":
        return tenders.amend(
            user, org, req.tender_id, tender_schemas.AmendmentIn().load(req.content)
        )
    return tenders.cancel(user, org, req.tender_id, req.content["reason"])


# -- guards (approvals/guards.py connects them to the tenders' and bids' signals) -------------


def _approved(org_id: int, tender_id: int, action: str) -> list[ApprovalRequest]:
    return list(
        db.session.execute(
            select(ApprovalRequest).where(
                ApprovalRequest.organization_id == org_id,
                ApprovalRequest.tender_id == tender_id,
                ApprovalRequest.action == action,
                ApprovalRequest.state == "approved",
            )
        ).scalars()
    )


def check_tender_change(tender: Tender, user: User, action: str, content: dict | None) -> None:
    """Refuse publishing, amending or cancelling a tender whose organization requires
    approval, unless this exact version is approved; mark the approval carried out."""
    settings = settings_of(tender.customer_id)
    required = rules.required_approvals(action, settings)
    if required == 0:
        return
    if action == "publish":
        version = draft_version(tender)
    elif action == "amend":
        version = version_of(amendment_content(content or {}))
    else:
        version = version_of(cancellation_content((content or {}).get("reason", "")))
    approved = _approved(tender.customer_id, tender.id, action)
    problem = rules.use_refusal(
        required=required,
        approved_versions={r.version for r in approved},
        current_version=version,
        action=action,
    )
    if problem is not None:
        raise _conflict("approval_required", problem)
    for req in approved:
        if req.version == version:
            req.state = "done"
            _step(req, "done", user)
            _audit(req, "approval.carried_out", user, {})


@functools.cache
def _signing_query():
    """The member's roles, the organization's bid setting and its approved payload hashes on
    the tender, in one statement (built once, as every submit runs it)."""
    member, org = bindparam("user"), bindparam("org")
    return (
        select(Membership.roles, ApprovalSettings.bids, ApprovalRequest.version)
        .select_from(Membership)
        .outerjoin(ApprovalSettings, ApprovalSettings.organization_id == Membership.organization_id)
        .outerjoin(
            ApprovalRequest,
            (ApprovalRequest.organization_id == Membership.organization_id)
            & (ApprovalRequest.tender_id == bindparam("tender"))
            & (ApprovalRequest.action == "bid")
            & (ApprovalRequest.state == "approved")
            & (ApprovalSettings.bids.is_(True)),
        )
        .where(Membership.user_id == member, Membership.organization_id == org)
    )


def check_bid_signing(tender: Tender, user: User, org: Organization, payload: dict) -> None:
    """Refuse a bid payload that needs a manager's approval and has none; a manager signs
    directly. One indexed lookup: the member's roles, the setting and the approved versions."""
    rows = db.session.execute(
        _signing_query(), {"user": user.id, "org": org.id, "tender": tender.id}
    ).all()
    if not rows or not rows[0][1]:
        return  # no approval required (or not a member: the bidder check refuses that)
    if rules.may_sign_directly(rows[0][0]):
        return
    if payload.get("rebidding"):
        # An improved offer of a re-bidding round is not sent for approval: a manager, who
        # needs none, signs it (the round lasts hours; the setting still holds).
        raise _conflict(
            "approval_required",
            _(
                "Your organization requires a manager's approval of every bid: in a "
                "re-bidding round a manager of the organization signs the improved offer."
            ),
        )
    version = canonical.digest_hex(payload)
    problem = rules.use_refusal(
        required=1,
        approved_versions={r[2] for r in rows if r[2]},
        current_version=version,
        action="bid",
    )
    if problem is not None:
        raise _conflict("approval_required", problem)


# -- reading -----------------------------------------------------------------------------------


def requests_of(org_id: int, tender_id: int, actions) -> list[ApprovalRequest]:
    """An organization's requests about a tender, newest first (the timeline)."""
    return list(
        db.session.execute(
            select(ApprovalRequest)
            .where(
                ApprovalRequest.organization_id == org_id,
                ApprovalRequest.tender_id == tender_id,
                ApprovalRequest.action.in_(list(actions)),
            )
            .order_by(ApprovalRequest.id.desc())
            .options(selectinload(ApprovalRequest.steps))  # the timeline shows them all
        ).scalars()
    )


def visible_request(user: User, org: Organization | None, request_id: int) -> ApprovalRequest:
    """A request of the user's organization (to read), about a tender or a bid the member
    sees (a specialist: those it is responsible for; accounts.rules.sees)."""
    req = db.session.get(ApprovalRequest, request_id)
    if req is None:
        raise NotFound(_("No such approval request."))
    if org is None or req.organization_id != org.id:
        raise Forbidden(_("This approval request belongs to another organization."))
    if req.action == "bid":
        _require_bid_sight(user, org, req.tender_id, req.requested_by_id)
    else:
        tenders.own_tender(user, org, req.tender_id, for_update=False)  # right "see"
    return req


def _require_bid_sight(
    user: User, org: Organization, tender_id: int, requested_by: int | None = None
) -> None:
    """Refuse a member who does not see the organization's bid on the tender (any member
    sees the requests made before the bid exists, as bids.service.sees_bid says)."""
    bid = bids.own_bid(org, tender_id)
    if bid is None:
        require_member(user, org.id)
    else:
        require_sight(user, org.id, {bid.responsible_id, requested_by})


def tender_timeline(user: User, org: Organization | None, tender_id: int) -> list[ApprovalRequest]:
    """The approval requests of the organization's tender, newest first."""
    tender = tenders.own_tender(user, org, tender_id, for_update=False)
    return requests_of(org.id, tender.id, rules.TENDER_ACTIONS)


def bid_timeline(user: User, org: Organization | None, tender_id: int) -> list[ApprovalRequest]:
    """The approval requests of the organization's bid on a tender, newest first."""
    if org is None:
        raise Forbidden(_("Choose an organization first."))
    tenders.visible_tender(tenders.get_tender(tender_id), org)
    _require_bid_sight(user, org, tender_id)
    return requests_of(org.id, tender_id, ("bid",))


def waiting_for(
    user: User, org: Organization | None, listed: bool = False
) -> list[ApprovalRequest]:
    """Requests of the organization waiting for this manager's decision; `listed`: with their
    tenders and senders loaded in the same round trip (the list shows them; the header's
    counter needs only how many)."""
    if org is None:
        return []
    member = membership(user, org.id)
    if member is None or not member.may("approve"):
        return []
    loads = [selectinload(ApprovalRequest.steps)]  # read below for each request
    if listed:
        loads += [selectinload(ApprovalRequest.tender), selectinload(ApprovalRequest.requested_by)]
    found = db.session.execute(
        select(ApprovalRequest)
        .where(ApprovalRequest.organization_id == org.id, ApprovalRequest.state == "pending")
        .order_by(ApprovalRequest.id)
        .options(*loads)
    ).scalars()
    return [
        r
        for r in found
        if not (r.other_approver and r.requested_by_id == user.id)
        and not any(s.kind == "approved" and s.user_id == user.id for s in r.steps)
    ]


def signed_revisions(requests: list[ApprovalRequest]) -> dict[int, BidRevision]:
    """The bid revisions signed from these approved payloads, by request id: one query over
    the organization's bid on the tender (the requests are one organization's on one tender)."""
    approved = [r for r in requests if r.action == "bid" and r.state == "approved"]
    if not approved:
        return {}
    first = approved[0]
    found = {
        rev.payload_hash: rev
        for rev in db.session.execute(
            select(BidRevision)
            .join(Bid, Bid.id == BidRevision.bid_id)
            .where(
                Bid.organization_id == first.organization_id,
                Bid.tender_id == first.tender_id,
                BidRevision.payload_hash.in_({r.version for r in approved}),
            )
        ).scalars()
    }
    return {r.id: found.get(r.version) for r in approved}
