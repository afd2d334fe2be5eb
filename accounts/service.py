"""Account use cases: registration, confirmation, login, accreditation, members, API tokens.

Services flush; the entrypoint commits once.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import bindparam, func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from accounts.models import (
    ApiToken,
    Invitation,
    LoginThrottle,
    Membership,
    Organization,
    OrganizationChange,
    User,
)
from accounts.rules import (
    TOKEN_PREFIX,
    check_org_identifiers,
    hash_token,
    lockout_seconds,
    merge_pending,
    new_token_text,
    password_problems,
    split_for_review,
)
from audit.service import record
from core import clock, jobs, live
from core.errors import Conflict, Forbidden, Invalid, NotFound, TooManyAttempts, Unauthorized
from core.extensions import db
from core.http import external_url
from core.transaction import lock
from notifications.delivery import add_to_inbox
from notifications.service import queue_mail

_hasher = PasswordHasher()
# Verified against when the email is unknown, so timing does not reveal which emails exist.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
THROTTLE_MEMORY = dt.timedelta(hours=1)
PROFILE_EDITABLE = ("name", "kpp", "ogrn", "region_code", "is_sme")


# -- passwords and signed links ---------------------------------------------------------


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    """Verify a password in constant-ish time, also for unknown users."""
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and bool(user)
    except (VerificationError, InvalidHashError):
        return False


class _ClockSigner(TimestampSigner):
    """Link timestamps and expiry follow the platform clock (movable in tests)."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"accounts.{purpose}", signer=_ClockSigner
    )


def make_link_token(purpose: str, payload: dict) -> str:
    """A signed, timestamped token for a mailed link."""
    return _serializer(purpose).dumps(payload)


def read_link_token(purpose: str, token: str, max_age: int) -> dict:
    """Decode a mailed link's token or refuse it with a clear reason."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise Invalid("This link has expired; ask for a new one.") from None
    except BadSignature:
        raise Invalid("This link is not valid.") from None


def normalize_email(email: str) -> str:
    """Emails are compared in lower case without surrounding spaces."""
    return email.strip().lower()


def user_by_email(email: str) -> User | None:
    """Find a user by email."""
    return db.session.execute(
        select(User).where(User.email == normalize_email(email))
    ).scalar_one_or_none()


# -- registration -----------------------------------------------------------------------


def register(data: dict) -> Organization | None:
    """Register an organization and its admin (both unconfirmed), or mail why not (None)."""
    # A known address or INN must not change the answer: see docs/security.md.
    password_hash = hash_password(data["password"])  # always: the time taken tells nothing
    _refuse_unknown_categories(data.get("categories") or [])
    if _mailed_known(data):
        return None
    org = Organization(
        name=data["org_name"],
        inn=data["inn"],
        kpp=data.get("kpp") or None,
        ogrn=data.get("ogrn") or None,
        region_code=data["region_code"],
        is_sme=data.get("is_sme", False),
        is_customer="customer" in data["roles"],
        is_supplier="supplier" in data["roles"],
        accreditation_status="pending",
    )
    user = User(
        email=normalize_email(data["email"]), name=data["name"], password_hash=password_hash
    )
    if data.get("marketing_consent"):
        user.marketing_consent_at = clock.now()  # the moment of the opt-in, as evidence
    try:
        with db.session.begin_nested():
            db.session.add_all([org, user])
            db.session.flush()
    except IntegrityError:
        # The same address or INN committed meanwhile (a double submit): answer as if known.
        if _mailed_known(data):
            return None
        raise
    db.session.add(Membership(user_id=user.id, organization_id=org.id, role="admin"))
    _declare_at_registration(org, user, data.get("categories") or [])
    record(
        "organization.registered",
        "organization",
        org.id,
        {"inn": org.inn, "name": org.name, "roles": org.roles},
        actor_user_id=user.id,
        actor_org_id=org.id,
    )
    record(
        "user.registered",
        "user",
        user.id,
        {"email": user.email},
        actor_user_id=user.id,
        actor_org_id=org.id,
    )
    send_confirmation(user)
    return org


def _mailed_known(data: dict) -> bool:
    """Mail the explanation if the address or the INN is already registered."""
    existing = user_by_email(data["email"])
    if existing is not None:
        _mail_registration_attempt(existing)
        return True
    if db.session.execute(select(Organization.id).where(Organization.inn == data["inn"])).first():
        queue_mail(
            normalize_email(data["email"]),
            "organization_exists",
            subject="Your organization is already registered",
            inn=data["inn"],  # no name: the submitted text never reaches another's mailbox
        )
        return True
    return False


def _refuse_unknown_categories(codes: list[str]) -> None:
    from positions import classifiers

    unknown = [c for c in codes if classifiers.category(c) is None]
    if unknown:
        raise Invalid(
            "Registration refused.", {"categories": f"Unknown codes: {', '.join(unknown)}"}
        )


def _mail_registration_attempt(user: User) -> None:
    """Tell an account's owner someone registered with the address, with a reset link."""
    if user.disabled:
        return
    token = make_link_token("reset", {"u": user.id, "v": user.session_version})
    queue_mail(
        user.email,
        "registration_attempt",
        subject="Someone tried to register with your address",
        user_id=user.id,
        user=user,
        login_link=external_url("accounts.login"),
        link=external_url("accounts.reset_password", token=token),
    )


