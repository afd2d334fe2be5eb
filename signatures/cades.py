"""Qualified electronic signatures (КЭП): detached CAdES-BES CMS with GOST R 34.10-2012
(256 and 512 bits) and Streebog digests, their certificates, chains, CRLs, the qualified
markers and the signer's identity (INN, OGRN or OGRNIP, SNILS).

Pure: structures are parsed with asn1crypto, the GOST arithmetic is OpenSSL's GOST engine
(signatures/gost_engine.py); the current time, the trusted certificates and the CRLs come in
as arguments. Every refusal is a QualifiedRefused whose message (a Text) names the reason.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from asn1crypto import cms, core, crl, pem, tsp, x509

from core.messages import N_, Moment, Text
from signatures import gost_engine

GOST_256 = "gost2012-256"
GOST_512 = "gost2012-512"
ALGORITHMS = (GOST_256, GOST_512)

MAX_CMS_BYTES = 64 * 1024
MAX_CERTIFICATE_BYTES = 16 * 1024
MAX_CHAIN_DEPTH = 5
# A signer's clock may run a little ahead of the platform's.
CLOCK_SKEW = timedelta(minutes=5)

# Key and signature algorithms (TC 26), digests, markers and identity OIDs.
_KEY_OIDS = {"1.2.643.7.1.1.1.1": GOST_256, "1.2.643.7.1.1.1.2": GOST_512}
_DIGEST_OIDS = {
    "1.2.643.7.1.1.2.2": gost_engine.STREEBOG_256,
    "1.2.643.7.1.1.2.3": gost_engine.STREEBOG_512,
}
_SIGNATURE_OIDS = {
    "1.2.643.7.1.1.3.2": gost_engine.STREEBOG_256,
    "1.2.643.7.1.1.3.3": gost_engine.STREEBOG_512,
}
_DIGEST_OF_KEY = {GOST_256: gost_engine.STREEBOG_256, GOST_512: gost_engine.STREEBOG_512}
SUBJECT_SIGN_TOOL = "1.2.643.100.111"
ISSUER_SIGN_TOOL = "1.2.643.100.112"
_QUALIFIED_POLICIES = {f"1.2.643.100.113.{n}" for n in range(1, 7)}
_OGRN, _SNILS, _INNLE = "1.2.643.100.1", "1.2.643.100.3", "1.2.643.100.4"
_OGRNIP, _INN = "1.2.643.100.5", "1.2.643.3.131.1.1"
_ESS_HASHES = {"2.16.840.1.101.3.4.2.1": "sha256", **_DIGEST_OIDS}

_PEM_CMS = re.compile(rb"-----BEGIN (CMS|PKCS7|PKCS #7 SIGNED DATA)-----")
_BASE64 = re.compile(rb"[A-Za-z0-9+/=_\-\s]+")


class QualifiedRefused(ValueError):
    """A qualified signature or certificate the platform does not accept (user-facing Text);
    reason is a short code (malformed, not_gost, digest_mismatch, expired, untrusted...)."""

    def __init__(self, reason: str, message: Text):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Revocations:
    """One CRL as the checks read it, prepared once when the folder is loaded (a large centre's
    CRL holds hundreds of thousands of entries)."""

    issuer: bytes  # the issuer's name, DER
    this_update: datetime
    next_update: datetime | None
    revoked: dict[int, datetime] = field(repr=False)
    tbs: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    digest: str | None = None

    @classmethod
    def of(cls, revocations: crl.CertificateList) -> Revocations:
        """From a parsed CRL."""
        tbs = revocations["tbs_cert_list"]
        next_update = tbs["next_update"].native
        return cls(
            issuer=tbs["issuer"].dump(),
            this_update=tbs["this_update"].native.astimezone(UTC),
            next_update=next_update.astimezone(UTC) if next_update else None,
            revoked={
                entry["user_certificate"].native: entry["revocation_date"].native.astimezone(UTC)
                for entry in tbs["revoked_certificates"] or []
            },
            tbs=tbs.dump(),
            signature=revocations["signature"].native,
            digest=_SIGNATURE_OIDS.get(revocations["signature_algorithm"]["algorithm"].dotted),
        )


@dataclass(frozen=True)
class Trust:
    """What the operator configured: trusted root and intermediate certificates, and CRLs."""

    certificates: tuple[x509.Certificate, ...] = ()
    crls: tuple[Revocations, ...] = ()

    @functools.cached_property
    def ders(self) -> frozenset[bytes]:
        """The trusted certificates' DER, computed once per loaded folder (not per chain)."""
        return frozenset(c.dump() for c in self.certificates)


