"""Registering and revoking supplier keys, verifying signatures, the platform's own key and
its receipts. Services flush; the entrypoint commits."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import os
import secrets
import threading
from pathlib import Path

from cryptography import x509
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import Organization, User
from audit.service import record
from core import clock
from core.api import translate
from core.errors import Conflict, Invalid, NotFound
from core.extensions import db
from signatures import cades, canonical, qualified, rules
from signatures.models import SigningKey
from signatures.payloads import utc_timestamp

_platform_lock = threading.Lock()


def _trusted_cas() -> list[x509.Certificate]:
    folder = current_app.config.get("SIGNATURE_TRUSTED_CA_DIR")
    if not folder:
        return []
    cas = []
    for path in sorted(Path(folder).glob("*.pem")):
        cas += x509.load_pem_x509_certificates(path.read_bytes())
    return cas


def register_key(user: User, pem: str, label: str) -> SigningKey:
    """Accept a public key or certificate for a user (checked, then audited); a GOST
    certificate becomes a qualified key (signatures/qualified.py)."""
    if qualified.is_gost_certificate(pem):
        key, created = qualified.register_certificate(user, pem, label)
        if not created:
            raise Conflict(_("This key is already registered."), {"pem": _("Already registered.")})
        return key
    try:
        info = rules.load_key(
            pem,
            now=clock.now(),
            trusted_cas=_trusted_cas(),
            allow_self_signed=current_app.config["SIGNATURE_ALLOW_SELF_SIGNED"],
        )
    except rules.KeyRefused as exc:
        message = translate(exc.args[0])
        raise Invalid(message, {"pem": message}) from None
    existing = db.session.execute(
        select(SigningKey).where(
            SigningKey.user_id == user.id, SigningKey.fingerprint == info.fingerprint
        )
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(_("This key is already registered."), {"pem": _("Already registered.")})
    key = SigningKey(
        user_id=user.id,
        label=label or info.algorithm,
        algorithm=info.algorithm,
        spki_pem=info.spki_pem,
        certificate_pem=info.certificate_pem,
        fingerprint=info.fingerprint,
        subject=info.subject,
        not_before=info.not_before,
        not_after=info.not_after,
    )
    db.session.add(key)
    db.session.flush()
    record(
        "signing_key.registered",
        "signing_key",
        key.id,
        {
            "fingerprint": key.fingerprint,
            "algorithm": key.algorithm,
            "label": key.label,
            "certificate": key.certificate_pem is not None,
        },
        actor_user_id=user.id,
    )
    return key


def user_keys(user: User) -> list[SigningKey]:
    """A user's keys, newest first."""
    return list(
        db.session.execute(
            select(SigningKey).where(SigningKey.user_id == user.id).order_by(SigningKey.id.desc())
        ).scalars()
    )


def own_key(user: User, key_id: int) -> SigningKey:
    """One of the user's keys, or NotFound."""
    key = db.session.get(SigningKey, key_id)
    if key is None or key.user_id != user.id:
        raise NotFound(_("No such key."))
    return key


def revoke_key(user: User, key_id: int, reason: str) -> SigningKey:
    """Revoke a key: it signs nothing from now on; earlier signatures stay verifiable."""
    key = own_key(user, key_id)
    if key.revoked_at is not None:
        raise Conflict(_("This key is already revoked."))
    key.revoked_at, key.revoked_reason = clock.now(), reason.strip() or None
    db.session.flush()
    record(
        "signing_key.revoked",
        "signing_key",
        key.id,
        {"fingerprint": key.fingerprint, "reason": key.revoked_reason},
        actor_user_id=user.id,
    )
    return key


def verify_user_signature(
    user: User,
    key_id: int,
    payload: object,
    signature: str,
    at: dt.datetime | None = None,
    *,
    org: Organization | None = None,
    qualified_only: bool = False,
) -> SigningKey:
    """Check a user's signature over a payload's canonical JSON with one of its keys, usable
    at the moment of signing (now by default). A qualified key's signature is a CAdES file
    bound to org's INN and OGRN; qualified_only refuses every other kind of key. Raises
    Invalid with the reason."""
    key = own_key(user, key_id)
    if qualified_only and not qualified.is_qualified(key):
        text = _(
            "This tender accepts only bids signed with a qualified electronic signature (QES): "
            "a GOST certificate issued by an accredited certification centre. The chosen key "
            "(%(algorithm)s) is not one.",
            algorithm=key.algorithm,
        )
        raise Invalid(text, {"key_id": text})
    moment = at or clock.now()
    if not key.usable_at(moment):
        if key.revoked_at and key.revoked_at <= moment:
            raise Invalid(_("This key is revoked: it cannot sign."), {"key_id": _("Key revoked.")})
        raise Invalid(
            _("This key is not valid now: it cannot sign."), {"key_id": _("Key not valid now.")}
        )
    try:
        message = canonical.canonicalize(payload)
        if qualified.is_qualified(key):
            qualified.verify(key, message, signature, org, now=moment)
        else:
            rules.verify(key.spki_pem, message, rules.decode_signature(signature))
    except (rules.SignatureInvalid, ValueError) as exc:
        message = translate(exc.args[0]) if exc.args else str(exc)
        raise Invalid(message, {"signature": message}) from None
    return key


def key_for_signature(user: User, signature: str) -> SigningKey:
    """The key of a signature given without a key id: only a qualified (CAdES) signature names
    its certificate, which is registered for the user if it is new."""
    if not cades.looks_like_cms(signature):
        text = _("Choose the signing key (key_id); only a qualified CAdES signature names its own.")
        raise Invalid(text, {"key_id": text})
    return qualified.key_from_signature(user, signature)


