"""Suppliers with signing keys, and signed submissions through the API."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from signatures import canonical
from tests.e2e.api_helpers import Caller, caller


@dataclass
class Bidder:
    who: Caller
    key_id: int
    private_key: object

    @property
    def headers(self) -> dict:
        return self.who.headers


def bidder(app, client, **org) -> Bidder:
    """A committed accredited supplier with a registered ECDSA P-256 key."""
    who = caller(app, customer=False, supplier=True, **org)
    private = ec.generate_private_key(ec.SECP256R1())
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    resp = client.post("/api/v1/keys", json={"pem": pem, "label": "test"}, headers=who.headers)
    assert resp.status_code == 201, resp.get_json()
    return Bidder(who, resp.get_json()["id"], private)


def sign(private_key, payload: dict) -> str:
    """Base64 ECDSA-SHA256 signature over the payload's canonical JSON."""
    signature = private_key.sign(canonical.canonicalize(payload), ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()


def submit(client, b: Bidder, tender_id: int, offer: dict, signature: str | None = None):
    """Prepare, sign and submit one revision; returns the submit response (or prepare's
    response when preparation is refused)."""
    prepared = client.post(
        f"/api/v1/tenders/{tender_id}/bid/prepare", json=offer, headers=b.headers
    )
    if prepared.status_code != 200:
        return prepared
    payload = prepared.get_json()["payload"]
    body = {**offer, "key_id": b.key_id, "signature": signature or sign(b.private_key, payload)}
    return client.post(f"/api/v1/tenders/{tender_id}/bid/revisions", json=body, headers=b.headers)


def offer(prices: dict[str, str], criteria: list[dict] | None = None) -> dict:
    """An offer body: {"position": "price"} and criterion values."""
    return {
        "lines": [{"position": p, "unit_price": v} for p, v in prices.items()],
        "criteria": criteria or [],
    }


def tender_in_window(
    app, client, minutes: int = 10, customer: Caller | None = None, **overrides
) -> dict:
    """A published one-position tender closing in `minutes`: inside the 30-minute window, so
    every bid extends it. Returns the tender as the API shows it."""
    import datetime as dt

    from core import clock
    from tests.e2e.api_helpers import draft_body

    customer = customer or caller(app)
    body = draft_body(
        bid_deadline=(clock.now() + dt.timedelta(minutes=minutes)).isoformat(),
        questions_until=None,
        **overrides,
    )
    body["lots"] = [
        {
            "title": "Кабель",
            "positions": [{"number": "1", "name": "Кабель", "quantity": "10", "unit_code": "006"}],
        }
    ]
    tender = client.post("/api/v1/tenders", json=body, headers=customer.headers).get_json()
    resp = client.post(f"/api/v1/tenders/{tender['id']}/publish", headers=customer.headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def submit_to_server(base: str, b: Bidder, tender_id: int, prices: dict[str, str]):
    """Prepare, sign and submit through a running web process (so its live pushes happen)."""
    import requests

    api = requests.Session()
    api.headers.update(b.headers)
    body = offer(prices)
    prepared = api.post(f"{base}/api/v1/tenders/{tender_id}/bid/prepare", json=body)
    if prepared.status_code != 200:
        return prepared  # refused: the caller's status check shows why
    payload = prepared.json()["payload"]
    return api.post(
        f"{base}/api/v1/tenders/{tender_id}/bid/revisions",
        json={**body, "key_id": b.key_id, "signature": sign(b.private_key, payload)},
    )