@dataclass(frozen=True)
class Signer:
    """Who a qualified certificate names, and the certificate itself."""

    algorithm: str
    name: str
    snils: str | None
    inn: str | None
    ogrn: str | None
    entrepreneur: bool
    organization: str | None
    title: str | None
    issuer: str
    serial: str
    fingerprint: str
    not_before: datetime
    not_after: datetime
    certificate_der: bytes = field(repr=False)
    spki_der: bytes = field(repr=False)

    @property
    def certificate_pem(self) -> str:
        """The certificate as PEM text."""
        return pem.armor("CERTIFICATE", self.certificate_der).decode("ascii")

    @property
    def spki_pem(self) -> str:
        """The SubjectPublicKeyInfo as PEM text."""
        return pem.armor("PUBLIC KEY", self.spki_der).decode("ascii")

    @property
    def summary(self) -> dict:
        """What receipts, the review and the protocol show of the signer."""
        return {
            "kind": "qualified",
            "algorithm": self.algorithm,
            "name": self.name,
            "snils": self.snils,
            "inn": self.inn,
            "ogrn": self.ogrn,
            "entrepreneur": self.entrepreneur,
            "organization": self.organization,
            "issuer": self.issuer,
            "serial": self.serial,
        }


@dataclass(frozen=True)
class Verified:
    """A qualified signature that verified."""

    signer: Signer
    signing_time: datetime
    digest: str


# ---------------------------------------------------------------- input


