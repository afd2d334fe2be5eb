"""Interoperability with the real openssl CLI: what integrators will actually run.

openssl is a required tool here: when it is missing these tests fail, they never skip.
"""

import base64
import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from signatures import rules
from signatures.canonical import canonicalize
from signatures.payloads import revision_payload

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def openssl() -> str:
    path = shutil.which("openssl")
    assert path, "the openssl CLI is required for these tests (expected /usr/bin/openssl)"
    return path


@pytest.fixture()
def run(openssl, tmp_path):
    """Run openssl (or any command) in tmp_path; fail with its stderr if it fails."""

    def runner(*args: str, tool: str | None = None) -> str:
        command = [tool or openssl, *args]
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, f"{command} failed: {done.stderr}"
        return done.stdout

    return runner


@pytest.fixture()
def payload_file(tmp_path) -> Path:
    payload = revision_payload(
        tender_number="T-2026-000123",
        bidder_inn="7707083893",
        bidder_org_id=42,
        revision=1,
        previous_hash=None,
        lines=[{"position": "1", "unit_price": "1234.50", "total": "2469.00", "note": "ГОСТ €"}],
        criteria=[{"lot": "1", "criterion": 3, "value": "36"}],
        documents=[{"name": "предложение.pdf", "sha256": "c" * 64}],
    )
    path = tmp_path / "canonical.json"
    path.write_bytes(canonicalize(payload))
    return path


