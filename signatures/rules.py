"""Pure signature rules: which supplier keys are accepted, how signatures are verified and made.

Accepted algorithms: ECDSA P-256 with SHA-256 (DER or WebCrypto's raw r||s), Ed25519, and
RSA-PSS with SHA-256/MGF1-SHA-256 (any salt length) on keys of 2048 bits or more.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from core.messages import N_, Moment, Text

ECDSA_P256 = "ecdsa-p256"
ED25519 = "ed25519"
RSA_PSS = "rsa-pss"
ALGORITHMS = (ECDSA_P256, ED25519, RSA_PSS)

MIN_RSA_BITS = 2048
# Generous bounds that still stop a pasted megabyte from reaching the parsers.
MAX_PEM_BYTES = 64 * 1024
MAX_SIGNATURE_CHARS = 4096
MAX_CHAIN_DEPTH = 5

PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey
PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey

# The refusals' words are English Texts keeping their catalog templates: the edge says them
# in the reader's language (core.api.translate).
NOT_A_KEY = N_(
    "This is not a PEM public key or certificate: paste the text starting with "
    "-----BEGIN PUBLIC KEY----- or -----BEGIN CERTIFICATE-----."
)
NOT_BASE64 = N_("The signature is not valid base64.")
MISMATCH = N_("The signature does not match this payload and key.")

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")
_PSS_ANY_SALT = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)


class KeyRefused(ValueError):
    """A public key or certificate the platform does not accept (message is user-facing)."""


class SignatureInvalid(ValueError):
    """A signature that is malformed or does not verify (message is user-facing)."""


@dataclass(frozen=True)
class KeyInfo:
    """An accepted supplier key, with its certificate details when one was given."""

    algorithm: str
    spki_pem: str
    fingerprint: str
    certificate_pem: str | None = None
    subject: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    self_signed: bool = True

    def public_key(self) -> PublicKey:
        """The key as a cryptography object."""
        return serialization.load_pem_public_key(self.spki_pem.encode("ascii"))  # type: ignore


# ---------------------------------------------------------------- accepting keys


def load_key(
    pem: str | bytes,
    *,
    now: datetime,
    trusted_cas: Sequence[x509.Certificate] = (),
    allow_self_signed: bool = True,
) -> KeyInfo:
    """Accept a PEM public key or X.509 certificate as a signing key, or raise KeyRefused."""
    if now.tzinfo is None:
        raise ValueError("load_key() needs a timezone-aware 'now'.")
    data = _pem_bytes(pem)
    labels = _PEM_BLOCK.findall(data)
    if labels and labels[0] == b"CERTIFICATE":
        return _certificate_key(data, now, list(trusted_cas), allow_self_signed)
    if labels and labels[0].endswith(b"PRIVATE KEY"):
        raise KeyRefused(
            Text(
                N_(
                    "This is a private key. Upload the public key only and keep the private "
                    "key secret."
                )
            )
        )
    public_key = _parse_public_key(data)
    algorithm = _classify(public_key)
    if not allow_self_signed:
        raise KeyRefused(
            Text(
                N_(
                    "A bare public key is not accepted here: upload an X.509 certificate issued "
                    "by a certification authority the platform trusts."
                )
            )
        )
    return _key_info(public_key, algorithm)  # type: ignore[arg-type]


def _pem_bytes(pem: str | bytes) -> bytes:
    if isinstance(pem, str):
        try:
            pem = pem.encode("ascii")
        except UnicodeEncodeError as exc:
            raise KeyRefused(Text(NOT_A_KEY)) from exc
    if not isinstance(pem, bytes) or not pem.strip():
        raise KeyRefused(Text(NOT_A_KEY))
    if len(pem) > MAX_PEM_BYTES:
        raise KeyRefused(Text(N_("The key text is too large.")))
    return pem.strip()


def _parse_public_key(data: bytes) -> object:
    try:
        return serialization.load_pem_public_key(data)
    except UnsupportedAlgorithm as exc:
        raise KeyRefused(
            Text(
                N_(
                    "Only ECDSA P-256, Ed25519 and RSA (2048 bits or more, used with PSS) keys "
                    "are accepted; this key type is unknown."
                )
            )
        ) from exc
    except ValueError as exc:
        raise KeyRefused(Text(NOT_A_KEY)) from exc


def _classify(public_key: object) -> str:
    """The algorithm name of an acceptable public key, or KeyRefused."""
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return ED25519
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if not isinstance(public_key.curve, ec.SECP256R1):
            text = N_("Only the P-256 curve is accepted for ECDSA keys; this key uses %(curve)s.")
            raise KeyRefused(Text(text, curve=public_key.curve.name))
        return ECDSA_P256
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            text = N_("RSA keys must be at least %(min)s bits; this one has %(bits)s.")
            raise KeyRefused(Text(text, min=MIN_RSA_BITS, bits=public_key.key_size))
        return RSA_PSS
    kind = type(public_key).__name__.removeprefix("_").removesuffix("PublicKey")
    text = N_(
        "Only ECDSA P-256, Ed25519 and RSA (2048 bits or more, used with PSS) keys are "
        "accepted; this key is %(kind)s."
    )
    raise KeyRefused(Text(text, kind=kind or Text(N_("of another type"))))


def _key_info(public_key: PublicKey, algorithm: str, **certificate) -> KeyInfo:
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pem = public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return KeyInfo(
        algorithm=algorithm,
        spki_pem=pem.decode("ascii"),
        fingerprint=hashlib.sha256(der).hexdigest(),
        **certificate,
    )


# ---------------------------------------------------------------- certificates


def _certificate_key(
    data: bytes, now: datetime, trusted_cas: list[x509.Certificate], allow_self_signed: bool
) -> KeyInfo:
    leaf, *intermediates = _parse_certificates(data)
    algorithm = _classify(_certificate_public_key(leaf))
    _check_validity(leaf, now)
    _check_key_usage(leaf)
    # Self-issued means nobody else vouches for the key: it is treated like a bare key.
    self_signed = leaf.subject == leaf.issuer
    if self_signed and not allow_self_signed:
        raise KeyRefused(
            Text(
                N_(
                    "Self-signed certificates are not accepted here: upload a certificate "
                    "issued by a certification authority the platform trusts."
                )
            )
        )
    if not self_signed and trusted_cas:
        _check_chain(leaf, intermediates, trusted_cas, now)
    return _key_info(
        leaf.public_key(),  # type: ignore[arg-type]
        algorithm,
        certificate_pem=leaf.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        subject=leaf.subject.rfc4514_string(),
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
        self_signed=self_signed,
    )


def _parse_certificates(data: bytes) -> list[x509.Certificate]:
    try:
        certificates = x509.load_pem_x509_certificates(data)
        for certificate in certificates:
            certificate.extensions  # noqa: B018 - parse now so a bad extension is refused here
    except ValueError as exc:
        text = N_("The certificate could not be read: it is damaged or not X.509.")
        raise KeyRefused(Text(text)) from exc
    return certificates


def _certificate_public_key(certificate: x509.Certificate) -> object:
    try:
        return certificate.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        text = N_(
            "Only ECDSA P-256, Ed25519 and RSA (2048 bits or more, used with PSS) keys are "
            "accepted; the certificate holds another kind."
        )
        raise KeyRefused(Text(text)) from exc


def _valid_at(certificate: x509.Certificate, now: datetime) -> bool:
    return certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc


def _check_validity(certificate: x509.Certificate, now: datetime) -> None:
    if now < certificate.not_valid_before_utc:
        text = N_("The certificate is not valid yet: it becomes valid on %(at)s.")
        raise KeyRefused(Text(text, at=_moment(certificate.not_valid_before_utc)))
    if now > certificate.not_valid_after_utc:
        text = N_("The certificate expired on %(at)s.")
        raise KeyRefused(Text(text, at=_moment(certificate.not_valid_after_utc)))


def _moment(moment: datetime) -> Moment:
    """A certificate's moment: in UTC in English, in Moscow time in Russian."""
    return Moment(moment, "Europe/Moscow", english=moment.strftime("%Y-%m-%d %H:%M UTC"))