def _declare_at_registration(org: Organization, user: User, codes: list[str]) -> None:
    """A supplier's declared categories become its admin's default subscription."""
    from notifications.subscriptions import sync_default

    if codes and org.is_supplier:
        org.declared_categories = sorted(set(codes))
        sync_default(org, user)


def send_confirmation(user: User) -> None:
    """Mail a signed, expiring confirmation link."""
    token = make_link_token("confirm", {"u": user.id, "e": user.email})
    queue_mail(
        user.email,
        "confirm_email",
        subject="Confirm your email",
        user_id=user.id,
        user=user,
        link=external_url("accounts.confirm_email", token=token),
    )


def confirm_email(token: str) -> User:
    """Confirm a user's email from a mailed link."""
    data = read_link_token("confirm", token, current_app.config["EMAIL_TOKEN_MAX_AGE"])
    user = db.session.get(User, data.get("u"))
    if user is None or user.email != data.get("e"):
        raise Invalid("This link is not valid.")
    if user.email_confirmed_at is None:
        user.email_confirmed_at = clock.now()
        record(
            "user.email_confirmed", "user", user.id, {"email": user.email}, actor_user_id=user.id
        )
    return user


# -- login and throttling ---------------------------------------------------------------


def _throttle(kind: str, key: str) -> LoginThrottle:
    row = db.session.execute(
        select(LoginThrottle).where(LoginThrottle.kind == kind, LoginThrottle.key == key)
    ).scalar_one_or_none()
    if row is None:
        row = LoginThrottle(kind=kind, key=key, failures=0)
        db.session.add(row)
    return row


def _refuse_if_locked(rows: list[LoginThrottle]) -> None:
    now = clock.now()
    waits = [
        int((r.locked_until - now).total_seconds()) + 1
        for r in rows
        if r.locked_until and r.locked_until > now
    ]
    if waits:
        wait = max(waits)
        raise TooManyAttempts(
            f"Too many failed logins. Try again in {wait} seconds or reset your password.",
            retry_after=wait,
        )


def _count_failure(row: LoginThrottle, threshold: int) -> None:
    now = clock.now()
    if row.last_failure_at and now - row.last_failure_at > THROTTLE_MEMORY:
        row.failures = 0
    row.failures = (row.failures or 0) + 1
    row.last_failure_at = now
    wait = lockout_seconds(row.failures, threshold)
    row.locked_until = now + dt.timedelta(seconds=wait) if wait else None