def verify_stored(fingerprint: str, payload: object, signature: str) -> SigningKey:
    """Re-verify any signature later by the key's fingerprint (revoked keys included)."""
    key = db.session.execute(
        select(SigningKey).where(SigningKey.fingerprint == fingerprint).limit(1)
    ).scalar_one_or_none()
    if key is None:
        raise NotFound(_("No key with this fingerprint."))
    try:
        message = canonical.canonicalize(payload)
        if qualified.is_qualified(key):
            # Later re-verification: a revocation after the signing does not void it.
            qualified.verify(key, message, signature, None, at_signing_only=True)
        else:
            rules.verify(key.spki_pem, message, rules.decode_signature(signature))
    except (rules.SignatureInvalid, ValueError) as exc:
        message = translate(exc.args[0]) if exc.args else str(exc)
        raise Invalid(message, {"signature": message}) from None
    return key


def challenge(user: User) -> dict:
    """A test payload for "check my signature" (it is never a bid)."""
    return {
        "type": "signature-check",
        "version": 1,
        "user": user.email,
        "nonce": secrets.token_hex(16),
        "issued_at": utc_timestamp(clock.now()),
    }


# -- the platform key ---------------------------------------------------------------------------


def _platform_key_path() -> Path:
    return Path(current_app.instance_path) / "platform_key.pem"


def platform_private_key():
    """The platform's key: from PLATFORM_KEY_PEM, else generated once into the instance
    folder (readable by the app only)."""
    cached = current_app.extensions.get("platform_key")
    if cached is None:
        cached = current_app.extensions["platform_key"] = _load_platform_key()
    return cached


def _load_platform_key():
    configured = current_app.config.get("PLATFORM_KEY_PEM")
    if configured:
        return rules.load_private_key(configured.encode())
    path = _platform_key_path()
    with _platform_lock:
        if not path.exists():
            pem = rules.generate_platform_key()
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)  # first writer wins across processes
            tmp.unlink(missing_ok=True)
        return rules.load_private_key(path.read_bytes())


def platform_public_pem() -> str:
    """The platform's public key (PEM) that anyone verifies receipts with."""
    cached = current_app.extensions.get("platform_public_pem")
    if cached is None:
        cached = current_app.extensions["platform_public_pem"] = rules.public_pem(
            platform_private_key()
        )
    return cached


def platform_key_info() -> rules.KeyInfo:
    """Algorithm and fingerprint of the platform key."""
    return rules.load_key(platform_public_pem(), now=clock.now())


def sign_platform(payload: object) -> tuple[bytes, str]:
    """Sign a payload's canonical JSON with the platform key: (canonical bytes, base64)."""
    message = canonical.canonicalize(payload)
    signature = rules.sign(platform_private_key(), message)
    return message, base64.b64encode(signature).decode()


def verify_platform(payload: object, signature: str) -> None:
    """Check a receipt (or protocol) signed by the platform; raises Invalid."""
    try:
        rules.verify(
            platform_public_pem(),
            canonical.canonicalize(payload),
            rules.decode_signature(signature),
        )
    except (rules.SignatureInvalid, ValueError) as exc:
        message = translate(exc.args[0]) if exc.args else str(exc)
        raise Invalid(message, {"signature": message}) from None


# -- how a signature is shown (receipts, the review, the protocol) ---------------------------

ALGORITHM_NAMES = {
    rules.ECDSA_P256: "ECDSA P-256",
    rules.ED25519: "Ed25519",
    rules.RSA_PSS: "RSA-PSS",
}


def format_snils(snils: str | None) -> str:
    """SNILS as people write it: 112-233-445 95."""
    if not snils or len(snils) != 11 or not snils.isdigit():
        return snils or ""
    return f"{snils[:3]}-{snils[3:6]}-{snils[6:9]} {snils[9:]}"


def signature_view(key: SigningKey | int | None) -> dict | None:
    """What is shown of the key a revision was signed with: its kind, algorithm and, for a
    qualified certificate, the signer (name, SNILS, INN, OGRN or OGRNIP, issuer, serial)."""
    if isinstance(key, int):
        key = db.session.get(SigningKey, key)
    if key is None:
        return None
    signer = qualified.signer_of_key(key)
    if qualified.is_qualified(key):
        name = _("GOST R 34.10-2012 (%(bits)s)", bits=key.algorithm[-3:])
    else:
        name = ALGORITHM_NAMES.get(key.algorithm, key.algorithm)
    return {
        "kind": "qualified" if signer else "simple",
        "algorithm": key.algorithm,
        "algorithm_name": name,
        "signer": qualified.signer_view(signer) if signer else None,
    }


def signature_line(view: dict | None) -> str:
    """One line in the reader's language: who signed, and with which kind of signature."""
    if view is None:
        return ""
    signer = view["signer"]
    if signer is None:
        return _("Electronic signature: %(algorithm)s", algorithm=view["algorithm_name"])
    if signer["snils"]:
        return _(
            "Qualified electronic signature (QES, %(algorithm)s): %(name)s, SNILS %(snils)s",
            algorithm=view["algorithm_name"],
            name=signer["name"],
            snils=format_snils(signer["snils"]),
        )
    return _(
        "Qualified electronic signature (QES, %(algorithm)s): %(name)s",
        algorithm=view["algorithm_name"],
        name=signer["name"],
    )
