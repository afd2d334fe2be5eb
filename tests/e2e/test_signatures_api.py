"""Keys registered through the API; signatures checked; receipts verifiable with openssl."""

import base64
import datetime as dt
import json
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from core import clock
from signatures import canonical
from signatures.commands import signatures_cli
from tests.e2e.api_helpers import caller


def _pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _register(client, who, pem, label="k"):
    return client.post("/api/v1/keys", json={"pem": pem, "label": label}, headers=who.headers)


def _challenge(client, who):
    return client.get("/api/v1/signatures/challenge", headers=who.headers).get_json()


def test_openssl_key_and_signature_are_accepted(app, client, db, tmp_path):
    supplier = caller(app, customer=False, supplier=True)
    key_file, pub_file = tmp_path / "key.pem", tmp_path / "pub.pem"
    subprocess.run(
        [
            "openssl",
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            str(key_file),
        ],
        check=True,
    )
    subprocess.run(
        ["openssl", "pkey", "-in", str(key_file), "-pubout", "-out", str(pub_file)], check=True
    )
    resp = _register(client, supplier, pub_file.read_text(), "openssl")
    assert resp.status_code == 201, resp.get_json()
    key = resp.get_json()
    assert key["algorithm"] == "ecdsa-p256" and len(key["fingerprint"]) == 64
    challenge = _challenge(client, supplier)
    message = tmp_path / "message.json"
    message.write_bytes(base64.b64decode(challenge["canonical_b64"]))
    assert message.read_bytes() == canonical.canonicalize(challenge["payload"])
    signature = subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", str(key_file), str(message)],
        check=True,
        capture_output=True,
    ).stdout
    body = {
        "payload": challenge["payload"],
        "key_id": key["id"],
        "signature": base64.b64encode(signature).decode(),
    }
    resp = client.post("/api/v1/signatures/check", json=body, headers=supplier.headers)
    assert resp.status_code == 200 and resp.get_json()["valid"] is True
    # One changed byte of the payload, or the signature, fails.
    tampered = {**body, "payload": {**challenge["payload"], "nonce": "0" * 32}}
    resp = client.post("/api/v1/signatures/check", json=tampered, headers=supplier.headers)
    assert resp.status_code == 422 and "signature" in resp.get_json()["error"]["fields"]
    # Anyone can re-verify it later by fingerprint.
    resp = client.post(
        "/api/v1/signatures/verify",
        json={
            "payload": challenge["payload"],
            "signature": body["signature"],
            "fingerprint": key["fingerprint"],
        },
    )
    assert resp.status_code == 200


def test_revoked_key_signs_nothing_new(app, client, db):
    supplier = caller(app, customer=False, supplier=True)
    private = ec.generate_private_key(ec.SECP256R1())
    key = _register(client, supplier, _pem(private)).get_json()
    challenge = _challenge(client, supplier)
    signature = private.sign(
        canonical.canonicalize(challenge["payload"]), ec.ECDSA(hashes.SHA256())
    )
    body = {
        "payload": challenge["payload"],
        "key_id": key["id"],
        "signature": base64.b64encode(signature).decode(),
    }
    resp = client.post(
        f"/api/v1/keys/{key['id']}/revoke", json={"reason": "laptop lost"}, headers=supplier.headers
    )
    assert resp.status_code == 200 and resp.get_json()["revoked_reason"] == "laptop lost"
    resp = client.post("/api/v1/signatures/check", json=body, headers=supplier.headers)
    assert resp.status_code == 422 and "revoked" in resp.get_json()["error"]["message"]
    # The old signature stays verifiable.
    resp = client.post(
        "/api/v1/signatures/verify",
        json={
            "payload": body["payload"],
            "signature": body["signature"],
            "fingerprint": key["fingerprint"],
        },
    )
    assert resp.status_code == 200


def test_bad_keys_are_refused_and_nothing_stored(app, client, db):
    supplier = caller(app, customer=False, supplier=True)
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    p384 = ec.generate_private_key(ec.SECP384R1())
    for pem, fragment in (("not a key at all", "pem"), (_pem(weak), "2048"), (_pem(p384), "P-256")):
        resp = _register(client, supplier, pem)
        assert resp.status_code == 422, resp.get_json()
        assert fragment in json.dumps(resp.get_json()), resp.get_json()
    assert client.get("/api/v1/keys", headers=supplier.headers).get_json() == []
    good = _pem(ec.generate_private_key(ec.SECP256R1()))
    assert _register(client, supplier, good).status_code == 201
    assert _register(client, supplier, good).status_code == 409


def test_expired_certificate_is_refused(app, client, db):
    supplier = caller(app, customer=False, supplier=True)
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Old cert")])
    now = clock.now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=400))
        .not_valid_after(now - dt.timedelta(days=1))
        .sign(private, hashes.SHA256())
    )
    resp = _register(client, supplier, cert.public_bytes(serialization.Encoding.PEM).decode())
    assert resp.status_code == 422 and "expired" in resp.get_json()["error"]["message"].lower()


def test_someone_elses_key_cannot_be_used_or_revoked(app, client, db):
    owner, thief = caller(app, supplier=True), caller(app, supplier=True)
    private = ec.generate_private_key(ec.SECP256R1())
    key = _register(client, owner, _pem(private)).get_json()
    challenge = _challenge(client, thief)
    signature = private.sign(
        canonical.canonicalize(challenge["payload"]), ec.ECDSA(hashes.SHA256())
    )
    resp = client.post(
        "/api/v1/signatures/check",
        headers=thief.headers,
        json={
            "payload": challenge["payload"],
            "key_id": key["id"],
            "signature": base64.b64encode(signature).decode(),
        },
    )
    assert resp.status_code == 404
    assert (
        client.post(f"/api/v1/keys/{key['id']}/revoke", json={}, headers=thief.headers).status_code
        == 404
    )


def test_platform_receipt_verifies_with_openssl(app, client, db, tmp_path):
    from signatures import service
    from signatures.payloads import receipt_payload

    with app.app_context():
        receipt = receipt_payload(
            revision_hash="ab" * 32,
            accepted_at="2026-11-23T12:00:00Z",
            tender_number="T-2026-000001",
            bidder_inn="7707083893",
            revision=1,
        )
        message, signature = service.sign_platform(receipt)
    pem = client.get("/platform-key.pem").get_data()
    assert client.get("/api/v1/platform-key").get_json()["algorithm"] == "ecdsa-p256"
    (tmp_path / "platform.pem").write_bytes(pem)
    (tmp_path / "receipt.json").write_bytes(message)
    (tmp_path / "receipt.sig").write_bytes(base64.b64decode(signature))
    out = subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha256",
            "-verify",
            str(tmp_path / "platform.pem"),
            "-signature",
            str(tmp_path / "receipt.sig"),
            str(tmp_path / "receipt.json"),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and "Verified OK" in out.stdout
    resp = client.post("/api/v1/receipts/verify", json={"payload": receipt, "signature": signature})
    assert resp.status_code == 200
    forged = {**receipt, "revision": 2}
    assert (
        client.post(
            "/api/v1/receipts/verify", json={"payload": forged, "signature": signature}
        ).status_code
        == 422
    )
    # The CLI says the same.
    (tmp_path / "receipt.b64").write_text(signature)
    result = app.test_cli_runner().invoke(
        signatures_cli,
        ["verify-receipt", str(tmp_path / "receipt.json"), str(tmp_path / "receipt.b64")],
    )
    assert result.exit_code == 0 and "OK" in result.output
