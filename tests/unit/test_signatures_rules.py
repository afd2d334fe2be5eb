"""Supplier keys, signature verification and the signed bid payloads."""

import base64
import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from signatures import rules
from signatures.canonical import canonicalize, digest_hex
from signatures.payloads import receipt_payload, revision_payload, utc_timestamp
from signatures.rules import KeyRefused, SignatureInvalid, decode_signature, load_key, verify

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
HASH_A = "a" * 64
HASH_B = "b" * 64


# ---------------------------------------------------------------- helpers


def spki_pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def key_usage(*, digital_signature=False, key_cert_sign=False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=key_cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def make_cert(
    subject_key,
    subject: str,
    *,
    issuer_key=None,
    issuer: str | None = None,
    not_before=NOW - DAY,
    not_after=NOW + 365 * DAY,
    ca=False,
    usage: x509.KeyUsage | None = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(subject))
        .issuer_name(name(issuer or subject))
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if usage is not None:
        builder = builder.add_extension(usage, critical=True)
    signer = issuer_key or subject_key
    algorithm = None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(signer, algorithm)


@pytest.fixture(scope="module")
def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def ca():
    key = ec.generate_private_key(ec.SECP256R1())
    usage = key_usage(key_cert_sign=True)
    return key, make_cert(key, "Test Root CA", ca=True, usage=usage)


def issued_cert(ca, subject_key, **kwargs) -> x509.Certificate:
    ca_key, ca_cert = ca
    return make_cert(
        subject_key,
        "Supplier LLC",
        issuer_key=ca_key,
        issuer=ca_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value,
        **kwargs,
    )


def bid(revision=2, previous=HASH_A, **overrides) -> dict:
    args = {
        "tender_number": "T-2026-000123",
        "bidder_inn": "7707083893",
        "bidder_org_id": 42,
        "revision": revision,
        "previous_hash": previous,
        "lines": [
            {"position": "2", "unit_price": "10.00", "total": "1000.00", "note": ""},
            {"position": "1", "unit_price": "1234.50", "total": "2469.00", "note": "ГОСТ"},
        ],
        "criteria": [{"lot": "1", "criterion": 7, "value": "36"}],
        "documents": [{"name": "offer.pdf", "sha256": HASH_B}],
    }
    args.update(overrides)
    return revision_payload(**args)


# ---------------------------------------------------------------- each algorithm


def test_ecdsa_der_signature_verifies(ec_key):
    key = load_key(spki_pem(ec_key), now=NOW)
    message = canonicalize(bid())
    signature = rules.sign(ec_key, message)
    assert key.algorithm == "ecdsa-p256"
    assert signature[0] == 0x30  # DER SEQUENCE
    verify(key, message, signature)
    verify(key.spki_pem, message, signature)


def test_ecdsa_raw_r_s_signature_verifies(ec_key):
    # What WebCrypto's sign({name: "ECDSA", hash: "SHA-256"}) returns: r and s, 32 bytes each.
    message = canonicalize(bid())
    r, s = decode_dss_signature(ec_key.sign(message, ec.ECDSA(hashes.SHA256())))
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    verify(load_key(spki_pem(ec_key), now=NOW), message, raw)


def test_ed25519_signature_verifies():
    private = ed25519.Ed25519PrivateKey.generate()
    key = load_key(spki_pem(private), now=NOW)
    message = canonicalize(bid())
    assert key.algorithm == "ed25519"
    verify(key, message, rules.sign(private, message))
    verify(key, message, private.sign(message))


@pytest.mark.parametrize("bits", [2048, 3072])
def test_rsa_pss_signature_verifies_with_any_salt_length(bits):
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    key = load_key(spki_pem(private), now=NOW)
    message = canonicalize(bid())
    assert key.algorithm == "rsa-pss"
    verify(key, message, rules.sign(private, message))
    for salt in (0, 32, padding.PSS.MAX_LENGTH):
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt)
        verify(key, message, private.sign(message, pss, hashes.SHA256()))


def test_rsa_pkcs1v15_refused_with_a_hint():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = b"payload"
    signature = private.sign(message, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(SignatureInvalid, match="only RSA-PSS is accepted"):
        verify(spki_pem(private), message, signature)


def test_rsa_signature_of_wrong_length_refused():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SignatureInvalid, match="is 256 bytes; this one is 255 bytes"):
        verify(spki_pem(private), b"payload", b"\x01" * 255)


