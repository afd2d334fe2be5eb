"""Account pages (registration, login, cabinet, members, tokens, operator queue) and API."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from accounts import schemas, service
from accounts.access import operator_required, require_api_operator
from accounts.models import Membership, Organization, User
from accounts.regions import REGION_OPTIONS, REGIONS
from core import formats, http, i18n
from core.api import API_PREFIX, route
from core.errors import DomainError, Forbidden, Invalid, NotFound, TooManyAttempts, Unauthorized
from core.extensions import db, login_manager
from core.forms import parse_form
from core.http import local_target, same_site_referrer
from core.transaction import commit
from positions import classifiers

bp = Blueprint("accounts", __name__)
api = Blueprint("accounts_api", __name__, url_prefix=API_PREFIX)


@bp.record_once
def _never_stored(state) -> None:
    """Pages that show secrets or take passwords: never cached (core.http)."""
    http.never_store(state.app, "accounts.tokens", "accounts.login", "accounts.register")


def _bearer() -> str | None:
    """The token of an API request's "Authorization: Bearer" header (None: no such header;
    core.api refuses a malformed one)."""
    if not request.path.startswith(API_PREFIX):
        return None  # pages take the session only, as always
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@login_manager.request_loader
def load_user_from_token(_request) -> User | None:
    """An API call's bearer token: its user, with the token in g.api_token (its organization
    acts). A token that is not valid loads no one; core.api refuses it (g.api_token_error)
    where the call needs credentials, as before."""
    token = _bearer()
    if token is None:
        return None
    if "api_token" not in g:
        try:
            g.api_token, g.api_token_error = service.authenticate_token(token), None
        except Unauthorized as exc:
            g.api_token, g.api_token_error = None, exc
    return g.api_token.user if g.api_token is not None else None


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Session ids carry the password version, so a password change ends other sessions. An
    API call with a bearer token acts as the token's user, whatever the session says."""
    if _bearer() is not None:
        return None  # the request loader takes the token
    uid, _, version = user_id.partition(":")
    if not uid.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(uid))
    if user is None or user.session_version != int(version):
        return None
    return user


@bp.before_app_request
def load_active_organization() -> None:
    """g.org is the organization the logged-in user acts for (chosen in the header)."""
    g.org, g.memberships = None, []
    if not current_user.is_authenticated or g.get("api_token") is not None:
        return  # an API token acts for its own organization (core.api)
    g.org, g.memberships = service.active_organization(current_user, session.get("org_id"))
    if g.org is not None and session.get("org_id") != g.org.id:
        session["org_id"] = g.org.id


PROFILE_LABELS = {
    "name": _l("Name"),
    "kpp": _l("KPP"),
    "ogrn": _l("OGRN / OGRNIP"),
    "region_code": _l("Region"),
    "is_sme": _l("SME"),
    "roles": _l("Roles"),
}


@bp.app_template_filter("profile_field")
def profile_field(field: str) -> str:
    """A profile field's label."""
    return str(PROFILE_LABELS.get(field, field))


@bp.app_template_filter("profile_value")
def profile_value(value, field: str) -> str:
    """A profile value in words (a change request's old and new values)."""
    if field == "roles":
        return ", ".join(i18n.label("org_role", r) for r in value) if value else "—"
    if field == "is_sme":
        return _("yes") if value else _("no")
    if field == "region_code" and value:
        return f"{value} {formats.region(value)}".strip()
    return value if value not in (None, "") else "—"


def _client_address() -> str:
    return request.remote_addr or "unknown"


def _render_form(template: str, status: int = 200, **context):
    context.setdefault("errors", {})
    context.setdefault("values", request.form)
    context.setdefault("regions", REGION_OPTIONS)
    if template in ("accounts/register.html", "accounts/cabinet.html"):
        context.setdefault("tree", classifiers.category_tree())  # declared categories
    return render_template(template, **context), status


def _fail(template: str, exc: DomainError, **context):
    """Re-render a form with a domain refusal, nothing stored."""
    db.session.rollback()
    errors = dict(exc.fields)
    errors.setdefault("_form", []).append(exc.message)
    return _render_form(template, exc.status, errors=errors, **context)


