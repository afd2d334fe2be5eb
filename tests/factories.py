"""Factories for tests: each takes **overrides; numbers are unique and checksum-valid."""

from __future__ import annotations

import itertools

from accounts.models import Membership, Organization, User
from accounts.service import hash_password
from core import clock
from core.extensions import db

PASSWORD = "Correct-horse-42"
_seq = itertools.count(1)
_hash_cache: dict[str, str] = {}
_W10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)


def valid_inn10(n: int) -> str:
    """A checksum-valid 10-digit INN derived from n."""
    body = f"77{n:07d}"
    return body + str(sum(int(d) * w for d, w in zip(body, _W10)) % 11 % 10)


def valid_ogrn13(n: int) -> str:
    """A checksum-valid 13-digit OGRN derived from n."""
    body = f"10277{n:07d}"
    return body + str(int(body) % 11 % 10)


def unique_number() -> int:
    """A number not used before in this run (also across processes of one run)."""
    import os

    return (os.getpid() % 1000) * 1000 + next(_seq)


def _hashed(password: str) -> str:
    if password not in _hash_cache:
        _hash_cache[password] = hash_password(password)
    return _hash_cache[password]


def make_org(**overrides) -> Organization:
    n = unique_number()
    values = dict(
        name=f"OOO Test {n}",
        inn=valid_inn10(n),
        kpp="770101001",
        ogrn=valid_ogrn13(n),
        region_code="77",
        is_sme=True,
        is_customer=True,
        is_supplier=True,
        accreditation_status="accredited",
    )
    values.update(overrides)
    org = Organization(**values)
    db.session.add(org)
    db.session.flush()
    return org


def make_user(org: Organization | None = None, role: str = "admin", **overrides) -> User:
    n = unique_number()
    password = overrides.pop("password", PASSWORD)
    values = dict(
        email=f"user{n}@example.test",
        name=f"User {n}",
        password_hash=_hashed(password),
        email_confirmed_at=clock.now(),
    )
    values.update(overrides)
    user = User(**values)
    db.session.add(user)
    db.session.flush()
    if org is not None:
        db.session.add(Membership(user_id=user.id, organization_id=org.id, role=role))
        db.session.flush()
    return user


def make_supplier(**overrides):
    """An accredited supplier organization, its admin user and a registered ECDSA P-256 key:
    (user, org, key, private key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from signatures.service import register_key

    org = make_org(is_customer=False, is_supplier=True, **overrides)
    user = make_user(org)
    private = ec.generate_private_key(ec.SECP256R1())
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return user, org, register_key(user, pem, "test"), private