@pytest.mark.parametrize(
    "make",
    [
        lambda: ec.generate_private_key(ec.SECP256R1()),
        ed25519.Ed25519PrivateKey.generate,
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    ],
)
def test_one_flipped_byte_fails(make):
    private = make()
    message = canonicalize(bid())
    signature = rules.sign(private, message)
    tampered = bytearray(message)
    tampered[len(tampered) // 2] ^= 0x01
    with pytest.raises(SignatureInvalid, match="does not match"):
        verify(spki_pem(private), bytes(tampered), signature)
    flipped = bytearray(signature)
    flipped[-1] ^= 0x01
    with pytest.raises(SignatureInvalid):
        verify(spki_pem(private), message, bytes(flipped))


def test_price_change_breaks_the_signature(ec_key):
    message = canonicalize(bid())
    signature = rules.sign(ec_key, message)
    changed = bid()
    changed["lines"][0]["unit_price"] = "1234.49"
    with pytest.raises(SignatureInvalid):
        verify(spki_pem(ec_key), canonicalize(changed), signature)


def test_signature_for_revision_2_does_not_verify_for_revision_3(ec_key):
    revision_2 = bid(revision=2, previous=HASH_A)
    signature = rules.sign(ec_key, canonicalize(revision_2))
    # Same offer, replayed as the next revision: the revision number and chain hash differ.
    revision_3 = bid(revision=3, previous=digest_hex(revision_2))
    with pytest.raises(SignatureInvalid, match="does not match"):
        verify(spki_pem(ec_key), canonicalize(revision_3), signature)


def test_wrong_length_ecdsa_raw_signature_refused(ec_key):
    with pytest.raises(SignatureInvalid, match="exactly 64 bytes.*this one is 63 bytes"):
        verify(spki_pem(ec_key), b"payload", b"\x11" * 63)


def test_wrong_length_ed25519_signature_refused():
    private = ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(SignatureInvalid, match="64 bytes; this one is 65 bytes"):
        verify(spki_pem(private), b"payload", b"\x11" * 65)


def test_empty_signature_refused(ec_key):
    with pytest.raises(SignatureInvalid, match="empty"):
        verify(spki_pem(ec_key), b"payload", b"")


# ---------------------------------------------------------------- base64


def test_decode_signature_accepts_base64_and_base64url_in_any_layout():
    raw = bytes(range(250, 256)) + bytes(range(61))  # produces '+', '/' and padding
    standard = base64.b64encode(raw).decode()
    url = base64.urlsafe_b64encode(raw).decode()
    assert "+" in standard and "/" in standard and "=" in standard
    wrapped = "\n".join(standard[i : i + 16] for i in range(0, len(standard), 16))
    for text in (standard, url, url.rstrip("="), standard.rstrip("="), f"  {wrapped}\r\n"):
        assert decode_signature(text) == raw


@pytest.mark.parametrize("text", ["not base64!", "abc$", "a", "abcde", "ab=c", "=abc", "ab==="])
def test_decode_signature_refuses_garbage(text):
    with pytest.raises(SignatureInvalid, match="The signature is not valid base64."):
        decode_signature(text)


@pytest.mark.parametrize("text", ["", "   \n"])
def test_decode_signature_refuses_empty(text):
    with pytest.raises(SignatureInvalid, match="empty"):
        decode_signature(text)


# ---------------------------------------------------------------- keys refused


def test_key_info_fields_for_a_bare_key(ec_key):
    key = load_key(spki_pem(ec_key).encode(), now=NOW)
    der = ec_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert key.fingerprint == hashlib.sha256(der).hexdigest()
    assert key.spki_pem == spki_pem(ec_key)
    assert key.certificate_pem is None and key.subject is None and key.not_after is None
    assert key.self_signed is True


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "",
        "ключ",
    ],
)
def test_malformed_pem_refused(text):
    with pytest.raises(KeyRefused, match="not a PEM public key|could not be read"):
        load_key(text, now=NOW)


def test_private_key_pasted_instead_of_public_refused(ec_key):
    pem = ec_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(KeyRefused, match="This is a private key"):
        load_key(pem, now=NOW)


def test_p384_key_refused():
    private = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(KeyRefused, match="Only the P-256 curve is accepted.*secp384r1"):
        load_key(spki_pem(private), now=NOW)


