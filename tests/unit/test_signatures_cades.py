"""Qualified signatures (issue 24): CAdES-BES files made by `openssl cms -sign` with Debian's
GOST engine, verified by signatures.cades; every refusal names its reason; hostile files
never escape as anything but a refusal; openssl's own verifier agrees."""

from __future__ import annotations

import base64
import datetime as dt
import random
import subprocess

import pytest
from asn1crypto import cms

from signatures import cades, testca
from tests.gost_helpers import CA_DIR, CRL_DIR, ENTREPRENEUR, GOST, LEGAL, sign, trust

MESSAGE = b'{"tender":"T-2026-000001","type":"bid-revision","version":1}'
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    """One signature per leaf certificate over MESSAGE."""
    folder = tmp_path_factory.mktemp("cms")
    return {name: sign(name, MESSAGE, folder) for name in [leaf.name for leaf in testca.LEAVES]}


def refusal(data, content=MESSAGE, now=NOW, **kwargs) -> cades.QualifiedRefused:
    with pytest.raises(cades.QualifiedRefused) as caught:
        cades.verify(data, content, trust(), now=now, **kwargs)
    return caught.value


@pytest.mark.parametrize("name,algorithm", [("le256", cades.GOST_256), ("le512", cades.GOST_512)])
def test_openssl_signatures_of_both_sizes_verify(signed, name, algorithm):
    verified = cades.verify(signed[name], MESSAGE, trust(), now=NOW)
    signer = verified.signer
    assert signer.algorithm == algorithm
    assert (signer.inn, signer.ogrn, signer.snils) == (
        LEGAL["inn"],
        LEGAL["ogrn"],
        LEGAL["snils"],
    )
    assert signer.name == "Поставкин Сергей Петрович" and not signer.entrepreneur
    assert signer.organization == "ООО «Стройматериалы»"
    assert abs(verified.signing_time - NOW) < dt.timedelta(minutes=5)
    cades.check_binding(signer, LEGAL["inn"], LEGAL["ogrn"])


def test_entrepreneur_certificate_names_inn_and_ogrnip(signed):
    signer = cades.verify(signed["ip256"], MESSAGE, trust(), now=NOW).signer
    assert signer.entrepreneur and signer.inn == ENTREPRENEUR["inn"]
    assert signer.ogrn == ENTREPRENEUR["ogrn"] and signer.snils == ENTREPRENEUR["snils"]
    cades.check_binding(signer, ENTREPRENEUR["inn"], ENTREPRENEUR["ogrn"])
    with pytest.raises(cades.QualifiedRefused) as caught:
        cades.check_binding(signer, ENTREPRENEUR["inn"], "304500100000028")
    assert caught.value.reason == "wrong_ogrn"
    assert "OGRNIP is 304500100000017" in str(caught.value.args[0])
    assert "304500100000028" in str(caught.value.args[0])


def test_base64_and_pem_forms_are_accepted(signed):
    der = signed["le256"]
    text = base64.b64encode(der).decode()
    assert cades.verify(text, MESSAGE, trust(), now=NOW)
    wrapped = "\n".join(text[i : i + 64] for i in range(0, len(text), 64))
    pem = f"-----BEGIN CMS-----\n{wrapped}\n-----END CMS-----\n"
    assert cades.verify(pem, MESSAGE, trust(), now=NOW)
    urlsafe = base64.urlsafe_b64encode(der).decode().rstrip("=")
    assert cades.verify(urlsafe, MESSAGE, trust(), now=NOW)


def test_another_organization_is_refused_naming_both_inns(signed):
    signer = cades.verify(signed["other256"], MESSAGE, trust(), now=NOW).signer
    with pytest.raises(cades.QualifiedRefused) as caught:
        cades.check_binding(signer, LEGAL["inn"], LEGAL["ogrn"])
    text = str(caught.value.args[0])
    assert caught.value.reason == "wrong_inn"
    assert "7813123450" in text and "5012123454" in text


def test_same_inn_other_ogrn_is_refused(signed):
    signer = cades.verify(signed["le256"], MESSAGE, trust(), now=NOW).signer
    with pytest.raises(cades.QualifiedRefused) as caught:
        cades.check_binding(signer, LEGAL["inn"], "1025000123433")
    assert caught.value.reason == "wrong_ogrn"
    assert "1025000123422" in str(caught.value.args[0])


