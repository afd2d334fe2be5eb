"""marshmallow schemas for keys, signature checks and receipts."""

from __future__ import annotations

import base64
import binascii

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from core.fields import InputSchema
from core.messages import N_

_Input = InputSchema
# A raw signature is at most 4096 base64 characters (rules.MAX_SIGNATURE_CHARS); a qualified
# CAdES file with its certificates at most 64 KiB of DER (cades.MAX_CMS_BYTES) in base64.
SIGNATURE_MAX_CHARS = 90_000
# A certificate is at most 16 KiB of DER (cades.MAX_CERTIFICATE_BYTES), in base64 with line
# breaks; a user's store rarely holds more than a few dozen.
MAX_CERTIFICATE_CHARS = 24 * 1024
MAX_STORE_CERTIFICATES = 100


class KeyIn(_Input):
    pem = fields.String(required=True, validate=validate.Length(min=20, max=64 * 1024))
    label = fields.String(load_default="", validate=validate.Length(max=100))


class RevokeIn(_Input):
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


class SignedPayloadIn(_Input):
    """A payload (any JSON object) and a base64 signature over its RFC 8785 form."""

    payload = fields.Dict(required=True)
    signature = fields.String(
        required=True, validate=validate.Length(min=8, max=SIGNATURE_MAX_CHARS)
    )


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


class QualifiedCheckIn(_Input):
    """A CAdES signature (base64, or PEM) and what it signs: a payload (its RFC 8785 bytes)
    or the exact bytes as content_b64."""

    payload = fields.Dict(load_default=None, allow_none=True)
    content_b64 = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=22 * 1024 * 1024)
    )
    signature = fields.String(
        required=True, validate=validate.Length(min=8, max=SIGNATURE_MAX_CHARS)
    )

    @validates_schema
    def _one_content(self, data, **kwargs):
        if (data.get("payload") is None) == (data.get("content_b64") is None):
            raise ValidationError(
                N_("Give either payload or content_b64 (what was signed)."), "payload"
            )

    @post_load
    def _decoded(self, data, **kwargs):
        """content_b64 decoded once, here (up to 16 MiB: the view does not decode it again)."""
        if data.get("content_b64") is not None:
            try:
                data["content"] = base64.b64decode(data["content_b64"], validate=True)
            except (binascii.Error, ValueError):
                raise ValidationError(N_("Not valid base64."), "content_b64") from None
        return data


class CheckStepOut(Schema):
    name = fields.String()
    passed = fields.Boolean()
    message = fields.String(allow_none=True)


class SignerOut(Schema):
    kind = fields.String()
    algorithm = fields.String()
    name = fields.String()
    snils = fields.String(allow_none=True)
    inn = fields.String(allow_none=True)
    ogrn = fields.String(allow_none=True)
    entrepreneur = fields.Boolean()
    organization = fields.String(allow_none=True)
    issuer = fields.String()
    serial = fields.String()
    not_before = fields.AwareDateTime()
    not_after = fields.AwareDateTime()


class CertificatesIn(_Input):
    """The certificates (base64 DER, as CryptoPro's plug-in exports them) in the user's store."""

    certificates = fields.List(
        fields.String(validate=validate.Length(min=8, max=MAX_CERTIFICATE_CHARS)),
        required=True,
        validate=validate.Length(min=1, max=MAX_STORE_CERTIFICATES),
    )


class CertificateMatchOut(Schema):
    index = fields.Integer()
    usable = fields.Boolean()
    problem = fields.String(allow_none=True)
    fingerprint = fields.String(allow_none=True)
    signer = fields.Nested(SignerOut, allow_none=True)


class CertificateMatchesOut(Schema):
    certificates = fields.List(fields.Nested(CertificateMatchOut))


class QualifiedReportOut(Schema):
    valid = fields.Boolean()
    checks = fields.List(fields.Nested(CheckStepOut))
    signer = fields.Nested(SignerOut, allow_none=True)