def authenticate(email: str, password: str, address: str) -> User:
    """Check credentials with per-account and per-address backoff.

    Raises TooManyAttempts while locked (even with the right password), Unauthorized for
    bad credentials (the failure is flushed: the caller must commit it), Forbidden for an
    unconfirmed email or a disabled account.
    """
    cfg = current_app.config
    email = normalize_email(email)
    account = _throttle("account", email)
    by_address = _throttle("address", address or "unknown")
    _refuse_if_locked([account, by_address])
    user = user_by_email(email)
    if not check_password(user, password):
        _count_failure(account, cfg["LOGIN_ACCOUNT_THRESHOLD"])
        _count_failure(by_address, cfg["LOGIN_ADDRESS_THRESHOLD"])
        db.session.flush()
        raise Unauthorized("Wrong email or password.")
    account.failures, account.locked_until = 0, None
    if user.disabled:
        raise Forbidden("This account is disabled.")
    if not user.is_confirmed:
        raise Forbidden("Confirm your email first: follow the link we sent you.")
    user.last_login_at = clock.now()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.session.flush()
    return user


def request_password_reset(email: str) -> None:
    """Mail a reset link if the email is known (the answer never says whether it is)."""
    user = user_by_email(email)
    if user is None or user.disabled:
        return
    token = make_link_token("reset", {"u": user.id, "v": user.session_version})
    queue_mail(
        user.email,
        "reset_password",
        subject="Reset your password",
        user_id=user.id,
        user=user,
        link=external_url("accounts.reset_password", token=token),
    )


def reset_password(token: str, password: str) -> User:
    """Set a new password from a reset link; the link works once."""
    data = read_link_token("reset", token, current_app.config["RESET_TOKEN_MAX_AGE"])
    user = db.session.get(User, data.get("u"))
    if user is None or user.session_version != data.get("v"):
        raise Invalid("This link has already been used or is not valid.")
    problems = password_problems(password, user.email)
    if problems:
        raise Invalid("Choose a stronger password.", {"password": problems})
    user.password_hash = hash_password(password)
    user.session_version += 1  # logs out other sessions, voids the link
    if user.email_confirmed_at is None:  # the link proves the mailbox
        user.email_confirmed_at = clock.now()
    for row in db.session.execute(
        select(LoginThrottle).where(
            LoginThrottle.kind == "account", LoginThrottle.key == user.email
        )
    ).scalars():
        row.failures, row.locked_until = 0, None
    record("user.password_reset", "user", user.id, {}, actor_user_id=user.id)
    return user


# -- organizations, membership, access --------------------------------------------------


def active_organization(user: User, chosen_id: int | None) -> tuple[Organization | None, list]:
    """The organization a user acts for (the chosen one if it is still theirs, else the first
    by name) and all their memberships by organization name."""
    memberships = sorted(user.memberships, key=lambda m: m.organization.name)
    for m in memberships:
        if m.organization_id == chosen_id:
            return m.organization, memberships
    return (memberships[0].organization if memberships else None), memberships


_MEMBERSHIPS = "memberships"  # (user id, org id) -> Membership, known in this session


def membership(user: User, org_id: int) -> Membership | None:
    """The user's membership in an organization, if any."""
    known = db.session.info.get(_MEMBERSHIPS, {}).get((user.id, org_id))
    if known is not None and inspect(known).persistent and known not in db.session.deleted:
        return known  # loaded with the API token in this request
    return db.session.execute(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organization_id == org_id
        )
    ).scalar_one_or_none()


def require_member(user: User, org_id: int, admin: bool = False) -> Membership:
    """Refuse acting for an organization the user does not belong to (or does not admin)."""
    m = membership(user, org_id)
    if m is None:
        raise Forbidden("You are not a member of this organization.")
    if admin and m.role != "admin":
        raise Forbidden("Only an administrator of the organization can do this.")
    return m


