"""marshmallow schemas for every account input and output."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from accounts.models import TOKEN_SCOPES
from accounts.regions import REGIONS_BY_CODE, find_region, region_name
from accounts.rules import (
    INVITED_ROLES,
    MEMBER_ROLES,
    RuleViolation,
    check_kpp,
    check_org_identifiers,
    password_problems,
)
from core.fields import Id, InputSchema
from core.messages import N_, Text

ROLES = ("customer", "supplier")


_Input = InputSchema


class RegionField(fields.String):
    """A federal subject typed by code or name ("77", "Москва", "Moscow"); loads as its code."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        found = find_region(text[:100])
        if found is None:
            raise ValidationError(
                Text(
                    N_(
                        "Unknown region «%(region)s»: type its name (Москва) "
                        "or two-digit code (77)."
                    ),
                    region=text[:100],
                )
            )
        return found.code


def _email():
    return fields.Email(required=True, validate=validate.Length(max=254))


def _password():
    return fields.String(required=True, load_only=True, validate=validate.Length(max=128))


class OrganizationFieldsMixin(_Input):
    org_name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    inn = fields.String(required=True, validate=validate.Length(max=12))
    kpp = fields.String(load_default="", validate=validate.Length(max=9))
    ogrn = fields.String(load_default="", validate=validate.Length(max=15))
    region_code = fields.String(
        required=True,
        validate=validate.OneOf(sorted(REGIONS_BY_CODE), error=_l("Choose a region.")),
    )
    is_sme = fields.Boolean(load_default=False)
    roles = fields.List(
        fields.String(validate=validate.OneOf(ROLES)),
        required=True,
        validate=validate.Length(min=1, error=_l("Choose customer, supplier or both.")),
    )

    @validates_schema(skip_on_field_errors=False)
    def identifiers(self, data, **kwargs):
        if "inn" not in data:
            return
        problems = check_org_identifiers(data["inn"], data.get("kpp"), data.get("ogrn"))
        if problems:
            raise ValidationError({k: [v] for k, v in problems.items()})

    @post_load
    def normalize(self, data, **kwargs):
        if data.get("kpp"):
            data["kpp"] = data["kpp"].upper()
        data["roles"] = sorted(set(data["roles"]))
        return data


class RegistrationSchema(OrganizationFieldsMixin):
    """An organization and its first user."""

    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    email = _email()
    password = _password()
    # Suppliers: categories they supply (their default subscription), and opt-in to alert mail.
    categories = fields.List(
        fields.String(validate=validate.Length(max=20)),
        load_default=list,
        validate=validate.Length(max=200),
    )
    marketing_consent = fields.Boolean(load_default=False)

    @validates_schema(skip_on_field_errors=False)
    def strong_password(self, data, **kwargs):
        if "password" in data:
            problems = password_problems(data["password"], data.get("email", ""))
            if problems:
                raise ValidationError({"password": problems})


class AnotherOrganizationSchema(OrganizationFieldsMixin):
    """Another organization registered by a logged-in user (no new account)."""

    categories = fields.List(
        fields.String(validate=validate.Length(max=20)),
        load_default=list,
        validate=validate.Length(max=200),
    )


class MemberRolesSchema(_Input):
    """A member's new roles (at least one)."""

    roles = fields.List(
        fields.String(validate=validate.OneOf(MEMBER_ROLES, error=_l("Unknown role."))),
        required=True,
        validate=validate.Length(min=1, error=_l("Choose at least one role.")),
    )


class MemberOutSchema(Schema):
    """A member of the organization with its roles."""

    user_id = fields.Integer()
    name = fields.Function(lambda m: m.user.name)
    email = fields.Function(lambda m: m.user.email)
    roles = fields.List(fields.String())
    since = fields.DateTime(attribute="created_at")


class ResponsibleSchema(_Input):
    """Who is put in charge of a tender or a bid (a member with the right)."""

    user_id = Id(required=True)


class OrganizationUpdateSchema(_Input):
    """The profile fields an admin may change (not the INN)."""

    org_name = fields.String(
        validate=validate.Length(min=2, max=300), data_key="name", attribute="name"
    )
    kpp = fields.String(validate=validate.Length(max=9))
    ogrn = fields.String(validate=validate.Length(max=15))
    region_code = fields.String(validate=validate.OneOf(sorted(REGIONS_BY_CODE)))
    is_sme = fields.Boolean()
    roles = fields.List(
        fields.String(validate=validate.OneOf(ROLES)), validate=validate.Length(min=1)
    )

    @validates_schema(skip_on_field_errors=False)
    def kpp_format(self, data, **kwargs):
        if data.get("kpp"):
            try:
                check_kpp(data["kpp"])
            except RuleViolation as exc:
                raise ValidationError({"kpp": [str(exc)]}) from None


