"""Qualified electronic signatures (КЭП) on the platform: the operator's trusted centres and
CRLs, registering a GOST certificate as a signing key, verifying a CAdES-BES signature of a
payload for an organization, and explaining a failed check. The rules are in cades.py."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import threading
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from accounts.models import Organization, User
from audit.service import record
from core import clock
from core.api import translate
from core.errors import Invalid
from core.extensions import db
from signatures import cades
from signatures.models import SigningKey

_cache_lock = threading.Lock()
_MAX_TRUST_FILES = 500
_MAX_TRUST_FILE_BYTES = 10 * 1024 * 1024  # a CRL of a large centre can be megabytes


def is_qualified(key: SigningKey) -> bool:
    """Whether a registered key is a qualified (GOST) certificate."""
    return key.algorithm in cades.ALGORITHMS


CA_FOLDER = ("SIGNATURE_TRUSTED_CA_DIR", "trusted-ca")
CRL_FOLDER = ("SIGNATURE_CRL_DIR", "crl")


def configured_folder(setting: str, default: str) -> Path:
    """Where the platform looks for trusted centres or CRLs: the setting, or the instance
    folder's default."""
    configured = current_app.config.get(setting)
    return Path(configured) if configured else Path(current_app.instance_path) / default


def _folder(setting: str, default: str) -> Path | None:
    folder = configured_folder(setting, default)
    return folder if folder.is_dir() else None


def _files(folder: Path | None, patterns: tuple[str, ...]) -> list[Path]:
    if folder is None:
        return []
    found = sorted({p for pattern in patterns for p in folder.glob(pattern) if p.is_file()})
    return [p for p in found[:_MAX_TRUST_FILES] if p.stat().st_size <= _MAX_TRUST_FILE_BYTES]


def trust() -> cades.Trust:
    """The trusted centres (SIGNATURE_TRUSTED_CA_DIR) and CRLs (SIGNATURE_CRL_DIR), re-read
    when a file in either folder changes (an operator drops in a fresh CRL)."""
    ca_files = _files(_folder(*CA_FOLDER), ("*.pem", "*.crt", "*.cer"))
    crl_files = _files(_folder(*CRL_FOLDER), ("*.pem", "*.crl"))
    stamp = tuple(
        (str(p), stat.st_mtime_ns, stat.st_size)
        for p, stat in ((p, p.stat()) for p in ca_files + crl_files)
    )
    cached = current_app.extensions.get("qualified_trust")
    if cached is not None and cached[0] == stamp:
        return cached[1]
    loaded = cades.load_trust(
        [p.read_bytes() for p in ca_files], [p.read_bytes() for p in crl_files]
    )
    with _cache_lock:
        current_app.extensions["qualified_trust"] = (stamp, loaded)
    return loaded


def _invalid(refused: cades.QualifiedRefused, field: str) -> Invalid:
    message = translate(refused.args[0])
    return Invalid(message, {field: message})


def is_gost_certificate(pem: str) -> bool:
    """Whether a pasted PEM is a certificate with a GOST R 34.10-2012 key."""
    if "CERTIFICATE" not in pem:
        return False
    try:
        cades.signer_of(cades.load_certificate(pem))
    except cades.QualifiedRefused:
        return False
    return True


def register_certificate(user: User, pem: str, label: str) -> tuple[SigningKey, bool]:
    """Accept a qualified GOST certificate as the user's signing key (checked now: chain,
    markers, validity, key usage, CRL), audited; (key, False) if it was registered before."""
    try:
        certificate = cades.load_certificate(pem)
        now = clock.now()
        signer = cades.check_certificate(certificate, trust(), at=now, now=now)
    except cades.QualifiedRefused as refused:
        raise _invalid(refused, "pem") from None
    return _store_key(user, signer, label)