@pytest.mark.parametrize(
    "name,reason,words",
    [
        ("expired", "expired", "expired on 2021-01-01"),
        ("revoked", "revoked", "revoked by its certification centre"),
        ("untrusted", "untrusted", "ТЕСТОВЫЙ недоверенный УЦ"),
        ("plain", "not_qualified", "subjectSignTool, issuerSignTool, certificatePolicies"),
        ("nosign", "key_usage", "does not allow digital signatures"),
    ],
)
def test_certificate_refusals_name_the_reason(signed, name, reason, words):
    refused = refusal(signed[name])
    assert refused.reason == reason
    assert words in str(refused.args[0])


def test_revocation_after_signing_keeps_an_old_signature_valid(signed):
    # Re-verifying later: the revoked certificate was still good at the signing time the
    # file claims only if the revocation came after it; here it came before, so it stays bad.
    refused = refusal(signed["revoked"], at_signing_only=True)
    assert refused.reason == "revoked"


def test_tampered_payload_is_a_digest_mismatch(signed):
    refused = refusal(signed["le256"], MESSAGE.replace(b"000001", b"000002"))
    assert refused.reason == "digest_mismatch"
    assert "other bytes" in str(refused.args[0])


def test_altered_signature_value_fails(signed):
    der = signed["le512"]
    value = cms.ContentInfo.load(der)["content"]["signer_infos"][0]["signature"].native
    altered = bytearray(value)
    altered[5] ^= 0x01
    assert refusal(der.replace(value, bytes(altered))).reason == "bad_signature"


def test_wrong_digest_algorithm_for_the_key_is_refused(signed):
    der = signed["le256"]
    signer_info = cms.ContentInfo.load(der)["content"]["signer_infos"][0].dump()
    streebog256 = bytes.fromhex("2a8503070101020" + "2")
    streebog512 = streebog256[:-1] + b"\x03"
    # Same length, so the file stays well-formed: only the signer's digest algorithm changes.
    changed = signer_info.replace(streebog256, streebog512, 1)
    refused = refusal(der.replace(signer_info, changed))
    assert refused.reason == "wrong_digest"
    assert "256-bit" in str(refused.args[0])


def test_untrusted_when_no_centre_is_configured(signed):
    with pytest.raises(cades.QualifiedRefused) as caught:
        cades.verify(signed["le256"], MESSAGE, cades.Trust(), now=NOW)
    assert caught.value.reason == "untrusted"
    assert "SIGNATURE_TRUSTED_CA_DIR" in str(caught.value.args[0])


def test_missing_crl_means_unknown_status(signed):
    only_centres = cades.Trust(trust().certificates, ())
    with pytest.raises(cades.QualifiedRefused) as caught:
        cades.verify(signed["le256"], MESSAGE, only_centres, now=NOW)
    assert caught.value.reason == "no_crl"


def test_signing_time_after_the_platform_clock_is_refused(signed):
    early = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    refused = refusal(signed["le256"], now=early)
    assert refused.reason == "future"  # the file says it was signed after 'now'
    assert "in the future" in str(refused.args[0])


def test_plain_cms_without_cades_attributes_is_refused(tmp_path):
    der = sign("le256", MESSAGE, tmp_path, cades_attrs=False)
    refused = refusal(der)
    assert refused.reason == "not_cades" and "signingCertificateV2" in str(refused.args[0])


def test_non_gost_cms_is_refused(tmp_path):
    # An ECDSA P-256 certificate and a CMS made by plain openssl (no engine).
    key, cert, msg = tmp_path / "k.pem", tmp_path / "c.pem", tmp_path / "m.bin"
    msg.write_bytes(MESSAGE)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-subj", "/CN=ecdsa", "-days", "2"],
        check=True, capture_output=True,
    )  # fmt: skip
    der = subprocess.run(
        ["openssl", "cms", "-sign", "-binary", "-signer", str(cert), "-inkey", str(key),
         "-in", str(msg), "-outform", "DER", "-cades"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    refused = refusal(der)
    assert refused.reason == "not_gost" and "GOST R 34.10-2012" in str(refused.args[0])


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"", "malformed"),
        ("   ", "malformed"),
        ("not base64 at all!", "malformed"),
        (b"\x30\x03\x02\x01\x01", "malformed"),
        (b"\x30\x82\xff\xff" + b"\x00" * 100, "malformed"),
        ("TUlJ" * 5000, "malformed"),
        (b"\x30" + b"\x00" * (cades.MAX_CMS_BYTES + 10), "too_large"),
        ("A" * (cades.MAX_CMS_BYTES * 3), "too_large"),
        ("привет", "malformed"),
    ],
)
def test_malformed_input_is_a_refusal(data, reason):
    assert refusal(data).reason == reason