class LoginSchema(_Input):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = _password()
    remember = fields.Boolean(load_default=False)


class EmailSchema(_Input):
    email = _email()


class NewPasswordSchema(_Input):
    password = _password()


class InviteSchema(_Input):
    email = _email()
    roles = fields.List(
        fields.String(validate=validate.OneOf(MEMBER_ROLES, error=_l("Unknown role."))),
        load_default=lambda: list(INVITED_ROLES),
        validate=validate.Length(min=1, error=_l("Choose at least one role.")),
    )


class AcceptInviteSchema(_Input):
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    password = _password()


class TokenCreateSchema(_Input):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    # "organization" (the default when the caller acts for one) or "operator" (operators).
    scope = fields.String(load_default=None, validate=validate.OneOf(TOKEN_SCOPES))


class AccreditationDecisionSchema(_Input):
    decision = fields.String(required=True, validate=validate.OneOf(("accredit", "reject")))
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class ChangeDecisionSchema(_Input):
    decision = fields.String(required=True, validate=validate.OneOf(("accept", "reject")))
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class ConfirmTokenSchema(_Input):
    """The token of a mailed confirmation link: the part of the link after /confirm/."""

    token = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class SwitchOrgSchema(_Input):
    org_id = Id(required=True)


# -- outputs ----------------------------------------------------------------------------


class ProfileDiffSchema(Schema):
    field = fields.String()
    old = fields.Raw(allow_none=True)
    new = fields.Raw(allow_none=True)


class ChangeRequestSchema(Schema):
    """Changes to an accredited organization's profile and the operator's decision on them;
    the profile in force stays as it is until they are accepted."""

    id = fields.Integer()
    organization_id = fields.Integer()
    organization_name = fields.Function(lambda c: c.organization.name)
    organization_inn = fields.Function(lambda c: c.organization.inn)
    status = fields.String()
    diff = fields.List(fields.Nested(ProfileDiffSchema))
    requested_by = fields.Function(lambda c: c.requested_by.email)
    requested_at = fields.AwareDateTime()
    decided_at = fields.AwareDateTime(allow_none=True)
    reason = fields.String(allow_none=True)


class OrganizationSchema(Schema):
    """An organization as the API shows it to its members and the operator."""

    id = fields.Integer()
    name = fields.String()
    inn = fields.String()
    kpp = fields.String(allow_none=True)
    ogrn = fields.String(allow_none=True)
    region_code = fields.String()
    region_name = fields.Function(lambda o: region_name(o.region_code))
    is_sme = fields.Boolean()
    roles = fields.List(fields.String())
    accreditation_status = fields.String()
    accreditation_reason = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    pending_change = fields.Nested(ChangeRequestSchema, allow_none=True)


class OrganizationBriefSchema(Schema):
    """An organization in a list of memberships."""

    id = fields.Integer()
    name = fields.String()
    inn = fields.String()
    roles = fields.List(fields.String())
    accreditation_status = fields.String()


class MembershipOutSchema(Schema):
    organization = fields.Nested(OrganizationBriefSchema)
    roles = fields.List(fields.String())


class MeSchema(Schema):
    """The calling user and where it can act."""

    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    is_operator = fields.Boolean()
    memberships = fields.List(fields.Nested(MembershipOutSchema))
    active_organization_id = fields.Integer(allow_none=True)
    # The calling token's scope ("organization" or "operator"); none for a browser session.
    token_scope = fields.String(allow_none=True)


class RegistrationAcceptedSchema(Schema):
    """The one answer to a registration, whatever is already registered (the mail says)."""

    message = fields.String()
    email = fields.String()


class ConfirmedUserSchema(Schema):
    """A user whose email is confirmed, and its organizations."""

    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    email_confirmed_at = fields.AwareDateTime()
    memberships = fields.List(fields.Nested(MembershipOutSchema))


class TokenSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    scope = fields.String()
    organization_id = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime()
    last_used_at = fields.AwareDateTime(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)


class TokenCreatedSchema(Schema):
    """A new token: the plaintext appears in this answer only."""

    token = fields.String()
    details = fields.Nested(TokenSchema)


class RegionSchema(Schema):
    code = fields.String()
    name = fields.String()
    name_en = fields.String()