def require_accredited(org: Organization | None, role: str) -> Organization:
    """Only accredited organizations in the right role publish tenders or bid."""
    if org is None:
        raise Forbidden("Choose an organization first.")
    if not org.is_accredited:
        raise Forbidden(
            f"{org.name} is not accredited (status: {org.accreditation_status}); "
            "the operator must accredit it first."
        )
    if role not in org.roles:
        raise Forbidden(f"{org.name} is not registered as a {role}.")
    return org


def profile(org: Organization) -> dict:
    """The organization's profile in force, in the shape of accounts.rules.PROFILE_FIELDS."""
    return {
        "name": org.name,
        "kpp": org.kpp,
        "ogrn": org.ogrn,
        "region_code": org.region_code,
        "is_sme": org.is_sme,
        "roles": org.roles,
    }


def _wanted(data: dict) -> dict:
    wanted = {k: (data[k] if data[k] != "" else None) for k in PROFILE_EDITABLE if k in data}
    if "roles" in data:
        wanted["roles"] = sorted(set(data["roles"]))
    return wanted


def _apply_profile(org: Organization, values: dict) -> None:
    for key, value in values.items():
        if key == "roles":
            org.is_customer, org.is_supplier = "customer" in value, "supplier" in value
        else:
            setattr(org, key, value)


def update_organization(user: User, org_id: int, data: dict) -> Organization:
    """An admin edits the profile (the INN is fixed): what the operator verified waits for
    the operator's review as a change request, the rest applies at once."""
    require_member(user, org_id, admin=True)
    org = lock(Organization, org_id)  # serializes the organization's change requests
    wanted = _wanted(data)
    problems = check_org_identifiers(
        org.inn, wanted.get("kpp", org.kpp), wanted.get("ogrn", org.ogrn)
    )
    if problems:
        raise Invalid("The profile has invalid fields.", problems)
    now, later = split_for_review(org.accreditation_status, profile(org), wanted)
    _apply_profile(org, now)
    if now:
        record(
            "organization.updated",
            "organization",
            org.id,
            now,
            actor_user_id=user.id,
            actor_org_id=org.id,
        )
    _request_review(user, org, set(wanted), later)
    db.session.flush()
    db.session.expire(org, ["pending_change"])
    return org


def _request_review(user: User, org: Organization, edited: set[str], review: dict) -> None:
    """Create, update or withdraw the organization's pending change request."""
    pending = org.pending_change
    changes = merge_pending(pending.changes if pending else {}, edited, review)
    if pending is None and not changes:
        return
    if pending is not None and not changes:
        _close_change(pending, "withdrawn", user, "")
        _audit_change(pending, "withdrawn", user, actor_org_id=org.id)
        return
    if pending is not None and pending.changes == changes:
        return
    if pending is None:
        pending = OrganizationChange(organization_id=org.id, changes={}, previous={})
        db.session.add(pending)
    in_force = profile(org)
    pending.changes = changes
    pending.previous = {k: in_force[k] for k in changes}
    pending.requested_by_id, pending.requested_at = user.id, clock.now()
    db.session.flush()
    _audit_change(pending, "requested", user, actor_org_id=org.id)


def _close_change(change: OrganizationChange, status: str, user: User, reason: str) -> None:
    change.status = status
    change.decided_by_id, change.decided_at = user.id, clock.now()
    change.reason = reason or None


def _audit_change(change: OrganizationChange, what: str, user: User, **actor) -> None:
    record(
        f"organization.change_{what}",
        "organization",
        change.organization_id,
        {
            "change_id": change.id,
            "changes": change.changes,
            "previous": change.previous,
            "reason": change.reason or "",
        },
        actor_user_id=user.id,
        **actor,
    )