def _current_membership(admin: bool = False) -> Membership:
    if g.org is None:
        raise Forbidden("You are not a member of any organization.")
    return service.require_member(current_user, g.org.id, admin=admin)


# -- registration, confirmation, login --------------------------------------------------


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Register an organization and its administrator."""
    if request.method == "GET":
        return _render_form("accounts/register.html", values={})
    data, errors = parse_form(schemas.RegistrationSchema(), request.form)
    if errors:
        return _render_form("accounts/register.html", 422, errors=errors)
    try:
        service.register(data)
    except DomainError as exc:
        return _fail("accounts/register.html", exc)
    commit()
    # The same answer whether the address or INN was known: the mail tells the rest.
    flash(
        _(
            "Thank you. We sent the next step to %(email)s: confirm the address with the "
            "link in that mail; the operator then reviews your organization.",
            email=data["email"],
        ),
        "success",
    )
    return redirect(url_for("accounts.login"))


@bp.get("/confirm/<token>")
def confirm_email(token: str):
    """Confirm an email address from the mailed link."""
    try:
        service.confirm_email(token)
    except DomainError as exc:
        return render_template(
            "errors/error.html", code=exc.status, title="Link refused", message=exc.message
        ), exc.status
    commit()
    flash(_("Your email is confirmed. You can log in."), "success")
    return redirect(url_for("accounts.login"))


@bp.route("/confirm", methods=["GET", "POST"])
def resend_confirmation():
    """Send the confirmation link again."""
    if request.method == "GET":
        return _render_form("accounts/resend.html", values={})
    data, errors = parse_form(schemas.EmailSchema(), request.form)
    if errors:
        return _render_form("accounts/resend.html", 422, errors=errors)
    user = service.user_by_email(data["email"])
    if user and not user.is_confirmed:
        service.send_confirmation(user)
        commit()
    flash(_("If that address awaits confirmation, a new link is on its way."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with email and password (throttled per account and per address)."""
    if request.method == "GET":
        return _render_form("accounts/login.html", values={})
    data, errors = parse_form(schemas.LoginSchema(), request.form)
    if errors:
        return _render_form("accounts/login.html", 422, errors=errors)
    try:
        user = service.authenticate(data["email"], data["password"], _client_address())
    except Unauthorized as exc:
        commit()  # the failure counts towards the backoff
        return _render_form("accounts/login.html", exc.status, errors={"_form": [exc.message]})
    except TooManyAttempts as exc:
        db.session.rollback()
        body, status = _render_form("accounts/login.html", 429, errors={"_form": [exc.message]})
        return body, status, {"Retry-After": str(exc.retry_after)}
    except DomainError as exc:
        commit()
        return _render_form("accounts/login.html", exc.status, errors={"_form": [exc.message]})
    commit()
    session.clear()
    login_user(user, remember=data["remember"])
    flash(_("Welcome, %(name)s.", name=user.name), "success")
    target = local_target(request.args.get("next"))
    if target is None:
        # An operator outside any organization lands on its work: the accreditation queue.
        landing = "accounts.operator_queue" if user.is_operator and not user.memberships else None
        target = url_for(landing or "accounts.cabinet")
    return redirect(target)


