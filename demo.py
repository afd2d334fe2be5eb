"""`flask demo load`: demo organizations and users with known passwords (idempotent)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from accounts.models import Membership, Organization, User
from accounts.service import hash_password
from audit.service import record
from core import clock
from core.extensions import db
from core.transaction import commit

demo_cli = AppGroup("demo", help="Demo data for a newcomer.")

PASSWORD = "Demo-pass-2026"
OPERATOR = ("operator@demo.tenders", "Olga Operatorova")

# (name, INN, KPP, OGRN, region, SME, roles, status, users); the numbers are synthetic
# but carry valid checksums.
ORGS = [
    (
        "PAO Severstal-Demo",
        "7710123458",
        "771001001",
        "1027700123406",
        "77",
        False,
        ("customer",),
        "accredited",
        [("buyer@demo.tenders", "Boris Zakupkin", "admin")],
    ),
    (
        "AO Uralmash-Demo",
        "6611123455",
        "661101001",
        "1026600123417",
        "66",
        False,
        ("customer",),
        "accredited",
        [("buyer2@demo.tenders", "Vera Tenderova", "admin"), ("buyer@demo.tenders", "", "member")],
    ),
    (
        "OOO Stroymaterialy",
        "5012123454",
        "501201001",
        "1025000123422",
        "50",
        True,
        ("supplier",),
        "accredited",
        [("supplier1@demo.tenders", "Sergey Postavkin", "admin")],
    ),
    (
        "OOO Metiz-Torg",
        "7813123450",
        "781301001",
        "1027800123438",
        "78",
        True,
        ("supplier",),
        "accredited",
        [("supplier2@demo.tenders", "Anna Metizova", "admin")],
    ),
    (
        "AO Kabel-Snab",
        "7814123452",
        "781401001",
        "1027800123449",
        "78",
        False,
        ("supplier", "customer"),
        "accredited",
        [("supplier3@demo.tenders", "Ivan Kabelev", "admin")],
    ),
    (
        "IP Petrov Pyotr Ivanovich",
        "500100730004",
        None,
        "304500100000017",
        "50",
        True,
        ("supplier",),
        "accredited",
        [("supplier4@demo.tenders", "Pyotr Petrov", "admin")],
    ),
    (
        "OOO Novichok (awaiting accreditation)",
        "1615123457",
        "161501001",
        "1021600123456",
        "16",
        True,
        ("supplier",),
        "pending",
        [("newcomer@demo.tenders", "Nina Novikova", "admin")],
    ),
]


def _user(email: str, name: str, password_hash: str, operator: bool = False) -> User:
    user = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    if user is None:
        user = User(
            email=email,
            name=name,
            password_hash=password_hash,
            email_confirmed_at=clock.now(),
            is_operator=operator,
        )
        db.session.add(user)
        db.session.flush()
        record("user.registered", "user", user.id, {"email": email, "demo": True})
    return user


def load() -> list[tuple[str, str]]:
    """Create the demo data if missing; return (email, role description) pairs."""
    password_hash = hash_password(PASSWORD)
    operator = _user(*OPERATOR, password_hash, operator=True)
    logins = [(operator.email, "operator")]
    for name, inn, kpp, ogrn, region, sme, roles, status, users in ORGS:
        org = db.session.execute(
            select(Organization).where(Organization.inn == inn)
        ).scalar_one_or_none()
        if org is None:
            org = Organization(
                name=name,
                inn=inn,
                kpp=kpp,
                ogrn=ogrn,
                region_code=region,
                is_sme=sme,
                is_customer="customer" in roles,
                is_supplier="supplier" in roles,
                accreditation_status=status,
                accreditation_decided_at=clock.now() if status != "pending" else None,
            )
            db.session.add(org)
            db.session.flush()
            record(
                "organization.registered",
                "organization",
                org.id,
                {"inn": inn, "name": name, "demo": True},
            )
            if status == "accredited":
                record(
                    "organization.accredited",
                    "organization",
                    org.id,
                    {"previous": "pending", "reason": "demo"},
                    actor_user_id=operator.id,
                )
        for email, uname, role in users:
            user = _user(email, uname, password_hash)
            exists = db.session.execute(
                select(Membership).where(
                    Membership.user_id == user.id, Membership.organization_id == org.id
                )
            ).scalar_one_or_none()
            if exists is None:
                db.session.add(Membership(user_id=user.id, organization_id=org.id, role=role))
            logins.append((email, f"{'/'.join(roles)} of {name} ({status}), {role}"))
    db.session.flush()
    return logins


@demo_cli.command("load")
def load_command() -> None:
    """Load the demo data and print the logins."""
    logins = load()
    commit()
    click.echo(f"Demo users (password for all: {PASSWORD}):")
    for email, what in logins:
        click.echo(f"  {email:28} {what}")