def _check_key_usage(certificate: x509.Certificate) -> None:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return  # no KeyUsage extension means no restriction (RFC 5280, 4.2.1.3)
    if not usage.digital_signature:
        raise KeyRefused(Text(N_("The certificate's key usage does not allow digital signatures.")))


def _check_chain(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    trusted_cas: list[x509.Certificate],
    now: datetime,
) -> None:
    # Walk up from the leaf through intermediates pasted after it until a trusted CA signed
    # the current certificate; the depth bound also stops issuer loops.
    current = leaf
    for _ in range(MAX_CHAIN_DEPTH):
        if any(_issued_by(current, ca, now) for ca in trusted_cas):
            return
        issuer = next(
            (c for c in intermediates if _may_issue(c) and _issued_by(current, c, now)), None
        )
        if issuer is None:
            break
        current = issuer
    raise KeyRefused(
        Text(
            N_(
                "The certificate was not issued by a certification authority the platform "
                "trusts (or the issuing certificate has expired)."
            )
        )
    )


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate, now: datetime) -> bool:
    if not _valid_at(issuer, now):
        return False
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _may_issue(certificate: x509.Certificate) -> bool:
    """Whether a pasted intermediate is a CA certificate allowed to sign certificates."""
    extensions = certificate.extensions
    try:
        if not extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return False
    except x509.ExtensionNotFound:
        return False
    try:
        return extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    except x509.ExtensionNotFound:
        return True


# ---------------------------------------------------------------- verifying


def decode_signature(text: str) -> bytes:
    """Decode a signature given as base64 or base64url, padded or not, whitespace ignored."""
    compact = "".join(text.split())
    if not compact:
        raise SignatureInvalid(Text(N_("The signature is empty.")))
    if len(compact) > MAX_SIGNATURE_CHARS:
        raise SignatureInvalid(Text(N_("The signature is too long.")))
    if not _BASE64_TEXT.fullmatch(compact):
        raise SignatureInvalid(Text(NOT_BASE64))
    body = compact.rstrip("=").translate(_URLSAFE_TO_STANDARD)
    if len(body) % 4 == 1:  # no byte string encodes to this length
        raise SignatureInvalid(Text(NOT_BASE64))
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except binascii.Error as exc:
        raise SignatureInvalid(Text(NOT_BASE64)) from exc