def cli_env() -> dict:
    """The environment for a child Python that imports this checkout's signatures package."""
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """python -m signatures.cli in a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "signatures.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=cli_env(),
    )


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------- openssl signs, we verify


@pytest.mark.parametrize(
    "keygen",
    [
        ("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.pem"),
        ("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "key.pem"),
    ],
)
def test_openssl_ecdsa_signature_verifies(run, tmp_path, payload_file, keygen):
    run(*keygen)
    run("pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem")
    run("dgst", "-sha256", "-sign", "key.pem", "-out", "sig.der", payload_file.name)
    key = rules.load_key((tmp_path / "pub.pem").read_text(), now=now())
    assert key.algorithm == "ecdsa-p256"
    signature = (tmp_path / "sig.der").read_bytes()
    rules.verify(key, payload_file.read_bytes(), signature)
    # as an integrator would upload it: base64 text
    rules.verify(key, payload_file.read_bytes(), rules.decode_signature(base64_of(signature)))
    with pytest.raises(rules.SignatureInvalid):
        rules.verify(key, payload_file.read_bytes() + b" ", signature)


@pytest.mark.parametrize("salt", [None, "digest", "max", "0"])
def test_openssl_rsa_pss_signature_verifies(run, tmp_path, payload_file, salt):
    run("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.pem")
    run("pkey", "-in", "rsa.pem", "-pubout", "-out", "pub.pem")
    options = ["-sigopt", "rsa_padding_mode:pss"]
    if salt:
        options += ["-sigopt", f"rsa_pss_saltlen:{salt}"]
    run("dgst", "-sha256", *options, "-sign", "rsa.pem", "-out", "sig.der", payload_file.name)
    key = rules.load_key((tmp_path / "pub.pem").read_text(), now=now())
    rules.verify(key, payload_file.read_bytes(), (tmp_path / "sig.der").read_bytes())


def test_openssl_rsa_without_pss_is_refused_with_a_hint(run, tmp_path, payload_file):
    run("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.pem")
    run("pkey", "-in", "rsa.pem", "-pubout", "-out", "pub.pem")
    run("dgst", "-sha256", "-sign", "rsa.pem", "-out", "sig.der", payload_file.name)
    key = rules.load_key((tmp_path / "pub.pem").read_text(), now=now())
    with pytest.raises(rules.SignatureInvalid, match="rsa_padding_mode:pss"):
        rules.verify(key, payload_file.read_bytes(), (tmp_path / "sig.der").read_bytes())


def test_openssl_ed25519_signature_verifies(run, tmp_path, payload_file):
    run("genpkey", "-algorithm", "ed25519", "-out", "ed.pem")
    run("pkey", "-in", "ed.pem", "-pubout", "-out", "pub.pem")
    run("pkeyutl", "-sign", "-rawin", "-inkey", "ed.pem", "-in", payload_file.name, "-out", "sig")
    key = rules.load_key((tmp_path / "pub.pem").read_text(), now=now())
    assert key.algorithm == "ed25519"
    rules.verify(key, payload_file.read_bytes(), (tmp_path / "sig").read_bytes())


def test_openssl_self_signed_certificate_is_accepted(run, tmp_path, payload_file):
    run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "key.pem")
    run(
        "req", "-x509", "-new", "-key", "key.pem", "-subj", "/CN=Supplier LLC", "-days", "30",
        "-addext", "keyUsage=critical,digitalSignature", "-out", "cert.pem",
    )  # fmt: skip
    run("dgst", "-sha256", "-sign", "key.pem", "-out", "sig.der", payload_file.name)
    key = rules.load_key((tmp_path / "cert.pem").read_text(), now=now())
    assert key.subject == "CN=Supplier LLC" and key.self_signed
    rules.verify(key, payload_file.read_bytes(), (tmp_path / "sig.der").read_bytes())


# ---------------------------------------------------------------- we sign, openssl verifies


def test_platform_signature_verifies_with_openssl(run, tmp_path, payload_file):
    private = rules.load_private_key(rules.generate_platform_key())
    (tmp_path / "platform.pem").write_text(rules.public_pem(private))
    (tmp_path / "sig.der").write_bytes(rules.sign(private, payload_file.read_bytes()))
    out = run(
        "dgst", "-sha256", "-verify", "platform.pem", "-signature", "sig.der", payload_file.name
    )
    assert out.strip() == "Verified OK"


def test_our_rsa_pss_signature_verifies_with_openssl(run, tmp_path, payload_file):
    run("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072", "-out", "rsa.pem")
    run("pkey", "-in", "rsa.pem", "-pubout", "-out", "pub.pem")
    private = rules.load_private_key((tmp_path / "rsa.pem").read_bytes())
    (tmp_path / "sig.der").write_bytes(rules.sign(private, payload_file.read_bytes()))
    out = run(
        "dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest",
        "-verify", "pub.pem", "-signature", "sig.der", payload_file.name,
    )  # fmt: skip
    assert out.strip() == "Verified OK"


def test_our_ed25519_signature_verifies_with_openssl(run, tmp_path, payload_file):
    run("genpkey", "-algorithm", "ed25519", "-out", "ed.pem")
    run("pkey", "-in", "ed.pem", "-pubout", "-out", "pub.pem")
    private = rules.load_private_key((tmp_path / "ed.pem").read_bytes())
    (tmp_path / "sig").write_bytes(rules.sign(private, payload_file.read_bytes()))
    out = run(
        "pkeyutl", "-verify", "-rawin", "-pubin", "-inkey", "pub.pem",
        "-in", payload_file.name, "-sigfile", "sig",
    )  # fmt: skip
    assert "Signature Verified Successfully" in out


# ---------------------------------------------------------------- the CLI tool


def test_cli_sign_output_verifies_with_openssl(run, tmp_path):
    (tmp_path / "payload.json").write_text('{"b": [1.0, "ГОСТ"], "a": 1e21}', encoding="utf-8")
    made = cli("keygen", "--out", "key.pem", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    (tmp_path / "pub.pem").write_text(made.stdout)

    signed = cli("sign", "--key", "key.pem", "payload.json", cwd=tmp_path)
    assert signed.returncode == 0, signed.stderr
    (tmp_path / "sig.der").write_bytes(base64.b64decode(signed.stdout.strip(), validate=True))

    canon = subprocess.run(
        [sys.executable, "-m", "signatures.cli", "canonicalize", "payload.json"],
        cwd=tmp_path,
        capture_output=True,
        env=cli_env(),
    )
    assert canon.stdout == '{"a":1e+21,"b":[1,"ГОСТ"]}'.encode()
    (tmp_path / "canonical.json").write_bytes(canon.stdout)
    out = run("dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig.der", "canonical.json")
    assert out.strip() == "Verified OK"


def test_cli_verify_accepts_an_openssl_signature(run, tmp_path, payload_file):
    run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.pem")
    run("pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem")
    run("dgst", "-sha256", "-sign", "key.pem", "-out", "sig.der", payload_file.name)
    (tmp_path / "sig.b64").write_text(base64_of((tmp_path / "sig.der").read_bytes()) + "\n")

    base = ["verify", "--pubkey", "pub.pem"]
    ok = cli(*base, "--signature", "sig.b64", payload_file.name, cwd=tmp_path)
    assert (ok.returncode, ok.stdout) == (0, "OK\n"), ok.stderr
    ok_raw = cli(*base, "--signature", "sig.b64", "--raw", payload_file.name, cwd=tmp_path)
    assert (ok_raw.returncode, ok_raw.stdout) == (0, "OK\n"), ok_raw.stderr
    binary = cli(*base, "--binary", "--signature", "sig.der", payload_file.name, cwd=tmp_path)
    assert (binary.returncode, binary.stdout) == (0, "OK\n"), binary.stderr

    (tmp_path / "other.json").write_text('{"tender": "T-2026-000124"}')
    bad = cli(*base, "--signature", "sig.b64", "other.json", cwd=tmp_path)
    assert bad.returncode == 1
    assert "does not match" in bad.stderr and bad.stdout == ""


def test_cli_errors_exit_1_with_the_reason(run, tmp_path):
    run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "p384.pem")
    (tmp_path / "p.json").write_text('{"a": 1, "a": 2}')
    refused = cli("sign", "--key", "p384.pem", "p.json", cwd=tmp_path)
    assert refused.returncode == 1 and "Only the P-256 curve" in refused.stderr
    duplicate = cli("canonicalize", "p.json", cwd=tmp_path)
    assert duplicate.returncode == 1 and "appears twice" in duplicate.stderr
    (tmp_path / "key.pem").write_text("existing")
    exists = cli("keygen", "--out", "key.pem", cwd=tmp_path)
    assert exists.returncode == 1 and "exists" in exists.stderr
    assert (tmp_path / "key.pem").read_text() == "existing"


def base64_of(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