def test_rsa_1024_refused():
    private = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(KeyRefused, match="at least 2048 bits; this one has 1024"):
        load_key(spki_pem(private), now=NOW)


def test_other_key_types_refused():
    private = x25519.X25519PrivateKey.generate()
    with pytest.raises(KeyRefused, match="Only ECDSA P-256, Ed25519 and RSA.*X25519"):
        load_key(spki_pem(private), now=NOW)


def test_naive_now_is_a_programming_error(ec_key):
    with pytest.raises(ValueError, match="timezone-aware"):
        load_key(spki_pem(ec_key), now=NOW.replace(tzinfo=None))


# ---------------------------------------------------------------- certificates


def test_certificate_accepted_with_its_details(ec_key, ca):
    cert = issued_cert(ca, ec_key, usage=key_usage(digital_signature=True))
    key = load_key(cert_pem(cert), now=NOW, trusted_cas=[ca[1]])
    assert key.algorithm == "ecdsa-p256"
    assert key.spki_pem == spki_pem(ec_key)
    assert key.subject == "CN=Supplier LLC"
    assert key.not_before == NOW - DAY and key.not_after == NOW + 365 * DAY
    assert key.certificate_pem == cert_pem(cert)
    assert key.self_signed is False
    message = canonicalize(bid())
    verify(key, message, rules.sign(ec_key, message))


def test_expired_certificate_refused(ec_key):
    cert = make_cert(ec_key, "Old", not_before=NOW - 400 * DAY, not_after=NOW - DAY)
    with pytest.raises(KeyRefused, match="The certificate expired on 2026-11-22 12:00 UTC"):
        load_key(cert_pem(cert), now=NOW)


def test_not_yet_valid_certificate_refused(ec_key):
    cert = make_cert(ec_key, "Early", not_before=NOW + DAY, not_after=NOW + 30 * DAY)
    with pytest.raises(KeyRefused, match="not valid yet: it becomes valid on 2026-11-24"):
        load_key(cert_pem(cert), now=NOW)