def verify(key: KeyInfo | str, message: bytes, signature: bytes) -> None:
    """Check a signature over message bytes with an accepted key; raise SignatureInvalid."""
    public_key = _verifying_key(key)
    if not signature:
        raise SignatureInvalid(Text(N_("The signature is empty.")))
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        _verify_ecdsa(public_key, message, bytes(signature))
    elif isinstance(public_key, ed25519.Ed25519PublicKey):
        _verify_ed25519(public_key, message, bytes(signature))
    else:
        _verify_rsa_pss(public_key, message, bytes(signature))


def _verifying_key(key: KeyInfo | str) -> PublicKey:
    pem = key.spki_pem if isinstance(key, KeyInfo) else key
    public_key = _parse_public_key(_pem_bytes(pem))
    _classify(public_key)  # also re-checks stored keys against today's rules
    return public_key  # type: ignore[return-value]


def _verify_ecdsa(public_key: ec.EllipticCurvePublicKey, message: bytes, signature: bytes) -> None:
    for der in _ecdsa_der_candidates(signature):
        try:
            public_key.verify(der, message, ec.ECDSA(hashes.SHA256()))
            return
        except InvalidSignature:
            continue
    raise SignatureInvalid(Text(MISMATCH))


def _ecdsa_der_candidates(signature: bytes) -> list[bytes]:
    # WebCrypto returns r||s (IEEE P1363), openssl and most libraries DER; 64 bytes is
    # tried as r||s first, and also as DER in the unlikely case it parses as DER.
    candidates = []
    if len(signature) == 64:
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        candidates.append(encode_dss_signature(r, s))
    try:
        decode_dss_signature(signature)
        candidates.append(signature)
    except ValueError:
        pass
    if not candidates:
        raise SignatureInvalid(
            f"An ECDSA P-256 signature is either DER-encoded or exactly 64 bytes (raw r||s); "
            f"this one is {len(signature)} bytes and neither."
        )
    return candidates


def _verify_ed25519(public_key: ed25519.Ed25519PublicKey, message: bytes, signature: bytes) -> None:
    if len(signature) != 64:
        raise SignatureInvalid(
            f"An Ed25519 signature is 64 bytes; this one is {len(signature)} bytes."
        )
    try:
        public_key.verify(signature, message)
    except InvalidSignature as exc:
        raise SignatureInvalid(Text(MISMATCH)) from exc


def _verify_rsa_pss(public_key: rsa.RSAPublicKey, message: bytes, signature: bytes) -> None:
    expected = (public_key.key_size + 7) // 8
    if len(signature) != expected:
        raise SignatureInvalid(
            f"An RSA signature for this {public_key.key_size}-bit key is {expected} bytes; "
            f"this one is {len(signature)} bytes."
        )
    try:
        public_key.verify(signature, message, _PSS_ANY_SALT, hashes.SHA256())
    except InvalidSignature as exc:
        raise SignatureInvalid(_rsa_mismatch(public_key, message, signature)) from exc


def _rsa_mismatch(public_key: rsa.RSAPublicKey, message: bytes, signature: bytes) -> str:
    # The most common integrator mistake is forgetting PSS padding; say so instead of only
    # "does not match". The PKCS#1 v1.5 signature is still refused.
    try:
        public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return MISMATCH
    return (
        "This is an RSA PKCS#1 v1.5 signature; only RSA-PSS is accepted "
        "(with openssl add: -sigopt rsa_padding_mode:pss)."
    )


# ---------------------------------------------------------------- signing


def generate_platform_key() -> bytes:
    """A new ECDSA P-256 private key as unencrypted PKCS#8 PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_key(pem: bytes, password: bytes | None = None) -> PrivateKey:
    """Load a PEM private key of an accepted algorithm, or raise KeyRefused."""
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except TypeError as exc:
        # cryptography raises TypeError when a password is missing or superfluous.
        raise KeyRefused(f"The private key could not be opened: {exc}") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyRefused("This is not a PEM private key (or the password is wrong).") from exc
    _classify(key.public_key())
    return key  # type: ignore[return-value]


def public_pem(private_key: PrivateKey) -> str:
    """The SubjectPublicKeyInfo PEM of a private key."""
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def sign(private_key: PrivateKey, message: bytes) -> bytes:
    """Sign message bytes: DER ECDSA-SHA256, Ed25519, or RSA-PSS-SHA256 (salt = 32 bytes)."""
    _classify(private_key.public_key())
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return private_key.sign(message, ec.ECDSA(hashes.SHA256()))
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign(message)
    # Salt = digest length: what WebCrypto users and most verifiers configure explicitly.
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
    return private_key.sign(message, pss, hashes.SHA256())