def decode_cms(data: bytes | str) -> bytes:
    """The DER bytes of a CMS given as DER, PEM or base64 (whitespace ignored)."""
    if isinstance(data, str):
        try:
            data = data.encode("ascii")
        except UnicodeEncodeError:
            raise _malformed() from None
    if not data or not data.strip():
        raise QualifiedRefused("malformed", Text(N_("The signature file is empty.")))
    if len(data) > MAX_CMS_BYTES * 2:
        raise _too_large()
    if data[:1] == b"\x30":
        der = data
    else:
        body = data
        if _PEM_CMS.search(data):
            body = b"".join(
                line for line in data.splitlines() if line and not line.startswith(b"-----")
            )
        if not _BASE64.fullmatch(body.strip()):
            raise _malformed()
        compact = b"".join(body.split()).rstrip(b"=").translate(bytes.maketrans(b"-_", b"+/"))
        try:
            der = base64.b64decode(compact + b"=" * (-len(compact) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise _malformed() from None
    if len(der) > MAX_CMS_BYTES:
        raise _too_large()
    return der


def looks_like_cms(signature: str) -> bool:
    """Whether a base64 signature text is a CMS (starts with a DER SEQUENCE) rather than a raw
    ECDSA, Ed25519 or RSA signature."""
    head = "".join(signature.split())[:8]
    return head.startswith("MI")  # base64 of 0x30 0x8x: a long DER SEQUENCE


def _too_large() -> QualifiedRefused:
    text = N_("The signature file is too large (at most %(kib)s KiB).")
    return QualifiedRefused("too_large", Text(text, kib=MAX_CMS_BYTES // 1024))


def _malformed() -> QualifiedRefused:
    return QualifiedRefused(
        "malformed",
        Text(
            N_(
                "The signature file could not be read: it is not a CMS (CAdES) signature in "
                "DER, PEM or base64, or it is damaged."
            )
        ),
    )


def load_certificate(data: bytes | str) -> x509.Certificate:
    """A certificate from PEM or DER, fully parsed, or QualifiedRefused."""
    if isinstance(data, str):
        data = data.encode("ascii", "replace")
    if len(data) > MAX_CERTIFICATE_BYTES * 2:
        raise QualifiedRefused("malformed", Text(N_("The certificate is too large.")))
    try:
        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        certificate = _parsed_certificate(bytes(data))
    except QualifiedRefused:
        raise
    except Exception:  # noqa: BLE001 - asn1crypto raises many kinds on hostile input
        text = N_("The certificate could not be read: it is damaged or not X.509.")
        raise QualifiedRefused("malformed", Text(text)) from None
    return certificate


def load_trust(certificates: Iterable[bytes], crls: Iterable[bytes]) -> Trust:
    """Trusted certificates and CRLs from file contents (PEM, possibly several, or DER);
    files that are not GOST certificates are skipped (the folder may hold other CAs too)."""
    trusted, lists = [], []
    for data in certificates:
        for der in _pem_blocks(data, "CERTIFICATE"):
            try:
                trusted.append(load_certificate(der))
            except QualifiedRefused:
                continue
    for data in crls:
        for der in _pem_blocks(data, "X509 CRL"):
            try:
                revocations = crl.CertificateList.load(der, strict=True)
                _parse_all(revocations)
                lists.append(Revocations.of(revocations))
            except Exception:  # noqa: BLE001, S112 - an unreadable CRL counts as absent
                continue
    return Trust(tuple(trusted), tuple(lists))


def _pem_blocks(data: bytes, label: str) -> list[bytes]:
    if not pem.detect(data):
        return [data]
    return [der for kind, _, der in pem.unarmor(data, multiple=True) if kind == label]


def _parse_all(value) -> None:
    """Force asn1crypto's lazy parsing so that damage is found here, not later."""
    value.native  # noqa: B018


class _KeyAlgorithm(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Any, {"optional": True})]


class _PublicKeyInfo(core.Sequence):
    """SubjectPublicKeyInfo read generically: asn1crypto's own spec refuses unknown (GOST)
    key algorithms as soon as any of its fields is read."""

    _fields = [("algorithm", _KeyAlgorithm), ("public_key", core.BitString)]


def _spki_der(certificate: x509.Certificate) -> bytes:
    return certificate["tbs_certificate"]["subject_public_key_info"].dump()


def _spki(certificate: x509.Certificate) -> _PublicKeyInfo:
    return _PublicKeyInfo.load(_spki_der(certificate), strict=True)


@functools.lru_cache(maxsize=1024)
def _parsed_certificate(der: bytes) -> x509.Certificate:
    """A certificate (carried in a signature, registered, or in a CryptoPro store), parsed once
    per process (suppliers sign many revisions with the same certificate); never modified
    after parsing."""
    certificate = x509.Certificate.load(der, strict=True)
    _parse_certificate(certificate)
    return certificate


def _parse_certificate(certificate: x509.Certificate) -> None:
    """Parse everything but the public key (asn1crypto does not know GOST keys: their
    SubjectPublicKeyInfo goes to OpenSSL as DER)."""
    tbs = certificate["tbs_certificate"]
    for name in ("version", "serial_number", "signature", "issuer", "validity", "subject"):
        _parse_all(tbs[name])
    _parse_all(_spki(certificate))
    for extension in tbs["extensions"] or []:
        _parse_all(extension)
    _parse_all(certificate["signature_algorithm"])
    _parse_all(certificate["signature_value"])


# ---------------------------------------------------------------- certificates


def signer_of(certificate: x509.Certificate) -> Signer:
    """The identity a GOST certificate names (no trust decided here); read once per process
    for each certificate (verify() and check_certificate() both ask for it)."""
    return _signer_of_der(certificate.dump())


@functools.lru_cache(maxsize=1024)
def _signer_of_der(der: bytes) -> Signer:
    certificate = _parsed_certificate(der)
    algorithm = _key_algorithm(certificate)
    subject = _name_values(certificate.subject)
    surname, given = subject.get("2.5.4.4"), subject.get("2.5.4.42")
    name = " ".join(p for p in (surname, given) if p) or subject.get("2.5.4.3") or ""
    entrepreneur = _OGRNIP in subject or (_INN in subject and _INNLE not in subject)
    inn = subject.get(_INNLE) or subject.get(_INN)
    tbs = certificate["tbs_certificate"]
    return Signer(
        algorithm=algorithm,
        name=name,
        snils=subject.get(_SNILS),
        inn=inn,
        ogrn=subject.get(_OGRNIP) if entrepreneur else subject.get(_OGRN),
        entrepreneur=entrepreneur,
        organization=subject.get("2.5.4.10"),
        title=subject.get("2.5.4.12"),
        issuer=_name_values(certificate.issuer).get("2.5.4.3") or certificate.issuer.human_friendly,
        serial=format(tbs["serial_number"].native, "X"),
        fingerprint=hashlib.sha256(der).hexdigest(),
        not_before=tbs["validity"]["not_before"].native.astimezone(UTC),
        not_after=tbs["validity"]["not_after"].native.astimezone(UTC),
        certificate_der=der,
        spki_der=_spki_der(certificate),
    )


def _same_name(a: x509.Name, b: x509.Name) -> bool:
    """Names compared as encoded (as OpenSSL does): issuers copy their subject's bytes, and
    asn1crypto's RFC 4518 comparison costs more than the GOST arithmetic."""
    return a.dump() == b.dump()


def _name_values(name: x509.Name) -> dict[str, str]:
    values = {}
    for rdn in name.chosen:
        for attribute in rdn:
            value = attribute["value"].native
            if isinstance(value, str):
                values[attribute["type"].dotted] = value.strip()
    return values


def _key_algorithm(certificate: x509.Certificate) -> str:
    oid = _spki(certificate)["algorithm"]["algorithm"]
    algorithm = _KEY_OIDS.get(oid.dotted)
    if algorithm is None:
        text = N_(
            "A qualified signature needs a GOST R 34.10-2012 certificate (256 or 512 bits); "
            "this certificate's key is %(kind)s."
        )
        raise QualifiedRefused("not_gost", Text(text, kind=_oid_name(oid)))
    return algorithm


def _oid_name(oid) -> str:
    try:
        return oid.native if oid.native != oid.dotted else oid.dotted
    except Exception:  # noqa: BLE001
        return "?"


def _moment(moment: datetime) -> Moment:
    return Moment(moment, "Europe/Moscow", english=moment.strftime("%Y-%m-%d %H:%M UTC"))


def check_certificate(
    certificate: x509.Certificate,
    trust: Trust,
    *,
    at: datetime,
    extra: Sequence[x509.Certificate] = (),
    now: datetime | None = None,
) -> Signer:
    """Check a signer's certificate for a qualified signature made at `at` (and still not
    revoked by `now`): GOST key, validity, key usage, markers, chain, revocation."""
    signer = signer_of(certificate)
    _check_validity(signer, at)
    _check_key_usage(certificate)
    _check_markers(certificate)
    chain = _chain(certificate, list(extra), trust, at)
    for issued, issuer in zip([certificate, *chain], chain):
        _check_revocation(issued, issuer, trust, now or at)
    return signer


def _check_validity(signer: Signer, at: datetime) -> None:
    if at < signer.not_before:
        text = N_("The certificate was not valid yet at signing: it is valid from %(at)s.")
        raise QualifiedRefused("not_yet_valid", Text(text, at=_moment(signer.not_before)))
    if at > signer.not_after:
        text = N_("The certificate had expired at signing: it expired on %(at)s.")
        raise QualifiedRefused("expired", Text(text, at=_moment(signer.not_after)))


def _check_key_usage(certificate: x509.Certificate) -> None:
    usage = certificate.key_usage_value
    if usage is not None and "digital_signature" not in usage.native:
        text = N_("The certificate's key usage does not allow digital signatures.")
        raise QualifiedRefused("key_usage", Text(text))


def _check_markers(certificate: x509.Certificate) -> None:
    extensions = {
        e["extn_id"].dotted: e for e in certificate["tbs_certificate"]["extensions"] or []
    }
    missing = [
        name
        for name, oid in (
            ("subjectSignTool", SUBJECT_SIGN_TOOL),
            ("issuerSignTool", ISSUER_SIGN_TOOL),
        )
        if oid not in extensions
    ]
    policies = certificate.certificate_policies_value
    oids = {p["policy_identifier"].dotted for p in policies} if policies is not None else set()
    if not oids & _QUALIFIED_POLICIES:
        missing.append("certificatePolicies (КС1...КВ2)")
    if missing:
        text = N_(
            "The certificate is not a qualified one: it lacks %(markers)s, which a qualified "
            "certificate from an accredited certification centre carries."
        )
        raise QualifiedRefused("not_qualified", Text(text, markers=", ".join(missing)))


def _chain(
    certificate: x509.Certificate,
    extra: list[x509.Certificate],
    trust: Trust,
    at: datetime,
) -> list[x509.Certificate]:
    """The issuers from the certificate up to a trusted certificate (that one included)."""
    if not trust.certificates:
        text = N_(
            "The platform has no trusted certification centres configured: qualified "
            "signatures cannot be checked (operator: set SIGNATURE_TRUSTED_CA_DIR)."
        )
        raise QualifiedRefused("untrusted", Text(text))
    chain, current = [], certificate
    for _ in range(MAX_CHAIN_DEPTH):
        issuer = _find_issuer(current, [*trust.certificates, *extra], at)
        if issuer is None:
            break
        chain.append(issuer)
        if issuer.dump() in trust.ders:
            return chain
        current = issuer
    text = N_(
        "The certificate was not issued by a certification centre the platform trusts (issuer: "
        "%(issuer)s), or an issuing certificate had expired."
    )
    issuer_name = _name_values(current.issuer).get("2.5.4.3") or current.issuer.human_friendly
    raise QualifiedRefused("untrusted", Text(text, issuer=issuer_name))


def _find_issuer(
    certificate: x509.Certificate, candidates: list[x509.Certificate], at: datetime
) -> x509.Certificate | None:
    for candidate in candidates:
        if not _same_name(candidate.subject, certificate.issuer) or not candidate.ca:
            continue
        validity = candidate["tbs_certificate"]["validity"]
        if not validity["not_before"].native <= at <= validity["not_after"].native:
            continue
        usage = candidate.key_usage_value
        if usage is not None and "key_cert_sign" not in usage.native:
            continue
        if _signed_by(certificate, candidate):
            return candidate
    return None


def _signed_by(signed: x509.Certificate, issuer: x509.Certificate) -> bool:
    tbs, value = signed["tbs_certificate"], signed["signature_value"]
    algorithm = signed["signature_algorithm"]
    digest = _SIGNATURE_OIDS.get(algorithm["algorithm"].dotted)
    if digest is None:
        return False
    return _issuer_signature_ok(_spki_der(issuer), digest, tbs.dump(), value.native)


@functools.lru_cache(maxsize=4096)
def _issuer_signature_ok(spki_der: bytes, digest: str, tbs: bytes, signature: bytes) -> bool:
    """A certificate's or CRL's signature by its issuer: the same bytes always give the same
    answer, so each certificate and CRL of a centre is verified once per process."""
    return gost_engine.verify(spki_der, digest, tbs, signature)


def _check_revocation(
    certificate: x509.Certificate, issuer: x509.Certificate, trust: Trust, now: datetime
) -> None:
    subject = issuer.subject.dump()
    lists = [
        c
        for c in trust.crls
        if c.issuer == subject
        and c.digest is not None
        and _issuer_signature_ok(_spki_der(issuer), c.digest, c.tbs, c.signature)
    ]
    name = _name_values(issuer.subject).get("2.5.4.3") or issuer.subject.human_friendly
    if not lists:
        text = N_(
            "The revocation list (CRL) of the certification centre %(issuer)s is not available "
            "to the platform, so the certificate's status cannot be checked."
        )
        raise QualifiedRefused("no_crl", Text(text, issuer=name))
    newest = max(lists, key=lambda c: c.this_update)
    next_update = newest.next_update
    if next_update is not None and next_update < now:
        text = N_(
            "The revocation list (CRL) of %(issuer)s is out of date (its next update was due "
            "%(at)s); the certificate's status cannot be checked."
        )
        raise QualifiedRefused("stale_crl", Text(text, issuer=name, at=_moment(next_update)))
    revoked_at = newest.revoked.get(certificate.serial_number)
    if revoked_at is not None and revoked_at <= now:
        text = N_("The certificate was revoked by its certification centre on %(at)s.")
        raise QualifiedRefused("revoked", Text(text, at=_moment(revoked_at)))


# ---------------------------------------------------------------- binding


def check_binding(signer: Signer, inn: str, ogrn: str | None) -> None:
    """The certificate must name the bidding organization: its INN, and its OGRN (OGRNIP)
    when the organization has one on record."""
    if signer.inn != inn:
        text = N_(
            "The certificate belongs to another organization: its INN is %(cert)s, the "
            "bidding organization's INN is %(org)s."
        )
        raise QualifiedRefused("wrong_inn", Text(text, cert=signer.inn or "—", org=inn))
    if ogrn and signer.ogrn != ogrn:
        label = Text(N_("OGRNIP")) if signer.entrepreneur else Text(N_("OGRN"))
        text = N_(
            "The certificate belongs to another organization: its %(label)s is %(cert)s, the "
            "bidding organization's is %(org)s."
        )
        raise QualifiedRefused(
            "wrong_ogrn", Text(text, label=label, cert=signer.ogrn or "—", org=ogrn)
        )


# ---------------------------------------------------------------- signatures


@dataclass(frozen=True)
class _Parsed:
    signer_info: cms.SignerInfo
    certificates: list[x509.Certificate]
    content: bytes | None


def _parse_cms(der: bytes) -> _Parsed:
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].dotted != "1.2.840.113549.1.7.2":
            raise _malformed()
        signed = info["content"]
        # Parsed as far as read: whatever a damaged part raises later is a refusal too
        # (verify() turns any parsing error into "malformed").
        infos = list(signed["signer_infos"])
        certificates = [
            _parsed_certificate(c.chosen.dump())
            for c in signed["certificates"] or []
            if isinstance(c.chosen, x509.Certificate)
        ]
        encapsulated = signed["encap_content_info"]["content"]
        content = encapsulated.native if encapsulated.native is not None else None
    except QualifiedRefused:
        raise
    except Exception:  # noqa: BLE001 - asn1crypto raises many kinds on hostile input
        raise _malformed() from None
    if len(infos) != 1:
        text = N_("The file holds %(count)s signatures; exactly one is expected.")
        raise QualifiedRefused("signer_count", Text(text, count=len(infos)))
    return _Parsed(infos[0], certificates, content)


def _signer_certificate(parsed: _Parsed, known: Sequence[x509.Certificate]) -> x509.Certificate:
    sid = parsed.signer_info["sid"]
    for certificate in [*parsed.certificates, *known]:
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if (
                _same_name(certificate.issuer, wanted["issuer"])
                and certificate.serial_number == wanted["serial_number"].native
            ):
                return certificate
        elif certificate.key_identifier == sid.chosen.native:
            return certificate
    text = N_(
        "The signer's certificate is neither in the signature file nor registered: sign with "
        "the certificate included (cryptcp and openssl cms do so by default)."
    )
    raise QualifiedRefused("no_certificate", Text(text))


def embedded_certificate(data: bytes | str) -> x509.Certificate:
    """The signer's certificate carried inside a CAdES file (not checked here)."""
    try:
        parsed = _parse_cms(decode_cms(data))
        return _signer_certificate(parsed, ())
    except QualifiedRefused:
        raise
    except Exception:  # noqa: BLE001 - whatever a hostile file makes asn1crypto raise
        raise _malformed() from None


def verify(
    data: bytes | str,
    content: bytes,
    trust: Trust,
    *,
    now: datetime,
    known: Sequence[x509.Certificate] = (),
    at_signing_only: bool = False,
) -> Verified:
    """Verify a detached CAdES-BES signature over content, with its certificate and chain.

    now: the platform's clock. The certificate must be valid at the signing time the file
    claims (which may not be after now) and not revoked by now; at_signing_only (re-checking
    a stored signature later) accepts a revocation after the signing time."""
    if now.tzinfo is None:
        raise ValueError("verify() needs a timezone-aware 'now'.")
    try:
        return _verify(data, content, trust, now, known, at_signing_only)
    except QualifiedRefused:
        raise
    except gost_engine.EngineUnavailable:
        raise
    except Exception:  # noqa: BLE001 - whatever a hostile file makes asn1crypto raise
        raise _malformed() from None


def _verify(data, content, trust, now, known, at_signing_only) -> Verified:
    parsed = _parse_cms(decode_cms(data))
    info = parsed.signer_info
    certificate = _signer_certificate(parsed, known)
    signer = signer_of(certificate)
    digest_name = _digest_of(info, signer)
    attributes = _signed_attributes(info)
    _check_content_type(attributes)
    signing_time = _signing_time(attributes, now)
    _check_message_digest(attributes, digest_name, content, parsed.content)
    _check_signing_certificate(attributes, certificate)
    signed_bytes = b"\x31" + info["signed_attrs"].dump()[1:]  # signed as a SET (RFC 5652 5.4)
    if not gost_engine.verify(signer.spki_der, digest_name, signed_bytes, info["signature"].native):
        text = N_("The signature does not verify with the certificate's key: it was altered.")
        raise QualifiedRefused("bad_signature", Text(text))
    check_certificate(
        certificate,
        trust,
        at=signing_time,
        extra=parsed.certificates,
        now=signing_time if at_signing_only else now,
    )
    return Verified(signer, signing_time, digest_name)


def _digest_of(info: cms.SignerInfo, signer: Signer) -> str:
    digest_oid = info["digest_algorithm"]["algorithm"].dotted
    signature_oid = info["signature_algorithm"]["algorithm"].dotted
    digest = _DIGEST_OIDS.get(digest_oid)
    if digest is None or (signature_oid not in _KEY_OIDS and signature_oid not in _SIGNATURE_OIDS):
        text = N_(
            "The signature is not GOST: its digest is %(digest)s; a qualified signature uses "
            "GOST R 34.11-2012 (Streebog) with GOST R 34.10-2012."
        )
        raise QualifiedRefused(
            "not_gost", Text(text, digest=_oid_name(info["digest_algorithm"]["algorithm"]))
        )
    expected = _DIGEST_OF_KEY[signer.algorithm]
    if digest != expected or _SIGNATURE_OIDS.get(signature_oid, expected) != expected:
        text = N_(
            "The digest algorithm does not match the key: a %(bits)s-bit GOST key signs with "
            "the %(bits)s-bit Streebog digest."
        )
        raise QualifiedRefused("wrong_digest", Text(text, bits=signer.algorithm[-3:]))
    return digest


def _signed_attributes(info: cms.SignerInfo) -> dict[str, list]:
    attributes = info["signed_attrs"]
    if not attributes:
        text = N_(
            "The signature has no signed attributes: a CAdES-BES signature signs the content "
            "type, the message digest, the signing time and the signer's certificate."
        )
        raise QualifiedRefused("not_cades", Text(text))
    found: dict[str, list] = {}
    for attribute in attributes:
        oid = attribute["type"].dotted
        if oid in found:
            raise _malformed()
        found[oid] = list(attribute["values"])
    return found


def _single(attributes: dict[str, list], oid: str, name: str):
    values = attributes.get(oid)
    if not values:
        text = N_("The signature lacks the signed attribute %(name)s required by CAdES-BES.")
        raise QualifiedRefused("not_cades", Text(text, name=name))
    if len(values) != 1:
        raise _malformed()
    return values[0]


def _check_content_type(attributes: dict[str, list]) -> None:
    value = _single(attributes, "1.2.840.113549.1.9.3", "contentType")
    if value.dotted != "1.2.840.113549.1.7.1":
        raise _malformed()


def _signing_time(attributes: dict[str, list], now: datetime) -> datetime:
    value = _single(attributes, "1.2.840.113549.1.9.5", "signingTime").native
    if not isinstance(value, datetime):
        raise _malformed()
    value = value.astimezone(UTC)
    if value > now + CLOCK_SKEW:
        text = N_("The signing time %(at)s is in the future: check the computer's clock.")
        raise QualifiedRefused("future", Text(text, at=_moment(value)))
    return value


def _check_message_digest(
    attributes: dict[str, list], digest_name: str, content: bytes, encapsulated: bytes | None
) -> None:
    value = _single(attributes, "1.2.840.113549.1.9.4", "messageDigest").native
    if encapsulated is not None and encapsulated != content:
        raise _other_bytes()
    if value != gost_engine.digest(digest_name, content):
        raise _other_bytes()


def _other_bytes() -> QualifiedRefused:
    text = N_(
        "The signature was made over other bytes (the message digest does not match): sign "
        "exactly the canonical file downloaded from this page."
    )
    return QualifiedRefused("digest_mismatch", Text(text))


def _check_signing_certificate(attributes: dict[str, list], certificate: x509.Certificate) -> None:
    value = _single(attributes, "1.2.840.113549.1.9.16.2.47", "signingCertificateV2")
    try:
        # asn1crypto's CMS attributes leave this one unparsed (Any); its spec is in tsp.
        first = tsp.SigningCertificateV2.load(value.dump(), strict=True)["certs"][0]
        oid = first["hash_algorithm"]["algorithm"].dotted
        expected = first["cert_hash"].native
    except Exception:  # noqa: BLE001
        raise _malformed() from None
    name = _ESS_HASHES.get(oid)
    if name is None:
        raise _malformed()
    der = certificate.dump()
    actual = hashlib.sha256(der).digest() if name == "sha256" else gost_engine.digest(name, der)
    if actual != expected:
        text = N_("The signingCertificateV2 attribute names another certificate than the signer's.")
        raise QualifiedRefused("wrong_certificate", Text(text))


# ---------------------------------------------------------------- explaining


@dataclass(frozen=True)
class Check:
    """One step of "check my signature": its name, whether it passed, and why not."""

    name: Text
    passed: bool
    message: Text | None = None


def explain(
    data: bytes | str,
    content: bytes,
    trust: Trust,
    *,
    now: datetime,
    inn: str | None = None,
    ogrn: str | None = None,
) -> tuple[list[Check], Verified | None]:
    """Every check of a qualified signature in order, stopping at the first that fails."""
    try:
        verified = verify(data, content, trust, now=now)
        if inn:
            check_binding(verified.signer, inn, ogrn)
    except QualifiedRefused as refused:
        failed = Check(_step_of(refused.reason), False, refused.args[0])
        return [*_passed_before(refused.reason), failed], None
    checks = [Check(step, True) for step in _STEPS.values()]
    return (checks if inn else checks[:-1]), verified


_STEPS = {
    "malformed": Text(N_("The file is a CMS (CAdES) signature")),
    "not_gost": Text(N_("GOST R 34.10-2012 key and Streebog digest")),
    "not_cades": Text(N_("CAdES-BES signed attributes")),
    "digest_mismatch": Text(N_("Signed exactly these bytes")),
    "bad_signature": Text(N_("The signature verifies with the certificate's key")),
    "expired": Text(N_("The certificate was valid at signing")),
    "key_usage": Text(N_("The key may sign")),
    "not_qualified": Text(N_("The certificate is qualified")),
    "untrusted": Text(N_("Issued by a trusted certification centre")),
    "revoked": Text(N_("Not revoked")),
    "wrong_inn": Text(N_("The certificate names your organization")),
}
_ALIASES = {
    "too_large": "malformed",
    "signer_count": "malformed",
    "no_certificate": "malformed",
    "wrong_digest": "not_gost",
    "future": "not_cades",
    "wrong_certificate": "not_cades",
    "not_yet_valid": "expired",
    "no_crl": "revoked",
    "stale_crl": "revoked",
    "wrong_ogrn": "wrong_inn",
}


def _step_of(reason: str) -> Text:
    return _STEPS[_ALIASES.get(reason, reason)]


def _passed_before(reason: str) -> list[Check]:
    key = _ALIASES.get(reason, reason)
    out = []
    for name, step in _STEPS.items():
        if name == key:
            break
        out.append(Check(step, True))
    return out