def test_hostile_mutations_are_refusals_never_crashes(signed):
    # Random byte flips, truncations and splices of a valid file: each is either still valid
    # (a flip in an unsigned, unchecked byte) or a QualifiedRefused, never another exception.
    original = signed["le256"]
    rng = random.Random(24)
    outcomes = set()
    for _ in range(400):
        data = bytearray(original)
        kind = rng.randrange(3)
        if kind == 0:
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif kind == 1:
            data = data[: rng.randrange(len(data))]
        else:
            start = rng.randrange(len(data))
            data[start:start] = rng.randbytes(rng.randint(1, 40))
        try:
            cades.verify(bytes(data), MESSAGE, trust(), now=NOW)
            outcomes.add("valid")
        except cades.QualifiedRefused as refused:
            outcomes.add(refused.reason)
    assert "malformed" in outcomes and len(outcomes) >= 3


def test_certificates_load_and_markers(signed):
    certificate = cades.load_certificate((GOST / "le256.pem").read_bytes())
    signer = cades.check_certificate(certificate, trust(), at=NOW)
    assert signer.issuer == "ТЕСТОВЫЙ УЦ 2026" and signer.summary["kind"] == "qualified"
    with pytest.raises(cades.QualifiedRefused) as caught:
        cades.load_certificate(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    assert caught.value.reason == "malformed"


def test_explain_lists_every_check(signed):
    checks, verified = cades.explain(
        signed["le256"], MESSAGE, trust(), now=NOW, inn=LEGAL["inn"], ogrn=LEGAL["ogrn"]
    )
    assert verified is not None and all(c.passed for c in checks) and len(checks) == 11
    checks, verified = cades.explain(signed["revoked"], MESSAGE, trust(), now=NOW)
    assert verified is None and not checks[-1].passed
    assert str(checks[-1].name) == "Not revoked" and all(c.passed for c in checks[:-1])
    checks, _ = cades.explain(signed["other256"], MESSAGE, trust(), now=NOW, inn=LEGAL["inn"])
    assert "7813123450" in str(checks[-1].message) and not checks[-1].passed


def _openssl_verifies(der: bytes, tmp_path, content: bytes = MESSAGE) -> bool:
    sig, msg, cafile = tmp_path / "s.p7s", tmp_path / "m.bin", tmp_path / "ca.pem"
    sig.write_bytes(der)
    msg.write_bytes(content)
    # openssl's trust store file holds the centres and their CRLs together.
    trusted = [*sorted(CA_DIR.glob("*.pem")), *sorted(CRL_DIR.glob("*.pem"))]
    cafile.write_bytes(b"".join(p.read_bytes() for p in trusted))
    done = subprocess.run(
        ["openssl", "cms", "-engine", "gost", "-verify", "-binary", "-inform", "DER",
         "-in", str(sig), "-content", str(msg), "-CAfile", str(cafile), "-crl_check_all",
         "-purpose", "any", "-out", "/dev/null"],
        capture_output=True, env=testca.openssl_env(),
    )  # fmt: skip
    return done.returncode == 0


@pytest.mark.parametrize(
    "name", ["le256", "le512", "ip256", "other256", "expired", "revoked", "untrusted"]
)
def test_openssl_cms_verify_agrees(signed, name, tmp_path):
    """The platform's decision equals `openssl cms -verify` with the engine (same trust and
    CRLs), for the good files and for the refused ones openssl can judge."""
    try:
        cades.verify(signed[name], MESSAGE, trust(), now=NOW)
        ours = True
    except cades.QualifiedRefused:
        ours = False
    assert ours == _openssl_verifies(signed[name], tmp_path)
    assert not _openssl_verifies(signed[name], tmp_path, MESSAGE + b" ")


def test_out_of_date_crl_means_unknown_status(signed):
    # The test centre's CRLs are due for an update in ten years: by then they are stale.
    later = NOW + dt.timedelta(days=3660)
    refused = refusal(signed["le256"], now=later)
    assert refused.reason == "stale_crl" and "out of date" in str(refused.args[0])


def test_crl_entries_are_indexed_once():
    centre = trust()
    revoked = [r for r in centre.crls if r.revoked]
    assert len(revoked) == 1 and len(revoked[0].revoked) == 1
    serial = cades.load_certificate((GOST / "revoked.pem").read_bytes()).serial_number
    assert serial in revoked[0].revoked
