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
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from accounts import signals
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
    FOUNDER_ROLES,
    TOKEN_PREFIX,
    acts_on,
    check_org_identifiers,
    check_roles,
    hash_token,
    lockout_seconds,
    merge_pending,
    new_token_text,
    password_problems,
    roles_change_problem,
    sees,
    split_for_review,
)
from audit.service import record
from core import clock, jobs, live
from core.api import translate
from core.errors import Conflict, Forbidden, Invalid, NotFound, TooManyAttempts, Unauthorized
from core.extensions import db
from core.http import external_url
from core.i18n import label, language, supported
from core.mail import queue_mail, recipient_language
from core.transaction import lock
from positions import classifiers

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
        raise Invalid(_("This link has expired; ask for a new one.")) from None
    except BadSignature:
        raise Invalid(_("This link is not valid.")) from None


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
    org = _new_organization(data)
    user = User(
        email=normalize_email(data["email"]),
        name=data["name"],
        password_hash=password_hash,
        locale=language(),  # the language of the page registered on: the mails follow it
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
    _found(org, user, data)
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


def register_another(user: User, data: dict) -> Organization:
    """A logged-in user registers another organization (no second email address): it waits
    for accreditation like any other, the user is its administrator and manager."""
    _refuse_unknown_categories(data.get("categories") or [])
    if db.session.execute(select(Organization.id).where(Organization.inn == data["inn"])).first():
        message = _("An organization with this INN is already registered.")
        raise Conflict(message, {"inn": [message]})
    org = _new_organization(data)
    try:
        with db.session.begin_nested():
            db.session.add(org)
            db.session.flush()
    except IntegrityError:  # the same INN committed meanwhile
        message = _("An organization with this INN is already registered.")
        raise Conflict(message, {"inn": [message]}) from None
    _found(org, user, data, by_member=True)
    db.session.expire(user, ["memberships"])
    return org


def _new_organization(data: dict) -> Organization:
    """The organization of a registration form, waiting for accreditation."""
    return Organization(
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


def _found(org: Organization, user: User, data: dict, **audited) -> None:
    """Its founder becomes administrator and manager; categories declared; audited."""
    db.session.add(Membership(user_id=user.id, organization_id=org.id, roles=list(FOUNDER_ROLES)))
    db.session.flush()
    _declare_at_registration(org, user, data.get("categories") or [])
    record(
        "organization.registered",
        "organization",
        org.id,
        {"inn": org.inn, "name": org.name, "roles": org.roles, **audited},
        actor_user_id=user.id,
        actor_org_id=org.id,
    )


def _mailed_known(data: dict) -> bool:
    """Mail the explanation if the address or the INN is already registered."""
    existing = user_by_email(data["email"])
    if existing is not None:
        _mail_registration_attempt(existing)
        return True
    if db.session.execute(select(Organization.id).where(Organization.inn == data["inn"])).first():
        queue_mail(  # in the language of the page it was tried on
            normalize_email(data["email"]),
            "organization_exists",
            subject=_("Your organization is already registered"),
            inn=data["inn"],  # no name: the submitted text never reaches another's mailbox
        )
        return True
    return False


def _refuse_unknown_categories(codes: list[str]) -> None:
    unknown = [c for c in codes if classifiers.category(c) is None]
    if unknown:
        raise Invalid(
            _("Registration refused."),
            {"categories": _("Unknown codes: %(codes)s", codes=", ".join(unknown))},
        )


def _mail_registration_attempt(user: User) -> None:
    """Tell an account's owner someone registered with the address, with a reset link."""
    if user.disabled:
        return
    token = make_link_token("reset", {"u": user.id, "v": user.session_version})
    with force_locale(recipient_language(user)):
        queue_mail(
            user.email,
            "registration_attempt",
            subject=_("Someone tried to register with your address"),
            user_id=user.id,
            user=user,
            login_link=external_url("accounts.login"),
            link=external_url("accounts.reset_password", token=token),
        )


def _declare_at_registration(org: Organization, user: User, codes: list[str]) -> None:
    """A supplier's declared categories become its admin's default subscription."""
    if codes and org.is_supplier:
        org.declared_categories = sorted(set(codes))
        signals.member_joined.send(org, user=user)


def send_confirmation(user: User) -> None:
    """Mail a signed, expiring confirmation link."""
    token = make_link_token("confirm", {"u": user.id, "e": user.email})
    with force_locale(_own_language(user)):
        queue_mail(
            user.email,
            "confirm_email",
            subject=_("Confirm your email"),
            user_id=user.id,
            user=user,
            link=external_url("accounts.confirm_email", token=token),
        )


def _own_language(user: User) -> str:
    """A mail the user asked for itself: its setting, else the language of its request."""
    return supported(user.locale) or language()


def confirm_email(token: str) -> User:
    """Confirm a user's email from a mailed link."""
    data = read_link_token("confirm", token, current_app.config["EMAIL_TOKEN_MAX_AGE"])
    user = db.session.get(User, data.get("u"))
    if user is None or user.email != data.get("e"):
        raise Invalid(_("This link is not valid."))
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
            _(
                "Too many failed logins. Try again in %(seconds)s seconds or reset your password.",
                seconds=wait,
            ),
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
        raise Unauthorized(_("Wrong email or password."))
    account.failures, account.locked_until = 0, None
    if user.disabled:
        raise Forbidden(_("This account is disabled."))
    if not user.is_confirmed:
        raise Forbidden(_("Confirm your email first: follow the link we sent you."))
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
    with force_locale(_own_language(user)):
        queue_mail(
            user.email,
            "reset_password",
            subject=_("Reset your password"),
            user_id=user.id,
            user=user,
            link=external_url("accounts.reset_password", token=token),
        )


def reset_password(token: str, password: str) -> User:
    """Set a new password from a reset link; the link works once."""
    data = read_link_token("reset", token, current_app.config["RESET_TOKEN_MAX_AGE"])
    user = db.session.get(User, data.get("u"))
    if user is None or user.session_version != data.get("v"):
        raise Invalid(_("This link has already been used or is not valid."))
    problems = password_problems(password, user.email)
    if problems:
        raise Invalid(_("Choose a stronger password."), {"password": problems})
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
    """The organization a user acts for (the chosen one if it is still theirs, else the one
    they joined first: the organization they registered, not one that invited them later)
    and all their memberships by organization name."""
    memberships = sorted(user.memberships, key=lambda m: m.organization.name)
    for m in memberships:
        if m.organization_id == chosen_id:
            return m.organization, memberships
    first = min(memberships, key=lambda m: m.id, default=None)
    return (first.organization if first else None), memberships


_MEMBERSHIPS = "memberships"  # (user id, org id) -> Membership, known in this session


def membership(user: User, org_id: int) -> Membership | None:
    """The user's membership in an organization, if any. Looked up once in a session (a
    request checks rights several times: the roles of the object itself stay current)."""
    known = db.session.info.get(_MEMBERSHIPS, {}).get((user.id, org_id))
    if known is not None and inspect(known).persistent and known not in db.session.deleted:
        return known  # loaded with the API token, or by an earlier check, in this request
    found = db.session.execute(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organization_id == org_id
        )
    ).scalar_one_or_none()
    if found is not None:
        db.session.info.setdefault(_MEMBERSHIPS, {})[(user.id, org_id)] = found
    return found


_RIGHT_REFUSALS = {
    "administer": _l("Only an administrator of the organization can do this."),
    "see_all": _l("Only a manager or an observer of the organization sees this."),
    "prepare": _l("Only a manager or a specialist of the organization can prepare this."),
    "approve": _l("Only a manager of the organization can approve this."),
    "sign": _l("Only a manager or a specialist of the organization can sign this."),
}


def require_member(user: User, org_id: int, admin: bool = False) -> Membership:
    """Refuse acting for an organization the user does not belong to (or does not admin)."""
    return require_right(user, org_id, "administer") if admin else _member(user, org_id)


def _member(user: User, org_id: int) -> Membership:
    m = membership(user, org_id)
    if m is None:
        raise Forbidden(_("You are not a member of this organization."))
    return m


_NOT_IN_CHARGE = {
    "prepare": _l(
        "Only the person responsible for it or a manager of the organization can change this."
    ),
    "sign": _l(
        "Only the person responsible for this bid or a manager of the organization can sign it."
    ),
}


def require_right(
    user: User, org_id: int, right: str, responsible_id: int | None = None
) -> Membership:
    """Refuse a member without the right (accounts.rules.RIGHTS), naming what it needs; with
    responsible_id (of the tender or bid acted on), a specialist acts only on its own."""
    m = _member(user, org_id)
    if not m.may(right):
        raise Forbidden(str(_RIGHT_REFUSALS[right]))
    if not acts_on(m.roles, right, responsible_id, user.id):
        raise Forbidden(str(_NOT_IN_CHARGE.get(right, _NOT_IN_CHARGE["prepare"])))
    return m


def require_sight(user: User, org_id: int, responsible_ids) -> Membership:
    """Refuse a member who may not see this procedure or bid of its organization (a
    specialist sees those it is responsible for or prepared; see accounts.rules.sees)."""
    m = _member(user, org_id)
    if not sees(m.roles, responsible_ids, user.id):
        raise Forbidden(
            _(
                "Only the person responsible for it, a manager or an observer of the "
                "organization sees this."
            )
        )
    return m


def member_sees(user: User | None, org_id: int, responsible_ids) -> bool:
    """Whether the user is a member of the organization who sees this procedure or bid."""
    m = membership(user, org_id) if user is not None and user.is_authenticated else None
    return m is not None and sees(m.roles, responsible_ids, user.id)


def holders(org_id: int, right: str) -> list[Membership]:
    """The organization's members holding the right (its managers for "approve")."""
    return [m for m in members(org_id) if m.may(right)]


def require_accredited(org: Organization | None, role: str) -> Organization:
    """Only accredited organizations in the right role publish tenders or bid."""
    if org is None:
        raise Forbidden(_("Choose an organization first."))
    if not org.is_accredited:
        raise Forbidden(
            _(
                "%(org)s is not accredited (status: %(status)s); "
                "the operator must accredit it first.",
                org=org.name,
                status=label("accreditation", org.accreditation_status),
            )
        )
    if role not in org.roles:
        raise Forbidden(
            _(
                "%(org)s is not registered as a %(role)s.",
                org=org.name,
                role=label("org_role", role),
            )
        )
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
        raise Invalid(_("The profile has invalid fields."), problems)
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
        raise NotFound(_("No change request is awaiting review."))
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
        raise Forbidden(_("Only the platform operator reviews organization changes."))
    found = db.session.get(OrganizationChange, change_id)
    if found is None:
        raise NotFound(_("No such change request."))
    org = lock(Organization, found.organization_id)  # the same order as update_organization
    change = lock(OrganizationChange, change_id)
    reason = (reason or "").strip()
    if not accept and not reason:
        raise Invalid(_("Give a reason for the rejection."), {"reason": _("A reason is required.")})
    if change.status != "pending":
        raise Conflict(
            _("This change request is already %(status)s.", status=label("change", change.status))
        )
    status = "accepted" if accept else "rejected"
    if accept:
        _apply_profile(org, change.changes)
    _close_change(change, status, operator, reason)
    _audit_change(change, status, operator)
    _tell_members(
        org,
        "organization_change_decision",
        subject=(
            _l("%(org)s: profile change accepted")
            if accept
            else _l("%(org)s: profile change rejected")
        ),
        inbox_key=f"org-change:{change.id}",
        payload={
            "organization_id": org.id,
            "status": status,
            "reason": reason,
            "message": org.name,
        },
        change=change,
        accepted=accept,
        reason=reason,
    )
    db.session.flush()
    db.session.expire(org, ["pending_change"])
    return change


def _tell_members(org: Organization, template: str, *, subject, inbox_key, payload, **context):
    """Mail every member about an operator's decision, each in its language (`subject`: a
    lazy message with %(org)s), and put it in their inboxes."""
    for m in org.memberships:
        with force_locale(recipient_language(m.user)):
            mail = queue_mail(
                m.user.email,
                template,
                subject=(str(subject) % {"org": org.name})[:300],
                user_id=m.user_id,
                org=org,
                link=external_url("accounts.cabinet"),
                **context,
            )
        signals.members_told.send(
            org, user_id=m.user_id, key=inbox_key, payload=payload, mail_id=mail.id
        )


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
        raise Forbidden(_("Only the platform operator decides accreditation."))
    org = db.session.get(Organization, org_id)
    if org is None:
        raise NotFound(_("No such organization."))
    reason = (reason or "").strip()
    if not accredit and not reason:
        raise Invalid(_("Give a reason for the rejection."), {"reason": _("A reason is required.")})
    new = "accredited" if accredit else "rejected"
    if org.accreditation_status == new:
        raise Conflict(
            _("The organization is already %(status)s.", status=label("accreditation", new))
        )
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
        subject=_l("%(org)s: accredited") if accredit else _l("%(org)s: accreditation rejected"),
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
            select(Membership)
            .where(Membership.organization_id == org_id)
            .order_by(Membership.id)
            .options(joinedload(Membership.user))  # every caller shows or mails the users
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


def invite(inviter: User, org_id: int, email: str, roles: list[str]) -> Invitation:
    """An admin invites an email address into the organization."""
    require_member(inviter, org_id, admin=True)
    email = normalize_email(email)
    existing = user_by_email(email)
    if existing and membership(existing, org_id):
        raise Conflict(_("This person is already a member."), {"email": _("Already a member.")})
    inv = Invitation(organization_id=org_id, email=email, roles=roles, invited_by_id=inviter.id)
    db.session.add(inv)
    db.session.flush()
    record(
        "organization.member_invited",
        "organization",
        org_id,
        {"email": email, "roles": roles},
        actor_user_id=inviter.id,
        actor_org_id=org_id,
    )
    token = make_link_token("invite", {"i": inv.id, "e": email})
    queue_mail(  # in the inviter's language: the invitee has no setting yet
        email,
        "invitation",
        subject=_("Invitation to %(org)s", org=inv.organization.name),
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
        raise Invalid(_("This invitation is not valid."))
    if inv.accepted_at:
        raise Invalid(_("This invitation has already been accepted."))
    return inv


def accept_invitation(token: str, user: User | None, new_user: dict | None = None) -> User:
    """Join the organization: as the logged-in user (same email) or as a new user."""
    inv = read_invitation(token)
    if user is None:
        if user_by_email(inv.email):
            raise Conflict(
                _("You already have an account: log in first, then open the link again.")
            )
        problems = password_problems(new_user["password"], inv.email)
        if problems:
            raise Invalid(_("Choose a stronger password."), {"password": problems})
        user = User(
            email=inv.email,
            name=new_user["name"],
            password_hash=hash_password(new_user["password"]),
            email_confirmed_at=clock.now(),
        )  # the link proves the mailbox
        db.session.add(user)
        db.session.flush()
    elif user.email != inv.email:
        raise Forbidden(
            _(
                "This invitation is for %(invited)s; you are logged in as %(email)s.",
                invited=inv.email,
                email=user.email,
            )
        )
    if membership(user, inv.organization_id) is None:
        db.session.add(
            Membership(user_id=user.id, organization_id=inv.organization_id, roles=inv.roles)
        )
        signals.member_joined.send(inv.organization, user=user)  # the declared categories
    inv.accepted_at = clock.now()
    record(
        "organization.member_joined",
        "organization",
        inv.organization_id,
        {"user_id": user.id, "email": user.email, "roles": inv.roles},
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
        raise NotFound(_("No such member."))
    if target.may("administer") and len(holders(org_id, "administer")) <= 1:
        raise Conflict(_("The last administrator cannot be removed."))
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


def change_roles(admin: User, org_id: int, user_id: int, roles: list[str]) -> Membership:
    """An administrator changes a member's roles (at least one; the last administrator keeps
    "administrator"); the member's live rooms and rights follow at once."""
    require_member(admin, org_id, admin=True)
    lock(Organization, org_id)  # two administrators changing roles at once: one after the other
    target = db.session.execute(
        select(Membership).where(
            Membership.organization_id == org_id, Membership.user_id == user_id
        )
    ).scalar_one_or_none()
    if target is None:
        raise NotFound(_("No such member."))
    try:
        roles = check_roles(roles)
    except ValueError as exc:
        raise Invalid(translate(str(exc)), {"roles": [translate(str(exc))]}) from None
    previous = list(target.roles)
    problem = roles_change_problem(previous, roles, len(holders(org_id, "administer")))
    if problem is not None:
        raise Conflict(translate(problem), {"roles": [translate(problem)]})
    if previous == roles:
        return target
    target.roles = roles
    record(
        "organization.member_roles_changed",
        "organization",
        org_id,
        {"user_id": user_id, "previous": previous, "roles": roles},
        actor_user_id=admin.id,
        actor_org_id=org_id,
    )
    db.session.flush()
    # Its connections leave the rooms the old roles let them in and watch again (core/live.py).
    live.visibility_changed(None, live.user_room(user_id))
    return target


# -- API tokens -------------------------------------------------------------------------


def create_token(
    user: User, org_id: int | None, name: str, scope: str = "organization"
) -> tuple[ApiToken, str]:
    """Issue a token acting for the user in one organization, or as the platform operator
    (scope "operator", operators only); the plaintext is returned once."""
    if scope == "operator":
        if not user.is_operator:
            raise Forbidden(_("Only a platform operator can create an operator token."))
        org_id = None
    elif org_id is None:
        raise Forbidden(_("You are not a member of any organization."))
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
        raise NotFound(_("No such token."))
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
        raise Unauthorized(_("The API token's user is disabled."))
    if token.scope == "operator":
        if not token.user.is_operator:
            raise Unauthorized(_("The API token's user is no longer a platform operator."))
        return
    if member is None:
        raise Unauthorized(_("The API token's user can no longer act for its organization."))
    db.session.info.setdefault(_MEMBERSHIPS, {})[(member.user_id, member.organization_id)] = member


def authenticate_token(plaintext: str) -> ApiToken:
    """The live token for a bearer string, or Unauthorized."""
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 100:
        raise Unauthorized(_("The API token is not valid."))
    row = db.session.execute(_token_query(), {"token_hash": hash_token(plaintext)}).one_or_none()
    token, member = row if row is not None else (None, None)
    if token is None or token.revoked_at is not None:
        raise Unauthorized(_("The API token is not valid or has been revoked."))
    _check_token_holder(token, member)
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(seconds=60):
        token.last_used_at = now  # at most one write a minute per token
    return token
