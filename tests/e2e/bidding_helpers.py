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


def bidder(app, client=None, **org) -> Bidder:
    """A committed accredited supplier with a registered ECDSA P-256 key (registered
    in-process: the keys API has its own tests)."""
    from accounts.models import User
    from core.extensions import db
    from core.transaction import commit
    from signatures.service import register_key

    who = caller(app, customer=False, supplier=True, **org)
    private = ec.generate_private_key(ec.SECP256R1())
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with app.test_request_context():
        key_id = register_key(db.session.get(User, who.user_id), pem, "test").id
        commit()
    return Bidder(who, key_id, private)


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
    app, client=None, minutes: int = 10, customer: Caller | None = None, **overrides
) -> dict:
    """A published one-position tender closing in `minutes`: inside the 30-minute window, so
    every bid extends it. Returns the tender as the API shows it (published in-process)."""
    import datetime as dt

    from tests.e2e.api_helpers import published
    from tests.factories import one_position_lots

    tender = published(
        app,
        customer,
        deadline=dt.timedelta(minutes=minutes),
        lots=one_position_lots(),
        **overrides,
    )
    del tender["customer"]
    return tender


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


def bid(app, b: Bidder, tender_id: int, prices: dict[str, str], criteria=None) -> int:
    """Set-up, not a test of the API: prepare, sign and submit one revision in-process
    (tests.factories.signed_submit). Returns the revision's number."""
    from accounts.models import Organization, User
    from core.extensions import db
    from signatures.models import SigningKey
    from tests.factories import signed_submit

    with app.test_request_context():
        supplier = (
            db.session.get(User, b.who.user_id),
            db.session.get(Organization, b.who.org_id),
            db.session.get(SigningKey, b.key_id),
            b.private_key,
        )
        return signed_submit(supplier, tender_id, prices, criteria=criteria).number
