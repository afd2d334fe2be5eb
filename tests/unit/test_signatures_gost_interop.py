"""Interoperability of qualified signatures with an implementation that shares no code with
OpenSSL: gostcrypto (pure Python GOST R 34.10-2012 and Streebog). It checks the signatures
that `openssl cms -sign` makes, and it makes CAdES-BES files (built with asn1crypto) that the
platform and `openssl cms -verify` must accept, or refuse once tampered with."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from asn1crypto import cms, core, x509
from gostcrypto import gosthash, gostsignature

from signatures import cades, testca
from tests.gost_helpers import CA_DIR, CRL_DIR, GOST, sign, trust

MESSAGE = b'{"tender":"T-2026-000002","type":"bid-revision","revision":1}'
NOW = dt.datetime.now(dt.UTC)
# The engine's "paramset:A" is CryptoPro-A (TC 26 256-bit set B) and TC 26 512-bit set A.
CURVES = {
    256: ("id-tc26-gost-3410-2012-256-paramSetB", gostsignature.MODE_256, "streebog256"),
    512: ("id-tc26-gost-3410-12-512-paramSetA", gostsignature.MODE_512, "streebog512"),
}
LEAVES = {256: "le256", 512: "le512"}


class _KeyAlgorithm(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Any, {"optional": True})]


class _PublicKeyInfo(core.Sequence):
    _fields = [("algorithm", _KeyAlgorithm), ("public_key", core.OctetBitString)]


def _certificate(name: str) -> x509.Certificate:
    return cades.load_certificate((GOST / f"{name}.pem").read_bytes())


def _public_key(certificate: x509.Certificate) -> bytearray:
    """(x, y) big-endian from the key's OCTET STRING (x and y little-endian, RFC 4491)."""
    spki = _PublicKeyInfo.load(certificate["tbs_certificate"]["subject_public_key_info"].dump())
    point = core.OctetString.load(spki["public_key"].native).native
    half = len(point) // 2
    return bytearray(point[:half][::-1] + point[half:][::-1])


def _private_key(name: str) -> bytearray:
    """The private scalar (big-endian) as the engine prints it."""
    text = testca.run(
        "pkey", "-engine", "gost", "-in", str(GOST / f"{name}.key.pem"), "-noout", "-text",
        cwd=GOST,
    )  # fmt: skip
    hex_value = text.split(b"\n", 1)[0].split(b":")[-1].strip().decode()
    size = 32 if name != "le512" else 64
    return bytearray(int(hex_value, 16).to_bytes(size, "big"))


def _signer(bits: int):
    curve, mode, _ = CURVES[bits]
    return gostsignature.new(mode, gostsignature.CURVES_R_1323565_1_024_2019[curve])


def _streebog(bits: int, data: bytes) -> bytes:
    return bytes(gosthash.new(CURVES[bits][2], data=data).digest())


@pytest.mark.parametrize("bits", [256, 512])
def test_gostcrypto_verifies_what_openssl_signed(bits, tmp_path):
    der = sign(LEAVES[bits], MESSAGE, tmp_path)
    info = cms.ContentInfo.load(der)["content"]["signer_infos"][0]
    signed_attrs = b"\x31" + info["signed_attrs"].dump()[1:]
    # Streebog by the other implementation equals the messageDigest OpenSSL wrote.
    digest = next(a for a in info["signed_attrs"] if a["type"].dotted == "1.2.840.113549.1.9.4")
    assert digest["values"][0].native == _streebog(bits, MESSAGE)
    value = info["signature"].native  # s || r (RFC 4490); gostcrypto takes r || s
    half = len(value) // 2
    public = _public_key(_certificate(LEAVES[bits]))
    hashed = bytearray(_streebog(bits, signed_attrs)[::-1])  # the digest as a little-endian number
    assert _signer(bits).verify(public, hashed, bytearray(value[half:] + value[:half]))
    wrong = bytearray(_streebog(bits, signed_attrs + b"x")[::-1])
    assert not _signer(bits).verify(public, wrong, bytearray(value[half:] + value[:half]))


