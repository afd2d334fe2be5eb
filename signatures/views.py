"""Key management and signature checks: pages for people, JSON for integrators."""

from __future__ import annotations

import base64

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core.api import API_PREFIX, route, translate
from core.errors import DomainError
from core.extensions import db
from core.forms import parse_form
from core.transaction import commit
from signatures import cades, canonical, qualified, schemas, service

# A bid's canonical JSON: tens of thousands of positions stay under this.
QUALIFIED_CONTENT_MAX_BYTES = 16 * 1024 * 1024

bp = Blueprint("signatures", __name__)
api = Blueprint("signatures_api", __name__, url_prefix=API_PREFIX)


@bp.record_once
def _template_globals(state) -> None:
    # The largest signature file the bid pages take (a CAdES file of at most
    # cades.MAX_CMS_BYTES of DER, as base64 or PEM text); the server refuses more anyway.
    state.app.jinja_env.globals["qualified_signature_max_bytes"] = 2 * cades.MAX_CMS_BYTES


@bp.route("/cabinet/keys", methods=["GET", "POST"])
@login_required
def keys():
    """The user's signing keys: generate one in the browser, paste a PEM, revoke."""
    errors: dict = {}
    status = 200
    if request.method == "POST":
        data, errors = parse_form(schemas.KeyIn(), request.form)
        if not errors:
            try:
                service.register_key(current_user, data["pem"], data["label"])
                commit()
                flash(_("Key registered."), "success")
                return redirect(url_for("signatures.keys"))
            except DomainError as exc:
                db.session.rollback()
                fields = {k: [translate(m) for m in v] for k, v in exc.fields.items()}
                errors, status = {**fields, "_form": [translate(exc.message)]}, exc.status
        else:
            status = 422
    return render_template(
        "signatures/keys.html",
        keys=service.user_keys(current_user),
        errors=errors,
        values=request.form,
    ), status


@bp.post("/cabinet/keys/<int:key_id>/revoke")
@login_required
def revoke(key_id: int):
    """Revoke one of the user's keys."""
    data, errors = parse_form(schemas.RevokeIn(), request.form)
    service.revoke_key(current_user, key_id, data.get("reason", "") if not errors else "")
    commit()
    flash(_("Key revoked: it signs nothing from now on."), "success")
    return redirect(url_for("signatures.keys"))


@bp.route("/signature-check", methods=["GET", "POST"])
@login_required
def check_page():
    """Sign a test payload in this browser and have the platform verify it; or upload a
    qualified (CAdES) signature with the file it signs and see every check explained."""
    report, errors, status = None, {}, 200
    if request.method == "POST":
        report, errors = _qualified_check_upload()
        status = 422 if errors else 200
    return render_template(
        "signatures/check.html",
        keys=[k for k in service.user_keys(current_user) if k.revoked_at is None],
        report=report,
        errors=errors,
    ), status


def _qualified_check_upload() -> tuple[dict | None, dict]:
    """The signed file and its .sig/.p7s from the form, checked (size limits first)."""
    signed, signature = request.files.get("content"), request.files.get("signature")
    errors: dict[str, list[str]] = {}
    if signed is None or not signed.filename:
        errors["content"] = [_("Choose the file that was signed.")]
    if signature is None or not signature.filename:
        errors["signature"] = [_("Choose the signature file (.sig or .p7s).")]
    if errors:
        return None, errors
    content = signed.read(QUALIFIED_CONTENT_MAX_BYTES + 1)
    data = signature.read(cades.MAX_CMS_BYTES * 2 + 1)
    if len(content) > QUALIFIED_CONTENT_MAX_BYTES:
        text = _(
            "The signed file is too large (at most %(mb)s MB).",
            mb=QUALIFIED_CONTENT_MAX_BYTES >> 20,
        )
        return None, {"content": [text]}
    return qualified.explain_bytes(content, data, getattr(g, "org", None)), {}


@bp.get("/platform-key.pem")
def platform_key_pem():
    """The platform's public key, for `openssl dgst -sha256 -verify`."""
    return Response(service.platform_public_pem(), mimetype="application/x-pem-file")


# -- API ---------------------------------------------------------------------------------------


@route(
    api,
    "/keys",
    "GET",
    summary="My signing keys",
    response=schemas.KeyOut(many=True),
    tag="signatures",
)
def api_keys():
    """Newest first, revoked ones included."""
    return service.user_keys(g.api_user)


@route(
    api,
    "/keys",
    "POST",
    summary="Register a public key or certificate",
    body=schemas.KeyIn,
    response=schemas.KeyOut,
    status=201,
    tag="signatures",
)
def api_register_key(body: dict):
    """ECDSA P-256, Ed25519 or RSA (PSS) >= 2048 bits, as SubjectPublicKeyInfo PEM or X.509."""
    key = service.register_key(g.api_user, body["pem"], body["label"])
    commit()
    return key