def test_certificate_without_digital_signature_usage_refused(ec_key):
    usage = x509.KeyUsage(
        digital_signature=False,
        content_commitment=True,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    cert = make_cert(ec_key, "Encryption only", usage=usage)
    with pytest.raises(KeyRefused, match="key usage does not allow digital signatures"):
        load_key(cert_pem(cert), now=NOW)


def test_certificate_with_unsupported_key_refused():
    private = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(KeyRefused, match="P-256"):
        load_key(cert_pem(make_cert(private, "P-384 holder")), now=NOW)


def test_chain_to_a_trusted_ca_accepted_and_untrusted_refused(ec_key, ca):
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_ca = (other_key, make_cert(other_key, "Rogue CA", ca=True))
    good = issued_cert(ca, ec_key)
    rogue = issued_cert(other_ca, ec_key)
    assert load_key(cert_pem(good), now=NOW, trusted_cas=[other_ca[1], ca[1]])
    with pytest.raises(KeyRefused, match="not issued by a certification authority"):
        load_key(cert_pem(rogue), now=NOW, trusted_cas=[ca[1]])


def test_forged_issuer_name_refused(ec_key, ca):
    # Same issuer name as the trusted CA, but signed by another key.
    impostor = ec.generate_private_key(ec.SECP256R1())
    forged = issued_cert((impostor, ca[1]), ec_key)
    with pytest.raises(KeyRefused, match="not issued by a certification authority"):
        load_key(cert_pem(forged), now=NOW, trusted_cas=[ca[1]])


def test_expired_trusted_ca_does_not_vouch(ec_key):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    old_ca = make_cert(ca_key, "Old CA", ca=True, not_after=NOW - DAY, not_before=NOW - 9 * DAY)
    leaf = issued_cert((ca_key, old_ca), ec_key, not_before=NOW - 2 * DAY)
    with pytest.raises(KeyRefused, match="not issued by"):
        load_key(cert_pem(leaf), now=NOW, trusted_cas=[old_ca])


def test_chain_through_a_pasted_intermediate(ec_key, ca):
    mid_key = ec.generate_private_key(ec.SECP256R1())
    intermediate = make_cert(
        mid_key,
        "Issuing CA",
        issuer_key=ca[0],
        issuer="Test Root CA",
        ca=True,
        usage=key_usage(key_cert_sign=True),
    )
    leaf = make_cert(ec_key, "Supplier LLC", issuer_key=mid_key, issuer="Issuing CA")
    bundle = cert_pem(leaf) + cert_pem(intermediate)
    assert load_key(bundle, now=NOW, trusted_cas=[ca[1]]).subject == "CN=Supplier LLC"
    with pytest.raises(KeyRefused, match="not issued by"):
        load_key(cert_pem(leaf), now=NOW, trusted_cas=[ca[1]])


def test_end_entity_certificate_cannot_act_as_intermediate(ec_key, ca):
    middle_key = ec.generate_private_key(ec.SECP256R1())
    not_a_ca = issued_cert(ca, middle_key)  # BasicConstraints ca=False
    leaf = make_cert(ec_key, "Sub", issuer_key=middle_key, issuer="Supplier LLC")
    with pytest.raises(KeyRefused, match="not issued by"):
        load_key(cert_pem(leaf) + cert_pem(not_a_ca), now=NOW, trusted_cas=[ca[1]])


def test_allow_self_signed_false_refuses_bare_keys_and_self_signed_certs(ec_key, ca):
    with pytest.raises(KeyRefused, match="A bare public key is not accepted here"):
        load_key(spki_pem(ec_key), now=NOW, allow_self_signed=False)
    with pytest.raises(KeyRefused, match="A bare public key is not accepted here"):
        load_key(spki_pem(ec_key), now=NOW, trusted_cas=[ca[1]], allow_self_signed=False)
    self_signed = make_cert(ec_key, "Me")
    with pytest.raises(KeyRefused, match="Self-signed certificates are not accepted"):
        load_key(cert_pem(self_signed), now=NOW, allow_self_signed=False)
    issued = issued_cert(ca, ec_key)
    key = load_key(cert_pem(issued), now=NOW, trusted_cas=[ca[1]], allow_self_signed=False)
    assert key.self_signed is False


def test_self_signed_certificate_accepted_when_allowed(ec_key, ca):
    key = load_key(cert_pem(make_cert(ec_key, "Me")), now=NOW, trusted_cas=[ca[1]])
    assert key.self_signed is True and key.subject == "CN=Me"
    assert load_key(spki_pem(ec_key), now=NOW, trusted_cas=[ca[1]]).self_signed is True


def test_ed25519_and_rsa_certificates(ca):
    for private in (
        ed25519.Ed25519PrivateKey.generate(),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    ):
        key = load_key(cert_pem(issued_cert(ca, private)), now=NOW, trusted_cas=[ca[1]])
        message = canonicalize(bid())
        verify(key, message, rules.sign(private, message))


# ---------------------------------------------------------------- platform key


def test_platform_key_round_trip():
    pem = rules.generate_platform_key()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    private = rules.load_private_key(pem)
    receipt = receipt_payload(
        revision_hash=HASH_A,
        accepted_at="2026-11-23T12:00:00Z",
        tender_number="T-2026-000123",
        bidder_inn="7707083893",
        revision=2,
    )
    signature = rules.sign(private, canonicalize(receipt))
    verify(rules.public_pem(private), canonicalize(receipt), signature)


def test_load_private_key_refusals():
    with pytest.raises(KeyRefused, match="not a PEM private key"):
        rules.load_private_key(b"nonsense")
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = weak.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(KeyRefused, match="at least 2048 bits"):
        rules.load_private_key(pem)


# ---------------------------------------------------------------- payloads


def test_revision_payload_shape_and_order():
    payload = bid(
        lines=[
            {"position": "10", "unit_price": "1.00", "total": "5.00"},
            {"position": "2", "unit_price": "10.00", "total": "1000.00", "note": "x"},
            {"position": "1.2", "unit_price": "0", "total": "0"},
        ],
        criteria=[
            {"lot": "2", "criterion": 1, "value": True},
            {"lot": "1", "criterion": 9, "value": None},
            {"lot": "1", "criterion": 3, "value": "A"},
        ],
        documents=[
            {"name": "b.pdf", "sha256": HASH_B},
            {"name": "a.pdf", "sha256": HASH_A},
        ],
    )
    assert payload == {
        "type": "bid-revision",
        "version": 1,
        "tender": "T-2026-000123",
        "bidder": {"org_id": 42, "inn": "7707083893"},
        "revision": 2,
        "previous": HASH_A,
        "lines": [
            {"position": "1.2", "unit_price": "0", "total": "0", "note": ""},
            {"position": "2", "unit_price": "10.00", "total": "1000.00", "note": "x"},
            {"position": "10", "unit_price": "1.00", "total": "5.00", "note": ""},
        ],
        "criteria": [
            {"lot": "1", "criterion": 3, "value": "A"},
            {"lot": "1", "criterion": 9, "value": None},
            {"lot": "2", "criterion": 1, "value": True},
        ],
        "documents": [
            {"name": "a.pdf", "sha256": HASH_A},
            {"name": "b.pdf", "sha256": HASH_B},
        ],
    }


def test_first_revision_has_empty_previous():
    assert bid(revision=1, previous=None)["previous"] == ""
    with pytest.raises(ValueError, match="previous_hash must be empty for revision 1"):
        bid(revision=1, previous=HASH_A)
    with pytest.raises(ValueError, match="previous_hash is required for revision 3"):
        bid(revision=3, previous=None)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"lines": [{"position": "1", "unit_price": 12.5, "total": "1"}]},
            r"lines\[0\].unit_price",
        ),
        ({"lines": [{"position": "1", "unit_price": "1,50", "total": "1"}]}, "unit_price"),
        ({"lines": [{"position": "1", "unit_price": "-1", "total": "1"}]}, "unit_price"),
        ({"lines": [{"position": "1", "unit_price": "1", "total": "1e3"}]}, r"lines\[0\].total"),
        ({"lines": [{"position": 1, "unit_price": "1", "total": "1"}]}, "position"),
        ({"lines": [{"position": "01", "unit_price": "1", "total": "1"}]}, "position"),
        ({"lines": [{"position": "1", "unit_price": "1"}]}, "missing total"),
        ({"lines": [{"position": "1", "unit_price": "1", "total": "1", "qty": "2"}]}, "qty"),
        (
            {"lines": [{"position": "1", "unit_price": "1", "total": "1"}] * 2},
            "lines has a duplicate",
        ),
        ({"criteria": [{"lot": "1", "criterion": 1, "value": 5}]}, r"criteria\[0\].value"),
        ({"criteria": [{"lot": "1", "criterion": "1", "value": "5"}]}, "criterion"),
        ({"documents": [{"name": "a", "sha256": "A" * 64}]}, r"documents\[0\].sha256"),
        ({"documents": [{"name": "", "sha256": HASH_A}]}, r"documents\[0\].name"),
        ({"bidder_inn": "77070838"}, "bidder_inn"),
        ({"bidder_org_id": True}, "bidder_org_id"),
        ({"tender_number": " "}, "tender_number"),
        ({"previous_hash": "xyz"}, "previous_hash"),
        ({"revision": 0}, "revision"),
        ({"lines": "nope"}, "lines must be a list"),
    ],
)
def test_revision_payload_validation_names_the_field(overrides, message):
    with pytest.raises(ValueError, match=message):
        bid(**overrides)


