"""marshmallow schemas for keys, signature checks and receipts."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.fields import InputSchema

_Input = InputSchema


class KeyIn(_Input):
    pem = fields.String(required=True, validate=validate.Length(min=20, max=64 * 1024))
    label = fields.String(load_default="", validate=validate.Length(max=100))


class RevokeIn(_Input):
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


class SignedPayloadIn(_Input):
    """A payload (any JSON object) and a base64 signature over its RFC 8785 form."""

    payload = fields.Dict(required=True)
    signature = fields.String(required=True, validate=validate.Length(min=8, max=4096))


class CheckIn(SignedPayloadIn):
    key_id = fields.Integer(required=True)


class StoredIn(SignedPayloadIn):
    fingerprint = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))


class KeyOut(Schema):
    id = fields.Integer()
    label = fields.String()
    algorithm = fields.String()
    fingerprint = fields.String()
    spki_pem = fields.String()
    certificate = fields.Function(lambda k: k.certificate_pem is not None)
    subject = fields.String(allow_none=True)
    not_before = fields.AwareDateTime(allow_none=True)
    not_after = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    revoked_at = fields.AwareDateTime(allow_none=True)
    revoked_reason = fields.String(allow_none=True)


class ChallengeOut(Schema):
    payload = fields.Dict()
    canonical_b64 = fields.String()
    digest_hex = fields.String()


class VerifiedOut(Schema):
    valid = fields.Boolean()
    key_id = fields.Integer(allow_none=True)
    algorithm = fields.String()
    fingerprint = fields.String()


class PlatformKeyOut(Schema):
    algorithm = fields.String()
    fingerprint = fields.String()
    public_key_pem = fields.String()