def _cades_by_gostcrypto(bits: int, content: bytes, *, signing_time: dt.datetime) -> bytes:
    """A detached CAdES-BES file whose signature gostcrypto makes (asn1crypto structures it)."""
    name = LEAVES[bits]
    key = _private_key(name)

    def sign_attributes(attributes: bytes) -> bytes:
        hashed = bytearray(_streebog(bits, attributes)[::-1])
        r_s = bytes(_signer(bits).sign(bytearray(key), hashed))
        half = len(r_s) // 2
        return r_s[half:] + r_s[:half]  # CMS carries s || r

    return testca.build_cades(
        _certificate(name).dump(),
        content,
        sign_attributes,
        bits=bits,
        digest=lambda data: _streebog(bits, data),
        signing_time=signing_time,
    )


def _openssl_verifies(der: bytes, content: bytes, tmp_path) -> bool:
    sig, msg, cafile = tmp_path / "g.p7s", tmp_path / "g.bin", tmp_path / "trusted.pem"
    sig.write_bytes(der)
    msg.write_bytes(content)
    trusted = [*sorted(CA_DIR.glob("*.pem")), *sorted(CRL_DIR.glob("*.pem"))]
    cafile.write_bytes(b"".join(p.read_bytes() for p in trusted))
    done = subprocess.run(
        ["openssl", "cms", "-engine", "gost", "-verify", "-binary", "-inform", "DER",
         "-in", str(sig), "-content", str(msg), "-CAfile", str(cafile), "-crl_check_all",
         "-purpose", "any", "-out", "/dev/null"],
        capture_output=True, env=testca.openssl_env(),
    )  # fmt: skip
    return done.returncode == 0


@pytest.mark.parametrize("bits", [256, 512])
def test_platform_and_openssl_accept_a_gostcrypto_signature(bits, tmp_path):
    signing_time = NOW.replace(microsecond=0) - dt.timedelta(minutes=1)
    der = _cades_by_gostcrypto(bits, MESSAGE, signing_time=signing_time)
    verified = cades.verify(der, MESSAGE, trust(), now=NOW)
    assert verified.signer.algorithm == f"gost2012-{bits}"
    assert verified.signing_time == signing_time
    assert _openssl_verifies(der, MESSAGE, tmp_path)


@pytest.mark.parametrize("bits", [256, 512])
def test_both_refuse_a_gostcrypto_signature_over_other_bytes(bits, tmp_path):
    der = _cades_by_gostcrypto(bits, MESSAGE, signing_time=NOW.replace(microsecond=0))
    other = MESSAGE.replace(b"000002", b"000003")
    with pytest.raises(cades.QualifiedRefused) as caught:
        cades.verify(der, other, trust(), now=NOW)
    assert caught.value.reason == "digest_mismatch"
    assert not _openssl_verifies(der, other, tmp_path)


@pytest.mark.parametrize("bits", [256, 512])
def test_engine_signs_in_process_what_gostcrypto_verifies(bits):
    """testca.sign_in_process (the benchmark's signer): accepted by the platform, and its
    signature checked by gostcrypto too."""
    name = LEAVES[bits]
    der = testca.sign_in_process(
        _certificate(name).dump(),
        (GOST / f"{name}.key.pem").read_bytes(),
        MESSAGE,
        bits=bits,
        signing_time=NOW.replace(microsecond=0),
    )
    assert cades.verify(der, MESSAGE, trust(), now=NOW).signer.algorithm == f"gost2012-{bits}"
    info = cms.ContentInfo.load(der)["content"]["signer_infos"][0]
    value = info["signature"].native
    half = len(value) // 2
    hashed = bytearray(_streebog(bits, b"\x31" + info["signed_attrs"].dump()[1:])[::-1])
    public = _public_key(_certificate(name))
    assert _signer(bits).verify(public, hashed, bytearray(value[half:] + value[:half]))


def test_a_leaf_issued_later_by_the_test_centre(tmp_path):
    subject = {"CN": "ООО Новая", "O": "ООО Новая", "C": "RU", "INNLE": "7700000012"}
    cert, key = testca.issue(
        tmp_path, "new", subject, ca_cert=CA_DIR / "intermediate.pem",
        ca_key=GOST / "intermediate.key.pem",
    )  # fmt: skip
    certificate = cades.load_certificate(cert.read_bytes())
    der = testca.sign_in_process(
        certificate.dump(),
        key.read_bytes(),
        MESSAGE,
        bits=256,
        signing_time=NOW.replace(microsecond=0),
    )
    signer = cades.verify(der, MESSAGE, trust(), now=NOW).signer
    assert signer.inn == "7700000012" and signer.ogrn is None
    cades.check_binding(signer, "7700000012", None)