@route(
    api,
    "/keys/<int:key_id>/revoke",
    "POST",
    summary="Revoke a key",
    body=schemas.RevokeIn,
    response=schemas.KeyOut,
    tag="signatures",
)
def api_revoke_key(key_id: int, body: dict):
    """The key signs nothing from now on; earlier signatures stay verifiable."""
    key = service.revoke_key(g.api_user, key_id, body["reason"])
    commit()
    return key


@route(
    api,
    "/signatures/challenge",
    "GET",
    summary="A test payload to sign",
    response=schemas.ChallengeOut,
    tag="signatures",
)
def api_challenge():
    """The exact bytes to sign are canonical_b64 (RFC 8785 JSON of payload)."""
    payload = service.challenge(g.api_user)
    message = canonical.canonicalize(payload)
    return {
        "payload": payload,
        "canonical_b64": base64.b64encode(message).decode(),
        "digest_hex": canonical.digest_hex(payload),
    }


@route(
    api,
    "/signatures/check",
    "POST",
    summary="Check my signature",
    body=schemas.CheckIn,
    response=schemas.VerifiedOut,
    tag="signatures",
)
def api_check(body: dict):
    """Verifies a signature made with one of my usable keys; 422 with the reason if not."""
    key = service.verify_user_signature(
        g.api_user, body["key_id"], body["payload"], body["signature"]
    )
    return {
        "valid": True,
        "key_id": key.id,
        "algorithm": key.algorithm,
        "fingerprint": key.fingerprint,
    }


@route(
    api,
    "/signatures/verify",
    "POST",
    summary="Verify a stored signature",
    body=schemas.StoredIn,
    response=schemas.VerifiedOut,
    auth=False,
    tag="signatures",
)
def api_verify_stored(body: dict):
    """Anyone can re-verify a supplier's signature later by the key's fingerprint."""
    key = service.verify_stored(body["fingerprint"], body["payload"], body["signature"])
    return {
        "valid": True,
        "key_id": None,
        "algorithm": key.algorithm,
        "fingerprint": key.fingerprint,
    }


@route(
    api,
    "/platform-key",
    "GET",
    summary="The platform's public key",
    response=schemas.PlatformKeyOut,
    auth=False,
    tag="signatures",
)
def api_platform_key():
    """Receipts and protocols are signed with it (ECDSA P-256, SHA-256)."""
    info = service.platform_key_info()
    return {
        "algorithm": info.algorithm,
        "fingerprint": info.fingerprint,
        "public_key_pem": info.spki_pem,
    }


@route(
    api,
    "/receipts/verify",
    "POST",
    summary="Verify a platform receipt",
    body=schemas.SignedPayloadIn,
    response=schemas.VerifiedOut,
    auth=False,
    tag="signatures",
)
def api_verify_receipt(body: dict):
    """A receipt verifies if the platform signed exactly this payload."""
    service.verify_platform(body["payload"], body["signature"])
    info = service.platform_key_info()
    return {
        "valid": True,
        "key_id": None,
        "algorithm": info.algorithm,
        "fingerprint": info.fingerprint,
    }


@route(
    api,
    "/signatures/qualified/check",
    "POST",
    summary="Explain a qualified signature",
    body=schemas.QualifiedCheckIn,
    response=schemas.QualifiedReportOut,
    tag="signatures",
)
def api_qualified_check(body: dict):
    """Every check of a detached CAdES-BES signature over a payload's canonical JSON (or over
    content_b64), in plain words; bound to the caller's organization. Always 200: `valid`
    says the verdict, the failed check says why."""
    if body.get("payload") is not None:
        content = canonical.canonicalize(body["payload"])
    else:
        content = body["content"]  # decoded by the schema
    return qualified.explain_bytes(content, body["signature"], getattr(g, "org", None))


@route(
    api,
    "/signatures/qualified/certificates",
    "POST",
    summary="Which certificates can sign for my organization",
    body=schemas.CertificatesIn,
    response=schemas.CertificateMatchesOut,
    tag="signatures",
)
def api_qualified_certificates(body: dict):
    """The certificates CryptoPro's browser plug-in lists in the user's store (base64 DER):
    for each, whether a qualified signature made with it now would be accepted for the
    caller's organization (qualified, trusted, valid, not revoked, its INN and OGRN), and if
    not, why. The bid form offers the usable ones."""
    org = getattr(g, "org", None)
    return {"certificates": qualified.match_certificates(body["certificates"], org)}