def test_receipt_payload():
    receipt = receipt_payload(
        revision_hash=HASH_A,
        accepted_at=utc_timestamp(dt.datetime(2026, 11, 23, 15, 0, 1, tzinfo=dt.UTC)),
        tender_number="T-1",
        bidder_inn="500100732259",
        revision=1,
    )
    assert receipt == {
        "type": "bid-receipt",
        "version": 1,
        "tender": "T-1",
        "bidder": {"inn": "500100732259"},
        "revision": 1,
        "revision_hash": HASH_A,
        "accepted_at": "2026-11-23T15:00:01Z",
    }
    for bad in ("2026-11-23T15:00:01+00:00", "2026-11-23 15:00:01Z", "2026-02-30T00:00:00Z"):
        with pytest.raises(ValueError, match="accepted_at"):
            receipt_payload(
                revision_hash=HASH_A,
                accepted_at=bad,
                tender_number="T-1",
                bidder_inn="500100732259",
                revision=1,
            )


def test_utc_timestamp_converts_and_keeps_microseconds():
    moscow = dt.timezone(dt.timedelta(hours=3))
    moment = dt.datetime(2026, 11, 23, 15, 0, 0, 250000, tzinfo=moscow)
    assert utc_timestamp(moment) == "2026-11-23T12:00:00.250000Z"
    with pytest.raises(ValueError):
        utc_timestamp(dt.datetime(2026, 1, 1))