def withdraw_change(user: User, org_id: int) -> None:
    """An admin withdraws the organization's pending change request."""
    require_member(user, org_id, admin=True)
    org = lock(Organization, org_id)
    pending = org.pending_change if org else None
    if pending is None:
        raise NotFound("No change request is awaiting review.")
    _close_change(pending, "withdrawn", user, "")
    _audit_change(pending, "withdrawn", user, actor_org_id=org_id)
    db.session.flush()


def change_queue() -> list[OrganizationChange]:
    """Change requests waiting for the operator, oldest first."""
    return list(
        db.session.execute(
            select(OrganizationChange)
            .where(OrganizationChange.status == "pending")
            .order_by(OrganizationChange.requested_at, OrganizationChange.id)
        ).scalars()
    )


def decide_change(
    operator: User, change_id: int, accept: bool, reason: str = ""
) -> OrganizationChange:
    """The operator accepts a change request (it takes effect) or rejects it with a reason
    (the profile in force stays); members are told by mail."""
    if not operator.is_operator:
        raise Forbidden("Only the platform operator reviews organization changes.")
    found = db.session.get(OrganizationChange, change_id)
    if found is None:
        raise NotFound("No such change request.")
    org = lock(Organization, found.organization_id)  # the same order as update_organization
    change = lock(OrganizationChange, change_id)
    reason = (reason or "").strip()
    if not accept and not reason:
        raise Invalid("Give a reason for the rejection.", {"reason": "A reason is required."})
    if change.status != "pending":
        raise Conflict(f"This change request is already {change.status}.")
    status = "accepted" if accept else "rejected"
    if accept:
        _apply_profile(org, change.changes)
    _close_change(change, status, operator, reason)
    _audit_change(change, status, operator)
    _tell_members(
        org,
        "organization_change_decision",
        subject=f"{org.name}: profile change {status}",
        inbox_key=f"org-change:{change.id}",
        payload={
            "organization_id": org.id,
            "status": status,
            "reason": reason,
            "message": f"{org.name}: profile change {status}",
        },
        change=change,
        accepted=accept,
        reason=reason,
    )
    db.session.flush()
    db.session.expire(org, ["pending_change"])
    return change


def _tell_members(org: Organization, template: str, *, subject, inbox_key, payload, **context):
    """Mail every member about an operator's decision and put it in their inboxes."""
    for m in org.memberships:
        mail = queue_mail(
            m.user.email,
            template,
            subject=subject,
            user_id=m.user_id,
            org=org,
            link=external_url("accounts.cabinet"),
            **context,
        )
        add_to_inbox(m.user_id, "accreditation.decided", inbox_key, payload, mail.id)


def accreditation_queue() -> list[Organization]:
    """Organizations waiting for the operator, oldest first."""
    return list(
        db.session.execute(
            select(Organization)
            .where(Organization.accreditation_status == "pending")
            .order_by(Organization.created_at, Organization.id)
        ).scalars()
    )


def decide_accreditation(
    operator: User, org_id: int, accredit: bool, reason: str = ""
) -> Organization:
    """The operator accredits or rejects (with a reason) or blocks; members are told by mail."""
    if not operator.is_operator:
        raise Forbidden("Only the platform operator decides accreditation.")
    org = db.session.get(Organization, org_id)
    if org is None:
        raise NotFound("No such organization.")
    reason = (reason or "").strip()
    if not accredit and not reason:
        raise Invalid("Give a reason for the rejection.", {"reason": "A reason is required."})
    new = "accredited" if accredit else "rejected"
    if org.accreditation_status == new:
        raise Conflict(f"The organization is already {new}.")
    previous = org.accreditation_status
    org.accreditation_status = new
    org.accreditation_reason = reason or None
    org.accreditation_decided_at = clock.now()
    record(
        f"organization.{new}",
        "organization",
        org.id,
        {"previous": previous, "reason": reason},
        actor_user_id=operator.id,
    )
    jobs.enqueue("accounts.jobs.push_accreditation", org.id)  # live, from a worker
    _tell_members(
        org,
        "accreditation_decision",
        subject=f"{org.name}: accreditation {new}",
        inbox_key=f"accreditation:{org.id}:{org.accreditation_decided_at.isoformat()}",
        payload={"organization_id": org.id, "status": new, "reason": reason, "message": org.name},
        accredited=accredit,
        reason=reason,
    )
    db.session.flush()
    return org