def _store_key(user: User, signer: cades.Signer, label: str) -> tuple[SigningKey, bool]:
    fingerprint = _spki_fingerprint(signer)
    existing = db.session.execute(
        select(SigningKey).where(
            SigningKey.user_id == user.id, SigningKey.fingerprint == fingerprint
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    key = SigningKey(
        user_id=user.id,
        label=(label or _("Qualified: %(name)s", name=signer.name))[:100],
        algorithm=signer.algorithm,
        spki_pem=signer.spki_pem,
        certificate_pem=signer.certificate_pem,
        fingerprint=fingerprint,
        subject=_subject_line(signer)[:500],
        not_before=signer.not_before,
        not_after=signer.not_after,
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
            "certificate": True,
            "qualified": signer.summary,
        },
        actor_user_id=user.id,
    )
    return key, True


def _spki_fingerprint(signer: cades.Signer) -> str:
    return hashlib.sha256(signer.spki_der).hexdigest()


def _subject_line(signer: cades.Signer) -> str:
    parts = [signer.name, signer.organization or ""]
    if signer.inn:
        parts.append(f"INN {signer.inn}")
    if signer.ogrn:
        parts.append(f"{'OGRNIP' if signer.entrepreneur else 'OGRN'} {signer.ogrn}")
    if signer.snils:
        parts.append(f"SNILS {signer.snils}")
    return ", ".join(p for p in parts if p)


def signer_of_key(key: SigningKey) -> cades.Signer | None:
    """The identity a registered qualified key's certificate names (None for other keys);
    cades parses each certificate once per process."""
    if not is_qualified(key) or not key.certificate_pem:
        return None
    return cades.signer_of(cades.load_certificate(key.certificate_pem))


def key_from_signature(user: User, signature: str) -> SigningKey:
    """The user's key for the certificate inside a CAdES signature, registered now if it is
    new (a CryptoPro user never registers keys by hand; the certificate is fully checked)."""
    try:
        certificate = cades.embedded_certificate(signature)
        now = clock.now()
        signer = cades.check_certificate(certificate, trust(), at=now, now=now)
    except cades.QualifiedRefused as refused:
        raise _invalid(refused, "signature") from None
    return _store_key(user, signer, "")[0]


def verify(
    key: SigningKey,
    message: bytes,
    signature: str,
    org: Organization | None,
    *,
    now: dt.datetime | None = None,
    at_signing_only: bool = False,
) -> cades.Verified:
    """Verify a CAdES signature of message bytes made with a registered qualified key, bound
    to the organization's INN and OGRN when one is given; raises Invalid with the reason."""
    try:
        known = [cades.load_certificate(key.certificate_pem or "")]
        verified = cades.verify(
            signature,
            message,
            trust(),
            now=now or clock.now(),
            known=known,
            at_signing_only=at_signing_only,
        )
        if _spki_fingerprint(verified.signer) != key.fingerprint:
            text = _(
                "The signature was made with another certificate than the chosen key "
                "(%(name)s, serial %(serial)s).",
                name=verified.signer.name,
                serial=verified.signer.serial,
            )
            raise Invalid(text, {"signature": text})
        if org is not None:
            cades.check_binding(verified.signer, org.inn, org.ogrn)
    except cades.QualifiedRefused as refused:
        raise _invalid(refused, "signature") from None
    return verified


def explain_bytes(message: bytes, signature: bytes | str, org: Organization | None) -> dict:
    """Check my signature for a CAdES file: every check, passed or failed, in plain words."""
    checks, verified = cades.explain(
        signature,
        message,
        trust(),
        now=clock.now(),
        inn=org.inn if org else None,
        ogrn=org.ogrn if org else None,
    )
    return {
        "valid": verified is not None,
        "checks": [
            {
                "name": translate(c.name),
                "passed": c.passed,
                "message": translate(c.message) if c.message else None,
            }
            for c in checks
        ],
        "signer": signer_view(verified.signer) if verified else None,
    }


def match_certificates(certificates: list[str], org: Organization | None) -> list[dict]:
    """The certificates CryptoPro's browser plug-in found in the user's store, checked as a
    signature made now would be: which of them can sign for the organization (qualified,
    trusted, valid, not revoked, naming its INN and OGRN) and, for the others, why not. The
    bid form offers only the usable ones and shows the rest with their reason."""
    now, trusted = clock.now(), trust()
    answers = []
    for index, text in enumerate(certificates):
        signer, problem = None, None
        try:
            certificate = cades.load_certificate(base64.b64decode("".join(text.split())))
            signer = cades.signer_of(certificate)
            cades.check_certificate(certificate, trusted, at=now)
            if org is not None:
                cades.check_binding(signer, org.inn, org.ogrn)
        except cades.QualifiedRefused as refused:
            problem = translate(refused.args[0])
        except (binascii.Error, ValueError):
            problem = _("The certificate could not be read: it is damaged or not X.509.")
        answers.append(
            {
                "index": index,
                "usable": problem is None,
                "problem": problem,
                "signer": signer_view(signer) if signer else None,
                "fingerprint": signer.fingerprint if signer else None,
            }
        )
    return answers


def signer_view(signer: cades.Signer) -> dict:
    """The signer as receipts, the review and the protocol show it."""
    return {
        **signer.summary,
        "not_before": signer.not_before,
        "not_after": signer.not_after,
    }