@bp.post("/logout")
def logout():
    """Log out (the remember cookie too: logout_user marks it for deletion in the session,
    which is kept through the clearing so that the cookie is deleted with the answer)."""
    logout_user()
    remember = session.get("_remember")
    session.clear()
    if remember:
        session["_remember"] = remember
    return redirect(url_for("main.index"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for a password reset link."""
    if request.method == "GET":
        return _render_form("accounts/forgot.html", values={})
    data, errors = parse_form(schemas.EmailSchema(), request.form)
    if errors:
        return _render_form("accounts/forgot.html", 422, errors=errors)
    service.request_password_reset(data["email"])
    commit()
    flash(_("If the address is registered, a reset link is on its way."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from a reset link."""
    if request.method == "GET":
        return _render_form("accounts/reset.html", values={}, token=token)
    data, errors = parse_form(schemas.NewPasswordSchema(), request.form)
    if errors:
        return _render_form("accounts/reset.html", 422, errors=errors, token=token)
    try:
        service.reset_password(token, data["password"])
    except DomainError as exc:
        return _fail("accounts/reset.html", exc, token=token)
    commit()
    flash(_("Password changed. Log in with the new one."), "success")
    return redirect(url_for("accounts.login"))


# -- cabinet -----------------------------------------------------------------------------


@bp.route("/cabinet", methods=["GET", "POST"])
@login_required
def cabinet():
    """The active organization's profile; admins edit it (what the operator verified goes back
    to the operator's review)."""
    m = _current_membership(admin=request.method == "POST")
    if request.method == "GET":
        return _render_form("accounts/cabinet.html", values=_org_values(g.org), membership=m)
    data, errors = parse_form(schemas.OrganizationUpdateSchema(), request.form)
    if errors:
        return _render_form("accounts/cabinet.html", 422, errors=errors, membership=m)
    try:
        org = service.update_organization(current_user, g.org.id, data)
    except DomainError as exc:
        return _fail("accounts/cabinet.html", exc, membership=m)
    pending = org.pending_change is not None
    commit()
    if pending:
        flash(
            _(
                "Saved. The changes marked “pending review” wait for the operator; until then "
                "the current profile stays in force."
            ),
            "info",
        )
    else:
        flash(_("Profile saved."), "success")
    return redirect(url_for("accounts.cabinet"))


@bp.post("/cabinet/pending-change/withdraw")
@login_required
def withdraw_change():
    """An admin withdraws the organization's change request awaiting review."""
    _current_membership(admin=True)
    service.withdraw_change(current_user, g.org.id)
    commit()
    flash(_("Change request withdrawn."), "success")
    return redirect(url_for("accounts.cabinet"))


def _org_values(org: Organization) -> dict:
    """The profile form's values: as requested where a change awaits review (submitting the
    form again keeps the request), as in force elsewhere."""
    values = service.profile(org)
    if org.pending_change is not None:
        values.update(org.pending_change.changes)
    return {
        **values,
        "kpp": values["kpp"] or "",
        "ogrn": values["ogrn"] or "",
    }


@bp.post("/switch-org")
@login_required
def switch_org():
    """Choose which organization to act for."""
    data, errors = parse_form(schemas.SwitchOrgSchema(), request.form)
    if errors:
        abort(400)
    service.require_member(current_user, data["org_id"])
    session["org_id"] = data["org_id"]
    return redirect(same_site_referrer() or url_for("accounts.cabinet"))


@bp.post("/language")
def set_language():
    """The language switch (header, login page): on the user when logged in, and in a
    cookie for this browser; an unknown value means the default language (core/i18n.py)."""
    lang = i18n.supported(request.form.get("lang")) or i18n.default_language()
    if current_user.is_authenticated:
        current_user.locale = lang
        commit()
    resp = redirect(same_site_referrer() or url_for("main.index"))
    resp.set_cookie(
        i18n.COOKIE,
        lang,
        max_age=i18n.COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return resp


@bp.get("/members")
@login_required
def members():
    """Members of the active organization and open invitations."""
    m = _current_membership()
    return _render_form(
        "accounts/members.html",
        membership=m,
        members=service.members(g.org.id),
        invitations=service.pending_invitations(g.org.id),
        values={},
    )


@bp.post("/members/invite")
@login_required
def invite():
    """An admin invites someone by email."""
    m = _current_membership(admin=True)
    data, errors = parse_form(schemas.InviteSchema(), request.form)
    context = {
        "membership": m,
        "members": service.members(g.org.id),
        "invitations": service.pending_invitations(g.org.id),
    }
    if errors:
        return _render_form("accounts/members.html", 422, errors=errors, **context)
    try:
        service.invite(current_user, g.org.id, data["email"], sorted(set(data["roles"])))
    except DomainError as exc:
        return _fail("accounts/members.html", exc, **context)
    commit()
    flash(_("Invitation sent to %(email)s.", email=data["email"]), "success")
    return redirect(url_for("accounts.members"))


@bp.post("/members/<int:user_id>/remove")
@login_required
def remove_member(user_id: int):
    """An admin removes a member."""
    _current_membership(admin=True)
    service.remove_member(current_user, g.org.id, user_id)
    commit()
    flash(_("Member removed."), "success")
    return redirect(url_for("accounts.members"))


@bp.post("/members/<int:user_id>/roles")
@login_required
def change_roles(user_id: int):
    """An administrator changes a member's roles (checkboxes, at least one)."""
    m = _current_membership(admin=True)
    data, errors = parse_form(schemas.MemberRolesSchema(), request.form)
    context = {
        "membership": m,
        "members": service.members(g.org.id),
        "invitations": service.pending_invitations(g.org.id),
        "values": {},
        "editing": user_id,
    }
    if errors:
        return _render_form("accounts/members.html", 422, role_errors=errors, **context)
    try:
        service.change_roles(current_user, g.org.id, user_id, data["roles"])
    except DomainError as exc:
        db.session.rollback()
        fields = {k: list(v) for k, v in exc.fields.items()} or {"roles": [exc.message]}
        return _render_form("accounts/members.html", exc.status, role_errors=fields, **context)
    commit()
    flash(_("Roles saved."), "success")
    return redirect(url_for("accounts.members"))


@bp.route("/cabinet/organizations/new", methods=["GET", "POST"])
@login_required
def new_organization():
    """A logged-in user registers another organization (it waits for accreditation)."""
    if request.method == "GET":
        return _render_form("accounts/new_organization.html", values={})
    data, errors = parse_form(schemas.AnotherOrganizationSchema(), request.form)
    if errors:
        return _render_form("accounts/new_organization.html", 422, errors=errors)
    try:
        org = service.register_another(current_user, data)
    except DomainError as exc:
        return _fail("accounts/new_organization.html", exc)
    commit()
    session["org_id"] = org.id
    flash(
        _(
            "%(org)s is registered and waits for the operator's accreditation; you act for it "
            "now (switch organizations in the header).",
            org=org.name,
        ),
        "success",
    )
    return redirect(url_for("accounts.cabinet"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    """Accept an invitation: join as the logged-in user or create an account."""
    try:
        inv = service.read_invitation(token)
    except DomainError as exc:
        return render_template(
            "errors/error.html", code=exc.status, title="Invitation refused", message=exc.message
        ), exc.status
    user = current_user if current_user.is_authenticated else None
    if request.method == "GET":
        return _render_form("accounts/accept_invite.html", inv=inv, token=token, values={})
    new_user = None
    if user is None:
        new_user, errors = parse_form(schemas.AcceptInviteSchema(), request.form)
        if errors:
            return _render_form(
                "accounts/accept_invite.html", 422, errors=errors, inv=inv, token=token
            )
    try:
        joined = service.accept_invitation(token, user, new_user)
    except DomainError as exc:
        return _fail("accounts/accept_invite.html", exc, inv=inv, token=token)
    org_id = inv.organization_id
    commit()
    if user is None:
        login_user(joined)
    session["org_id"] = org_id
    flash(_("You joined the organization."), "success")
    return redirect(url_for("accounts.cabinet"))


def _token_scopes() -> list[tuple[str, str]]:
    """What the user's new token may act as: its active organization, the operator, or both."""
    scopes = [("organization", g.org.name)] if g.org is not None else []
    if current_user.is_operator:
        scopes.append(("operator", _("Platform operator")))
    if not scopes:
        raise Forbidden("You are not a member of any organization.")
    return scopes


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """API tokens of the user: create (shown once), list, revoke."""
    if g.org is not None:
        _current_membership()
    context = {"scopes": _token_scopes(), "tokens": service.user_tokens(current_user)}
    created = None
    if request.method == "POST":
        data, errors = parse_form(schemas.TokenCreateSchema(), request.form)
        if errors:
            return _render_form("accounts/tokens.html", 422, errors=errors, created=None, **context)
        scope = data["scope"] or context["scopes"][0][0]
        org_id = g.org.id if g.org is not None else None
        try:
            _, created = service.create_token(current_user, org_id, data["name"], scope)
        except DomainError as exc:
            return _fail("accounts/tokens.html", exc, created=None, **context)
        commit()
        context["tokens"] = service.user_tokens(current_user)
    return _render_form("accounts/tokens.html", created=created, values={}, **context)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of the user's tokens."""
    service.revoke_token(current_user, token_id)
    commit()
    flash(_("Token revoked."), "success")
    return redirect(url_for("accounts.tokens"))


# -- operator ----------------------------------------------------------------------------


@bp.get("/operator/accreditation")
@operator_required
def operator_queue():
    """The operator's accreditation queue and recent decisions."""
    return _operator_page()


def _operator_page(status: int = 200, errors: dict | None = None):
    recent = (
        db.session.execute(
            select(Organization)
            .where(Organization.accreditation_status != "pending")
            .order_by(Organization.accreditation_decided_at.desc())
            .limit(50)
        )
        .scalars()
        .all()
    )
    return _render_form(
        "accounts/operator_queue.html",
        status,
        errors=errors or {},
        queue=service.accreditation_queue(),
        changes=service.change_queue(),
        recent=recent,
        values=request.form,
    )


@bp.post("/operator/accreditation/<int:org_id>")
@operator_required
def operator_decide(org_id: int):
    """Accredit or reject an organization."""

    def decide(data: dict) -> str:
        accredit = data["decision"] == "accredit"
        org = service.decide_accreditation(current_user, org_id, accredit, data["reason"])
        status = i18n.label("accreditation", org.accreditation_status)
        return _("%(org)s: %(status)s.", org=org.name, status=status)

    return _operator_decision(schemas.AccreditationDecisionSchema(), decide)


@bp.post("/operator/changes/<int:change_id>")
@operator_required
def operator_decide_change(change_id: int):
    """Accept or reject an accredited organization's profile change."""

    def decide(data: dict) -> str:
        accept = data["decision"] == "accept"
        change = service.decide_change(current_user, change_id, accept, data["reason"])
        if change.status == "accepted":
            return _("%(org)s: profile change accepted.", org=change.organization.name)
        return _("%(org)s: profile change rejected.", org=change.organization.name)

    return _operator_decision(schemas.ChangeDecisionSchema(), decide)


def _operator_decision(schema, decide):
    """An operator's form decision: errors back on the queue page, else commit and say what
    was decided (decide(data) returns the message, read before the commit expires it)."""
    data, errors = parse_form(schema, request.form)
    if errors:
        return _operator_page(422, errors)
    try:
        message = decide(data)
    except DomainError as exc:
        db.session.rollback()
        return _operator_page(exc.status, {**exc.fields, "_form": [exc.message]})
    commit()
    flash(message, "success")
    return redirect(url_for("accounts.operator_queue"))


# -- API ---------------------------------------------------------------------------------


@route(
    api,
    "/regions",
    "GET",
    summary="Federal subjects with their codes",
    response=schemas.RegionSchema(many=True),
    auth=False,
    tag="reference",
)
def api_regions():
    """The 89 federal subjects of the Russian Federation."""
    return list(REGIONS)


REGISTRATION_ANSWER = _l(
    "Check the mailbox of %(email)s: the next step is there (a link to confirm the address, "
    "or why the registration could not go through)."
)


@route(
    api,
    "/registrations",
    "POST",
    summary="Register an organization and its first user (its administrator)",
    body=schemas.RegistrationSchema,
    response=schemas.RegistrationAcceptedSchema,
    status=202,
    auth=False,
    tag="registration",
)
def api_register(body: dict):
    """The same rules as the registration form; invalid fields answer 422 naming them. The
    answer is the same whether or not the email or INN is already registered: the mail to
    the address confirms it or explains. The operator accredits the organization later."""
    service.register(body)
    commit()
    return {"message": str(REGISTRATION_ANSWER) % {"email": body["email"]}, "email": body["email"]}


@route(
    api,
    "/registrations/confirm",
    "POST",
    summary="Confirm a registered email with the token of the mailed link",
    body=schemas.ConfirmTokenSchema,
    response=schemas.ConfirmedUserSchema,
    auth=False,
    tag="registration",
)
def api_confirm(body: dict):
    """The token is the part of the mailed link after /confirm/ (opening the link does the
    same). Confirming twice is harmless."""
    try:
        user = service.confirm_email(body["token"])
    except Invalid as exc:
        raise Invalid(exc.message, {"token": exc.message}) from None
    commit()
    return user


@route(
    api,
    "/registrations/confirmation-mail",
    "POST",
    summary="Send the confirmation link again",
    body=schemas.EmailSchema,
    response=schemas.RegistrationAcceptedSchema,
    status=202,
    auth=False,
    tag="registration",
)
def api_resend_confirmation(body: dict):
    """The same answer whether or not the address awaits confirmation."""
    user = service.user_by_email(body["email"])
    if user and not user.is_confirmed:
        service.send_confirmation(user)
        commit()
    message = _("If %(email)s awaits confirmation, a new link is on its way.", email=body["email"])
    return {"message": message, "email": body["email"]}


@route(api, "/me", "GET", summary="The calling user", response=schemas.MeSchema, tag="accounts")
def api_me():
    """The authenticated user, its organizations and the one it acts for."""
    user = g.api_user
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "is_operator": user.is_operator,
        "memberships": user.memberships,
        "active_organization_id": g.org.id if getattr(g, "org", None) else None,
        "token_scope": g.api_token.scope if getattr(g, "api_token", None) else None,
    }


def _visible_org(org_id: int) -> Organization:
    org = db.session.get(Organization, org_id)
    if org is None:
        raise NotFound("No such organization.")
    if not g.api_user.is_operator:
        service.require_member(g.api_user, org_id)
    return org


@route(
    api,
    "/organizations/<int:org_id>",
    "GET",
    summary="An organization's profile",
    response=schemas.OrganizationSchema,
    tag="accounts",
)
def api_organization(org_id: int):
    """Members and the operator see the full profile."""
    return _visible_org(org_id)


@route(
    api,
    "/organizations/<int:org_id>",
    "PATCH",
    summary="Edit an organization's profile",
    body=schemas.OrganizationUpdateSchema,
    response=schemas.OrganizationSchema,
    tag="accounts",
)
def api_update_organization(org_id: int, body: dict):
    """Only the organization's admins may edit it; the INN never changes. Once accredited,
    changes to the name, KPP, OGRN, region, a role added or the SME flag claimed wait for
    the operator as `pending_change` (the profile in force stays until accepted); dropping
    a role or the SME flag applies at once."""
    org = service.update_organization(g.api_user, org_id, body)
    commit()
    return org


@route(
    api,
    "/organizations/<int:org_id>/pending-change",
    "DELETE",
    summary="Withdraw the organization's change request awaiting review",
    status=204,
    tag="accounts",
)
def api_withdraw_change(org_id: int):
    """Admins only."""
    service.withdraw_change(g.api_user, org_id)
    commit()


@route(
    api,
    "/organizations",
    "POST",
    summary="Register another organization for the calling user",
    body=schemas.AnotherOrganizationSchema,
    response=schemas.OrganizationSchema,
    status=201,
    tag="accounts",
)
def api_register_another(body: dict):
    """The caller becomes its administrator and manager; it waits for accreditation like any
    other. A token acts for its own organization: use a session or a new token for it."""
    org = service.register_another(g.api_user, body)
    commit()
    return org


@route(
    api,
    "/organizations/<int:org_id>/members",
    "GET",
    summary="An organization's members and their roles",
    response=schemas.MemberOutSchema(many=True),
    tag="accounts",
)
def api_members(org_id: int):
    """Every member of the organization sees the list."""
    service.require_member(g.api_user, org_id)
    return service.members(org_id)


@route(
    api,
    "/organizations/<int:org_id>/members/<int:user_id>",
    "PATCH",
    summary="Change a member's roles",
    body=schemas.MemberRolesSchema,
    response=schemas.MemberOutSchema,
    tag="accounts",
)
def api_change_roles(org_id: int, user_id: int, body: dict):
    """Administrators only; at least one role; the last administrator keeps
    "administrator". The member's connections and tokens follow at once."""
    member = service.change_roles(g.api_user, org_id, user_id, body["roles"])
    commit()
    return member


@route(
    api,
    "/organizations/<int:org_id>/members/<int:user_id>",
    "DELETE",
    summary="Remove a member",
    status=204,
    tag="accounts",
)
def api_remove_member(org_id: int, user_id: int):
    """Administrators only; the last administrator cannot be removed."""
    service.remove_member(g.api_user, org_id, user_id)
    commit()


@route(
    api,
    "/tokens",
    "GET",
    summary="The user's API tokens",
    response=schemas.TokenSchema(many=True),
    tag="accounts",
)
def api_tokens():
    """Tokens without their secrets."""
    return service.user_tokens(g.api_user)


@route(
    api,
    "/tokens",
    "POST",
    summary="Create an API token",
    body=schemas.TokenCreateSchema,
    response=schemas.TokenCreatedSchema,
    status=201,
    tag="accounts",
)
def api_create_token(body: dict):
    """The plaintext token is in this answer only. scope "organization" (the default when
    the caller acts for one) acts for the caller's organization; scope "operator" acts as the
    platform operator while the user is one, and needs an operator's session or token."""
    org = getattr(g, "org", None)
    scope = body["scope"] or ("organization" if org is not None else "operator")
    if scope == "operator":
        require_api_operator()
    token, plaintext = service.create_token(
        g.api_user, org.id if org is not None else None, body["name"], scope
    )
    commit()
    return {"token": plaintext, "details": token}


@route(
    api,
    "/tokens/<int:token_id>",
    "DELETE",
    summary="Revoke an API token",
    status=204,
    tag="accounts",
)
def api_revoke_token(token_id: int):
    """Revoked tokens stop working at once."""
    service.revoke_token(g.api_user, token_id)
    commit()


@route(
    api,
    "/operator/accreditation-queue",
    "GET",
    summary="Organizations awaiting review",
    response=schemas.OrganizationSchema(many=True),
    tag="operator",
)
def api_accreditation_queue():
    """Operator only."""
    require_api_operator()
    return service.accreditation_queue()


@route(
    api,
    "/operator/organizations/<int:org_id>/accreditation",
    "POST",
    summary="Accredit or reject an organization",
    body=schemas.AccreditationDecisionSchema,
    response=schemas.OrganizationSchema,
    tag="operator",
)
def api_decide(org_id: int, body: dict):
    """Operator only; a rejection needs a reason."""
    require_api_operator()
    org = service.decide_accreditation(
        g.api_user, org_id, body["decision"] == "accredit", body["reason"]
    )
    commit()
    return org


@route(
    api,
    "/operator/change-requests",
    "GET",
    summary="Accredited organizations' profile changes awaiting review",
    response=schemas.ChangeRequestSchema(many=True),
    tag="operator",
)
def api_change_queue():
    """Operator only; each with its diff (old -> new), oldest first."""
    require_api_operator()
    return service.change_queue()


@route(
    api,
    "/operator/change-requests/<int:change_id>/decision",
    "POST",
    summary="Accept or reject a profile change",
    body=schemas.ChangeDecisionSchema,
    response=schemas.ChangeRequestSchema,
    tag="operator",
)
def api_decide_change(change_id: int, body: dict):
    """Operator only; accepting applies the change, a rejection needs a reason and keeps the
    profile in force. Members are told by mail either way."""
    require_api_operator()
    change = service.decide_change(
        g.api_user, change_id, body["decision"] == "accept", body["reason"]
    )
    commit()
    return change