def members(org_id: int) -> list[Membership]:
    """Members of an organization with their users."""
    return list(
        db.session.execute(
            select(Membership).where(Membership.organization_id == org_id).order_by(Membership.id)
        ).scalars()
    )


def pending_invitations(org_id: int) -> list[Invitation]:
    """Invitations not yet accepted or revoked."""
    return list(
        db.session.execute(
            select(Invitation)
            .where(
                Invitation.organization_id == org_id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
            )
            .order_by(Invitation.id)
        ).scalars()
    )


def invite(inviter: User, org_id: int, email: str, role: str) -> Invitation:
    """An admin invites an email address into the organization."""
    require_member(inviter, org_id, admin=True)
    email = normalize_email(email)
    existing = user_by_email(email)
    if existing and membership(existing, org_id):
        raise Conflict("This person is already a member.", {"email": "Already a member."})
    inv = Invitation(organization_id=org_id, email=email, role=role, invited_by_id=inviter.id)
    db.session.add(inv)
    db.session.flush()
    record(
        "organization.member_invited",
        "organization",
        org_id,
        {"email": email, "role": role},
        actor_user_id=inviter.id,
        actor_org_id=org_id,
    )
    token = make_link_token("invite", {"i": inv.id, "e": email})
    queue_mail(
        email,
        "invitation",
        subject=f"Invitation to {inv.organization.name}",
        inviter=inviter,
        org=inv.organization,
        link=external_url("accounts.accept_invite", token=token),
    )
    return inv


def read_invitation(token: str) -> Invitation:
    """The open invitation a mailed link points to."""
    data = read_link_token("invite", token, current_app.config["INVITE_TOKEN_MAX_AGE"])
    inv = db.session.get(Invitation, data.get("i"))
    if inv is None or inv.email != data.get("e") or inv.revoked_at:
        raise Invalid("This invitation is not valid.")
    if inv.accepted_at:
        raise Invalid("This invitation has already been accepted.")
    return inv


def accept_invitation(token: str, user: User | None, new_user: dict | None = None) -> User:
    """Join the organization: as the logged-in user (same email) or as a new user."""
    inv = read_invitation(token)
    if user is None:
        if user_by_email(inv.email):
            raise Conflict("You already have an account: log in first, then open the link again.")
        problems = password_problems(new_user["password"], inv.email)
        if problems:
            raise Invalid("Choose a stronger password.", {"password": problems})
        user = User(
            email=inv.email,
            name=new_user["name"],
            password_hash=hash_password(new_user["password"]),
            email_confirmed_at=clock.now(),
        )  # the link proves the mailbox
        db.session.add(user)
        db.session.flush()
    elif user.email != inv.email:
        raise Forbidden(f"This invitation is for {inv.email}; you are logged in as {user.email}.")
    if membership(user, inv.organization_id) is None:
        db.session.add(
            Membership(user_id=user.id, organization_id=inv.organization_id, role=inv.role)
        )
        from notifications.subscriptions import sync_default  # the declared categories

        sync_default(inv.organization, user)
    inv.accepted_at = clock.now()
    record(
        "organization.member_joined",
        "organization",
        inv.organization_id,
        {"user_id": user.id, "email": user.email, "role": inv.role},
        actor_user_id=user.id,
        actor_org_id=inv.organization_id,
    )
    db.session.flush()
    return user


def remove_member(admin: User, org_id: int, user_id: int) -> None:
    """An admin removes a member; the last admin cannot be removed."""
    require_member(admin, org_id, admin=True)
    target = db.session.execute(
        select(Membership).where(
            Membership.organization_id == org_id, Membership.user_id == user_id
        )
    ).scalar_one_or_none()
    if target is None:
        raise NotFound("No such member.")
    if target.role == "admin":
        admins = db.session.execute(
            select(func.count())
            .select_from(Membership)
            .where(Membership.organization_id == org_id, Membership.role == "admin")
        ).scalar_one()
        if admins <= 1:
            raise Conflict("The last administrator cannot be removed.")
    db.session.delete(target)
    record(
        "organization.member_removed",
        "organization",
        org_id,
        {"user_id": user_id},
        actor_user_id=admin.id,
        actor_org_id=org_id,
    )
    db.session.flush()
    # Its connections stop hearing what the organization's bids let it see (core/live.py).
    live.visibility_changed(None, live.user_room(user_id))


# -- API tokens -------------------------------------------------------------------------


def create_token(
    user: User, org_id: int | None, name: str, scope: str = "organization"
) -> tuple[ApiToken, str]:
    """Issue a token acting for the user in one organization, or as the platform operator
    (scope "operator", operators only); the plaintext is returned once."""
    if scope == "operator":
        if not user.is_operator:
            raise Forbidden("Only a platform operator can create an operator token.")
        org_id = None
    elif org_id is None:
        raise Forbidden("You are not a member of any organization.")
    else:
        require_member(user, org_id)
    plaintext = new_token_text()
    token = ApiToken(
        user_id=user.id,
        organization_id=org_id,
        scope=scope,
        name=name,
        prefix=plaintext[: len(TOKEN_PREFIX) + 6],
        token_hash=hash_token(plaintext),
    )
    db.session.add(token)
    db.session.flush()
    record(
        "api_token.created",
        "api_token",
        token.id,
        {"name": name, "prefix": token.prefix, "scope": scope},
        actor_user_id=user.id,
        actor_org_id=org_id,
    )
    return token, plaintext


def user_tokens(user: User) -> list[ApiToken]:
    """A user's tokens, newest first."""
    return list(
        db.session.execute(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        ).scalars()
    )


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        record(
            "api_token.revoked",
            "api_token",
            token.id,
            {"prefix": token.prefix},
            actor_user_id=user.id,
            actor_org_id=token.organization_id,
        )
    db.session.flush()
    return token


@functools.cache
def _token_query():
    """One query for the token, its user, its organization and the membership between them:
    every API call starts here, so the statement is built once (on first use, when every
    model is mapped)."""
    return (
        select(ApiToken, Membership)
        .options(joinedload(ApiToken.user), joinedload(ApiToken.organization))
        .outerjoin(
            Membership,
            (Membership.user_id == ApiToken.user_id)
            & (Membership.organization_id == ApiToken.organization_id),
        )
        .where(ApiToken.token_hash == bindparam("token_hash"))
    )


def _check_token_holder(token: ApiToken, member: Membership | None) -> None:
    """The token's user may still act as the token says: read afresh on every call."""
    if token.user.disabled:
        raise Unauthorized("The API token's user is disabled.")
    if token.scope == "operator":
        if not token.user.is_operator:
            raise Unauthorized("The API token's user is no longer a platform operator.")
        return
    if member is None:
        raise Unauthorized("The API token's user can no longer act for its organization.")
    db.session.info.setdefault(_MEMBERSHIPS, {})[(member.user_id, member.organization_id)] = member


def authenticate_token(plaintext: str) -> ApiToken:
    """The live token for a bearer string, or Unauthorized."""
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 100:
        raise Unauthorized("The API token is not valid.")
    row = db.session.execute(_token_query(), {"token_hash": hash_token(plaintext)}).one_or_none()
    token, member = row if row is not None else (None, None)
    if token is None or token.revoked_at is not None:
        raise Unauthorized("The API token is not valid or has been revoked.")
    _check_token_holder(token, member)
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(seconds=60):
        token.last_used_at = now  # at most one write a minute per token
    return token
