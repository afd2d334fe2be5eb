"""`flask demo load`: demo organizations and users with known passwords (idempotent)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import click
from flask.cli import AppGroup
from sqlalchemy import select

from accounts.demo_data import person
from accounts.models import Membership, Organization, User
from accounts.rules import FOUNDER_ROLES as FOUNDERS
from accounts.service import hash_password
from audit.service import record
from core import clock
from core.extensions import db
from core.transaction import commit

demo_cli = AppGroup("demo", help="Demo data for a newcomer.")

PASSWORD = "Demo-pass-2026"
OPERATOR = ("operator@demo.tenders", "Ольга Операторова")
# Every demo user reads Russian except one English-speaking supplier (docs/i18n.md).
ENGLISH_SPEAKERS = {"supplier3@demo.tenders"}

# (name, INN, KPP, OGRN, region, SME, roles, status, users with their roles in it); the
# numbers are synthetic
# but carry valid checksums.
ORGS = [
    (
        "ПАО «Северсталь-Демо»",
        "7710123458",
        "771001001",
        "1027700123406",
        "77",
        False,
        ("customer",),
        "accredited",
        [("buyer@demo.tenders", "Борис Закупкин", FOUNDERS)],
    ),
    (
        "АО «Уралмаш-Демо»",
        "6611123455",
        "661101001",
        "1026600123417",
        "66",
        False,
        ("customer",),
        "accredited",
        [
            ("buyer2@demo.tenders", "Вера Тендерова", FOUNDERS),
            ("buyer@demo.tenders", "", ("specialist",)),
        ],
    ),
    (
        "ООО «Стройматериалы»",
        "5012123454",
        "501201001",
        "1025000123422",
        "50",
        True,
        ("supplier",),
        "accredited",
        [("supplier1@demo.tenders", "Сергей Поставкин", FOUNDERS)],
    ),
    (
        "ООО «Метиз-Торг»",
        "7813123450",
        "781301001",
        "1027800123438",
        "78",
        True,
        ("supplier",),
        "accredited",
        [("supplier2@demo.tenders", "Анна Метизова", FOUNDERS)],
    ),
    (
        "АО «Кабель-Снаб»",
        "7814123452",
        "781401001",
        "1027800123449",
        "78",
        False,
        ("supplier", "customer"),
        "accredited",
        [("supplier3@demo.tenders", "John Cable", FOUNDERS)],
    ),
    (
        "ИП Петров Пётр Иванович",
        "500100730004",
        None,
        "304500100000017",
        "50",
        True,
        ("supplier",),
        "accredited",
        [("supplier4@demo.tenders", "Пётр Петров", FOUNDERS)],
    ),
    (
        "ООО «Новичок» (ждёт аккредитации)",
        "1615123457",
        "161501001",
        "1021600123456",
        "16",
        True,
        ("supplier",),
        "pending",
        [("newcomer@demo.tenders", "Нина Новикова", FOUNDERS)],
    ),
]


def _user(email: str, name: str, password_hash: str, operator: bool = False) -> User:
    locale = "en" if email in ENGLISH_SPEAKERS else "ru"
    return person(email, name, password_hash, locale=locale, operator=operator)


def load() -> list[tuple[str, str]]:
    """Create the demo data if missing; return (email, role description) pairs."""
    password_hash = hash_password(PASSWORD)
    operator = _user(*OPERATOR, password_hash, operator=True)
    logins = [(operator.email, "operator")]
    for name, inn, kpp, ogrn, region, sme, org_roles, status, users in ORGS:
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
                is_customer="customer" in org_roles,
                is_supplier="supplier" in org_roles,
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
        for email, uname, roles in users:
            user = _user(email, uname, password_hash)
            exists = db.session.execute(
                select(Membership).where(
                    Membership.user_id == user.id, Membership.organization_id == org.id
                )
            ).scalar_one_or_none()
            if exists is None:
                db.session.add(
                    Membership(user_id=user.id, organization_id=org.id, roles=list(roles))
                )
            logins.append(
                (email, f"{'/'.join(org_roles)} of {name} ({status}), {', '.join(roles)}")
            )
    db.session.flush()
    return logins


@demo_cli.command("load")
def load_command() -> None:
    """Load the demo data and print the logins."""
    logins = load()
    commit()
    from notifications import demo_data as notification_demo

    if notification_demo.load_subscriptions():
        commit()
        click.echo("Suppliers declared categories; demo subscriptions created.")
    created = load_tenders()
    commit()
    if created:
        click.echo(f"Created {created} demo tenders (one closes 45 minutes from now).")
    key_path = load_signing_key()
    commit()
    if key_path:
        click.echo(f"supplier1's signing key (private half, for the CLI): {key_path}")
    if load_bids():
        commit()
        click.echo("Demo suppliers have signed bids on the cable and cement tenders.")
    if load_csv_bid():
        commit()
        click.echo("AO Kabel-Snab bid on the 2,000-position tender with a CSV file.")
    finished = load_results()
    commit()
    if finished:
        click.echo("Two finished tenders: one closed with offers to review, one with results.")
    from results import commission_demo_data

    commission_demo_data.load(hash_password(PASSWORD))  # the commission votes on a decision
    commit()
    logins.append((commission_demo_data.MANAGER2[0], "manager of the two demo customers"))
    from results.rebidding import demo_data as rebidding_demo

    rebidding_demo.load_command()
    from reports import demo_data as report_demo

    report_demo.load_history(_finished_tender, _lot)  # buyer@demo.tenders's dashboard
    commit()
    protocols = load_protocols()
    commit()
    if protocols:
        click.echo(f"Signed results protocols produced for {protocols} demo tender(s).")
    if load_organization_change():
        commit()
        click.echo("OOO Metiz-Torg asks to become a customer too: the operator's queue shows it.")
    from bids.demo_data import load_qualified_bid

    click.echo(load_qualified_bid())
    from tenders import demo_data as roles_demo

    logins += roles_demo.load_roles(PASSWORD)
    from approvals import demo_data as approval_demo

    logins += approval_demo.load(hash_password(PASSWORD))  # before the inbox is filled
    commit()
    notified = notification_demo.load_inbox()
    commit()
    click.echo(f"{notified} notification(s) in the demo inboxes; supplier2 follows a tender.")
    from workspaces import demo_data as workspace_demo

    made = workspace_demo.load()  # idempotent: 0 on a second run
    commit()
    click.echo(f"{made} more demo bid(s) and follow(s): supplier1's My bids and Followed.")
    click.echo(f"Demo users (password for all: {PASSWORD}):")
    for email, what in dict.fromkeys(logins):  # two loaders may add the same person
        click.echo(f"  {email:28} {what}")


def _lot(title: str, mode: str, positions: list[tuple], weight: str = "100", criteria=()) -> dict:
    return {
        "title": title,
        "award_mode": mode,
        "price_weight": Decimal(weight),
        "positions": [
            {
                "number": str(n),
                "name": name,
                "quantity": Decimal(qty),
                "unit_code": unit,
                "max_unit_price": Decimal(price) if price else None,
                "category_code": cat,
                "specification": spec,
                "delivery_place": "",
                "delivery_date": None,
            }
            for n, name, qty, unit, price, cat, spec in positions
        ],
        "criteria": list(criteria),
    }


def _cable_positions() -> list[tuple]:
    sizes = ["3x1.5", "3x2.5", "3x4", "3x6", "4x10", "4x16", "5x2.5", "5x4", "5x6", "5x10"]
    rows = [
        (
            i + 1,
            f"Кабель ВВГнг(А)-LS {s}",
            500 + 100 * i,
            "006",
            f"{60 + 25 * i}.00",
            "27.32",
            "ГОСТ 31996-2012, барабаны",
        )
        for i, s in enumerate(sizes)
    ]
    rows += [
        (
            11 + i,
            f"Кабель КВВГнг(А)-LS {c}x1.5",
            300,
            "006",
            f"{90 + 10 * i}.00",
            "27.32",
            "Контрольный",
        )
        for i, c in enumerate([4, 5, 7, 10, 14, 19, 27])
    ]
    rows += [
        (18 + i, name, qty, "796", price, "27.33", "")
        for i, (name, qty, price) in enumerate(
            [
                ("Муфта концевая 4КНТп-1", 40, "1850.00"),
                ("Муфта соединительная 4СТп-1", 30, "2400.00"),
                ("Наконечник ТМЛ 16-8", 400, "35.00"),
                ("Наконечник ТМЛ 25-8", 400, "48.00"),
                ("Гильза ГМЛ 16", 300, "22.00"),
                ("Лента изоляционная ПВХ", 200, "45.00"),
                ("Кабельный ввод PG-21", 150, "60.00"),
                ("Стяжка нейлоновая 300 мм (уп. 100 шт)", 80, "210.00"),
            ]
        )
    ]
    return rows


def _criteria() -> tuple[dict, dict]:
    """The two scored criteria of the demo lots: warranty (months) and payment deferral."""
    warranty = {
        "name": "Гарантия",
        "kind": "number",
        "unit": "мес",
        "required": True,
        "weight": Decimal(15),
        "direction": "higher_better",
        "min_value": Decimal(12),
        "max_value": None,
        "options": [],
    }
    deferral = {
        "name": "Отсрочка платежа",
        "kind": "choice",
        "unit": "",
        "required": True,
        "weight": Decimal(10),
        "direction": None,
        "min_value": None,
        "max_value": None,
        "options": [
            {"label": "нет", "score": Decimal(0)},
            {"label": "30 дней", "score": Decimal("0.5")},
            {"label": "60 дней", "score": Decimal(1)},
        ],
    }
    return warranty, deferral


def _terms(months: str, days: str):
    """A bid plan's criterion values on lot 1 (the demo's two criteria, _criteria())."""

    def values(tender):
        ids = {c.name: c.id for c in tender.lots[0].criteria}
        return [
            {"lot": 1, "criterion": ids["Гарантия"], "value": months},
            {"lot": 1, "criterion": ids["Отсрочка платежа"], "value": days},
        ]

    return values


def _tenders(customer: Organization, buyer: User, other: Organization, other_buyer: User) -> list:
    from tenders import service as tenders

    now = clock.now()
    warranty, deferral = _criteria()
    specs = [
        (
            customer,
            buyer,
            {
                "title": "Поставка кабельной продукции для ПС 110 кВ «Северная»",
                "description": "Поставка кабеля и кабельной арматуры на склад заказчика "
                "в г. Москва. Позиции оцениваются отдельно (попозиционная закупка).",
                "region_code": "77",
                "categories": ["27.3"],
                "visibility": "open_after_own_bid",
                "bid_deadline": now + dt.timedelta(days=3),
                "questions_until": now + dt.timedelta(days=2),
                "lots": [
                    _lot(
                        "Кабель и арматура",
                        "per_position",
                        _cable_positions(),
                        "75",
                        [warranty, deferral],
                    )
                ],
            },
            "publish",
        ),
        (
            other,
            other_buyer,
            {
                "title": "Поставка цемента и сухих смесей",
                "description": "Лот 1 — только целиком, лот 2 — попозиционно. Торги идут: "
                "предложения в последние 30 минут продлевают срок на 30 минут.",
                "region_code": "66",
                "categories": ["23.5", "23.6"],
                "sme_only": True,
                "bid_deadline": now + dt.timedelta(minutes=45),
                "lots": [
                    _lot(
                        "Цемент",
                        "whole_lot",
                        [
                            (
                                1,
                                "Цемент ЦЕМ I 42,5Н (М500)",
                                200,
                                "168",
                                "7800.00",
                                "23.51",
                                "Навалом",
                            ),
                            (
                                2,
                                "Цемент ЦЕМ II/А-Ш 32,5Б (М400)",
                                120,
                                "168",
                                "6900.00",
                                "23.51",
                                "",
                            ),
                        ],
                    ),
                    _lot(
                        "Сухие смеси",
                        "per_position",
                        [
                            (
                                3,
                                "Смесь штукатурная гипсовая",
                                400,
                                "166",
                                "14.50",
                                "23.64",
                                "мешки 30 кг",
                            ),
                            (4, "Клей плиточный", 300, "166", "12.00", "23.64", "мешки 25 кг"),
                        ],
                    ),
                ],
            },
            "publish",
        ),
        (
            customer,
            buyer,
            {
                # The editable draft of the demo (issue 19): two lots to edit in place, a
                # weighted criterion, a description and a zone that an error must not blank.
                "title": "Ремонт кровли склада № 3 (черновик)",
                "description": "Склад № 3, Екатеринбург, ул. Монтажников, 4. Работы без "
                "остановки склада; осмотр кровли по заявке.",
                "region_code": "66",
                "timezone": "Asia/Yekaterinburg",
                "categories": ["43.9"],
                "bid_deadline": now + dt.timedelta(days=14),
                "lots": [
                    _lot(
                        "Кровля",
                        "whole_lot",
                        [(1, "Ремонт мягкой кровли", 1200, "055", "950.00", "43.91", "")],
                        weight="85",
                        criteria=[{**_criteria()[0], "weight": Decimal(15)}],
                    ),
                    _lot(
                        "Водосточная система",
                        "per_position",
                        [
                            (2, "Желоб водосточный 125 мм", 180, "006", "685.00", "43.91", ""),
                            (3, "Труба водосточная 90 мм", "96.5", "006", "540.00", "43.91", ""),
                        ],
                    ),
                ],
            },
            "draft",
        ),
        (
            customer,
            buyer,
            {
                "title": "Поставка спецодежды (отменена)",
                "region_code": "77",
                "categories": ["14.1"],
                "bid_deadline": now + dt.timedelta(days=7),
                "lots": [
                    _lot(
                        "Спецодежда",
                        "per_position",
                        [(1, "Костюм летний", 50, "796", "3200.00", "14.12", "")],
                    )
                ],
            },
            "cancel",
        ),
    ]
    made = []
    for org, user, data, fate in specs:
        tender = tenders.create_draft(user, org, data)
        if fate in ("publish", "cancel"):
            tenders.publish(user, org, tender.id)
        if fate == "cancel":
            tenders.cancel(user, org, tender.id, "Потребность отпала")
        made.append(tender)
    return made


def _large_tender(org: Organization, user: User) -> None:
    """A published tender with 2,000 positions: the notice pages them, CSV is the bid route."""
    from tenders import service as tenders

    positions = [
        (
            i,
            f"Подшипник {6000 + i % 400}-2RS, партия {i}",
            10 + i % 90,
            "796",
            f"{150 + (i % 50) * 7}.00",
            "28.15",
            "",
        )
        for i in range(1, 2001)
    ]
    tender = tenders.create_draft(
        user,
        org,
        {
            "title": "Подшипники качения: 2 000 позиций (годовая потребность)",
            "description": "Крупная попозиционная закупка: цены подаются CSV-файлом.",
            "region_code": "78",
            "categories": ["28.15"],
            "bid_deadline": clock.now() + dt.timedelta(days=10),
            "lots": [_lot("Подшипники", "per_position", positions)],
        },
    )
    tenders.publish(user, org, tender.id)


def _question(tender, supplier: Organization, user: User, buyer: User) -> None:
    from tenders import service as tenders

    q = tenders.ask(
        user, supplier, tender.id, "Допускается ли поставка кабеля на барабанах по 1000 м?"
    )
    tenders.answer(
        buyer,
        db.session.get(Organization, tender.customer_id),
        tender.id,
        q.id,
        "Да, допускается, при условии маркировки каждого барабана.",
    )


def load_tenders() -> int:
    """Demo tenders (idempotent: only when the demo customers have none)."""
    from tenders.models import Tender

    if db.session.execute(select(Tender.id).limit(1)).first():
        return 0
    orgs = {o.inn: o for o in db.session.execute(select(Organization)).scalars()}
    users = {u.email: u for u in db.session.execute(select(User)).scalars()}
    severstal, uralmash = orgs[ORGS[0][1]], orgs[ORGS[1][1]]
    buyer, buyer2 = users["buyer@demo.tenders"], users["buyer2@demo.tenders"]
    made = _tenders(severstal, buyer, uralmash, buyer2)
    _large_tender(uralmash, buyer2)
    _question(made[0], orgs[ORGS[2][1]], users["supplier1@demo.tenders"], buyer)
    return len(made) + 1


def load_signing_key() -> str | None:
    """A registered ECDSA key for supplier1, its private half in the instance folder, so the
    integrator's CLI can be tried: python -m signatures.cli sign --key <file> payload.json."""
    from pathlib import Path

    from flask import current_app

    from signatures import rules
    from signatures import service as signatures

    user = db.session.execute(
        select(User).where(User.email == "supplier1@demo.tenders")
    ).scalar_one()
    if signatures.user_keys(user):
        return None
    private_pem = rules.generate_platform_key()  # an ECDSA P-256 key like any other
    path = Path(current_app.instance_path) / "demo" / "supplier1-signing-key.pem"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(private_pem)
    path.chmod(0o600)
    public = rules.public_pem(rules.load_private_key(private_pem))
    signatures.register_key(user, public, "Demo key (made with the CLI)")
    return str(path)


def _vault(user: User, org: Organization) -> list:
    """The supplier's document vault: a charter and a registry extract (plain text here)."""
    import io

    from bids import documents

    existing = documents.vault(user, org)
    if existing:
        return existing
    files = [
        ("Устав", "ustav.txt", f"Устав {org.name} (демонстрационный документ)."),
        ("Выписка из ЕГРЮЛ", "egrul.txt", f"Выписка из ЕГРЮЛ: {org.name}, ИНН {org.inn}."),
    ]
    return [
        documents.upload(user, org, name, io.BytesIO(text.encode()), title)
        for title, name, text in files
    ]


def load_bids() -> int:
    """Signed demo bids, so the offers table and the receipts have something to show."""
    import base64
    from pathlib import Path

    from flask import current_app

    from bids import service as bids
    from bids.models import Bid
    from signatures import rules
    from signatures import service as signatures
    from tenders.models import Tender

    if db.session.execute(select(Bid.id).limit(1)).first():
        return 0
    tenders = {t.title: t for t in db.session.execute(select(Tender)).scalars()}
    cable = next(t for title, t in tenders.items() if title.startswith("Поставка кабельной"))
    cement = next(t for title, t in tenders.items() if title.startswith("Поставка цемента"))
    keyfile = Path(current_app.instance_path) / "demo" / "supplier1-signing-key.pem"
    made = 0
    plans = [
        (
            "supplier1@demo.tenders",
            cable,
            {"1": "58.90", "2": "84.00", "3": "109.50"},
            "36",
            "30 дней",
        ),
        (
            "supplier2@demo.tenders",
            cable,
            {"1": "59.40", "3": "107.00", "18": "1790.00"},
            "24",
            "60 дней",
        ),
        ("supplier2@demo.tenders", cement, {"3": "13.90", "4": "11.40"}, None, None),
    ]
    for email, tender, prices, warranty, deferral in plans:
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        org = next(m.organization for m in user.memberships)
        if email.startswith("supplier1") and keyfile.exists():
            private = rules.load_private_key(keyfile.read_bytes())
            key = signatures.user_keys(user)[0]
        else:
            private = rules.load_private_key(rules.generate_platform_key())
            key = signatures.register_key(user, rules.public_pem(private), "Demo key")
        criteria = []
        if warranty:
            ids = {c.name: c.id for c in tender.lots[0].criteria}
            criteria = [
                {"lot": 1, "criterion": ids["Гарантия"], "value": warranty},
                {"lot": 1, "criterion": ids["Отсрочка платежа"], "value": deferral},
            ]
        offer = {
            "lines": [
                {"position": n, "unit_price": Decimal(p), "note": ""} for n, p in prices.items()
            ],
            "criteria": criteria,
            "documents": [d.id for d in _vault(user, org)],
        }
        prepared = bids.prepare(user, org, tender.id, offer)
        signature = rules.sign(private, base64.b64decode(prepared["canonical_b64"]))
        bids.submit(user, org, tender.id, offer, key.id, base64.b64encode(signature).decode())
        made += 1
    return made


def load_protocols() -> int:
    """The signed results protocol of every demo tender with published results (the job
    does the same after a publication; here it runs at once so the demo shows it)."""
    from reports import service as reports
    from tenders.models import Tender

    made = 0
    for tender_id in db.session.execute(
        select(Tender.id).where(Tender.status == "results_published").order_by(Tender.id)
    ).scalars():
        before = reports.latest_protocol(db.session.get(Tender, tender_id))
        doc = reports.generate_protocol(tender_id)
        made += doc is not None and doc is not before
    return made


def _demo_bid(email: str, tender, prices: dict[str, str], criteria: list | None = None) -> None:
    """A signed revision from a demo supplier (its key registered on first use)."""
    import base64
    from pathlib import Path

    from flask import current_app

    from bids import service as bids
    from signatures import rules
    from signatures import service as signatures

    user = db.session.execute(select(User).where(User.email == email)).scalar_one()
    org = next(m.organization for m in user.memberships if m.organization.is_supplier)
    keyfile = Path(current_app.instance_path) / "demo" / "supplier1-signing-key.pem"
    if email.startswith("supplier1") and keyfile.exists():
        private = rules.load_private_key(keyfile.read_bytes())
        pem = rules.public_pem(private)  # the CLI's key, not the qualified certificate
        key = next(k for k in signatures.user_keys(user) if k.spki_pem == pem)
    else:
        private = rules.load_private_key(rules.generate_platform_key())
        key = signatures.register_key(user, rules.public_pem(private), "Demo key (results)")
    offer = {
        "lines": [{"position": n, "unit_price": Decimal(p), "note": ""} for n, p in prices.items()],
        "criteria": criteria or [],
    }
    prepared = bids.prepare(user, org, tender.id, offer)
    signature = rules.sign(private, base64.b64decode(prepared["canonical_b64"]))
    bids.submit(user, org, tender.id, offer, key.id, base64.b64encode(signature).decode())


def _finished_tender(customer, buyer, data: dict, plans: list, started: dt.datetime):
    """Publish in the past (the clock set back), bid, lower the prices in the last half
    hour (extending the deadline), pass the deadline and close."""
    from reports import demo_data as report_demo
    from results import evaluation
    from tenders import closing
    from tenders import service as tenders

    clock.freeze(started)
    tender = tenders.create_draft(
        buyer, customer, {**data, "bid_deadline": started + dt.timedelta(days=3)}
    )
    tenders.publish(buyer, customer, tender.id)
    for hours, (email, prices, criteria) in enumerate(plans, start=2):
        clock.freeze(started + dt.timedelta(hours=hours))
        opening = report_demo.opening_prices(data, prices)  # lowered in the final round
        _demo_bid(email, tender, opening, criteria(tender) if criteria else None)
    report_demo.final_round(tender, plans, _demo_bid)
    db.session.refresh(tender)
    clock.freeze(tender.bid_deadline + dt.timedelta(minutes=1))
    closing.close(tender.id)
    evaluation.evaluate_tender(tender.id)
    return tender


def load_results() -> int:
    """A closed tender with offers to review and one with published results (idempotent)."""
    from results import disqualification, evaluation, publication
    from tenders.models import Tender

    title = "Поставка электротехнической продукции (итоги опубликованы)"
    if db.session.execute(select(Tender.id).where(Tender.title == title)).first():
        return 0
    orgs = {o.inn: o for o in db.session.execute(select(Organization)).scalars()}
    users = {u.email: u for u in db.session.execute(select(User)).scalars()}
    severstal, uralmash = orgs[ORGS[0][1]], orgs[ORGS[1][1]]
    buyer, buyer2 = users["buyer@demo.tenders"], users["buyer2@demo.tenders"]
    warranty, deferral = _criteria()

    real_now = clock.now()
    try:
        published = _finished_tender(
            severstal,
            buyer,
            {
                "title": title,
                "description": "Лот 1 — попозиционно, с критериями; лот 2 — только целиком.",
                "region_code": "77",
                "categories": ["27.3"],
                "lots": [
                    _lot(
                        "Кабель",
                        "per_position",
                        [
                            (1, "Кабель ВВГнг(А)-LS 3x2.5", 2000, "006", "95.00", "27.32", ""),
                            (2, "Кабель ВВГнг(А)-LS 5x4", 800, "006", "210.00", "27.32", ""),
                            (3, "Кабель КВВГнг(А)-LS 7x1.5", 600, "006", "120.00", "27.32", ""),
                        ],
                        "75",
                        [warranty, deferral],
                    ),
                    _lot(
                        "Щиты распределительные",
                        "whole_lot",
                        [
                            (4, "Щит ЩРН-24", 10, "796", "8500.00", "27.12", ""),
                            (5, "Автомат ВА47-29 16А", 120, "796", "260.00", "27.12", ""),
                        ],
                    ),
                ],
            },
            [
                (
                    "supplier1@demo.tenders",
                    {"1": "78.40", "2": "182.00", "3": "101.00", "4": "7900", "5": "231"},
                    _terms("36", "30 дней"),
                ),
                (
                    "supplier2@demo.tenders",
                    {"1": "74.90", "3": "99.50", "4": "8100", "5": "198"},
                    _terms("24", "60 дней"),
                ),
                (
                    "supplier3@demo.tenders",
                    {"1": "81.00", "2": "176.50", "4": "7400", "5": "215"},
                    _terms("24", "нет"),
                ),
            ],
            real_now - dt.timedelta(days=12),
        )
        clock.freeze(real_now - dt.timedelta(days=8))
        participant = next(
            b.participant_number
            for b in evaluation.standing_bids(published)
            if b.organization_id == orgs[ORGS[4][1]].id
        )
        disqualified = disqualification.disqualify(
            buyer,
            severstal,
            published.id,
            participant,
            2,
            "Не приложены сертификаты соответствия ТР ТС на щиты (п. 4.2 документации).",
        )
        # One that stays: the lowest price of position 1 is greyed with this reason on the
        # notice after publication, and the winner is another offer (issue 19.4).
        clock.freeze(real_now - dt.timedelta(days=8) + dt.timedelta(minutes=5))
        disqualification.disqualify(
            buyer,
            severstal,
            published.id,
            next(
                b.participant_number
                for b in evaluation.standing_bids(published)
                if b.organization_id == orgs[ORGS[3][1]].id
            ),
            1,
            "Не приложена декларация о соответствии ТР ТС на кабель (п. 4.1 документации).",
        )
        # The commission's decision (issue 21): another winner on position 2, approved.
        from results import commission_demo_data

        manager2 = commission_demo_data.manager2(hash_password(PASSWORD), [severstal, uralmash])
        at = real_now - dt.timedelta(days=7, hours=3)
        commission_demo_data.decide_published(published, buyer, severstal, manager2, at)
        clock.freeze(real_now - dt.timedelta(days=7))
        publication.publish(buyer, severstal, published.id)
        # A correction after publication: results version 2, the first one stays readable.
        from results import correction

        clock.freeze(real_now - dt.timedelta(days=6))
        correction.correct(
            buyer,
            severstal,
            published.id,
            "Жалоба участника: сертификаты ТР ТС были приложены к заявке в архиве документов.",
            [
                {
                    "action": "lift",
                    "disqualification": disqualified.id,
                    "reason": "Сертификаты найдены в архиве документов заявки.",
                }
            ],
        )
        _finished_tender(
            uralmash,
            buyer2,
            {
                "title": "Поставка офисной мебели (рассмотрение заявок)",
                "description": "Попозиционная закупка, только цена. Итоги ещё не подведены.",
                "region_code": "66",
                "categories": ["31.0"],
                "lots": [
                    _lot(
                        "Мебель",
                        "per_position",
                        [
                            (1, "Стол письменный 1400x700", 40, "796", "9800.00", "31.01", ""),
                            (2, "Кресло офисное", 40, "796", "7200.00", "31.01", ""),
                            (3, "Шкаф для документов", 15, "796", "15400.00", "31.01", ""),
                        ],
                    )
                ],
            },
            [
                ("supplier1@demo.tenders", {"1": "8450", "2": "6100", "3": "14900"}, None),
                ("supplier2@demo.tenders", {"1": "8700", "2": "5900"}, None),
                ("supplier3@demo.tenders", {"2": "6350", "3": "13800"}, None),
            ],
            real_now - dt.timedelta(days=5),
        )
        # Closed, its offers to be improved in a re-bidding round (results/rebidding/demo_data.py)
        # before the commission decides: a tender of its own, apart from the furniture one
        # whose decision the commission is voting on.
        from results.rebidding import demo_data as rebidding_demo

        _finished_tender(
            uralmash,
            buyer2,
            {
                "title": rebidding_demo.RUNNING_ON,
                "description": (
                    "Попозиционная закупка с параметрами (гарантия, отсрочка платежа). "
                    "Идёт переторжка по лоту 1: улучшаются цены и параметры."
                ),
                "region_code": "66",
                "categories": ["26.20"],
                "lots": [
                    _lot(
                        "Компьютеры",
                        "per_position",
                        [
                            (1, "Ноутбук 15,6 дюйма", 20, "796", "78000.00", "26.20", ""),
                            (2, "Монитор 27 дюймов", 20, "796", "24500.00", "26.20", ""),
                        ],
                        "75",
                        list(_criteria()),
                    )
                ],
            },
            [
                ("supplier1@demo.tenders", {"1": "74100", "2": "23300"}, _terms("12", "нет")),
                ("supplier2@demo.tenders", {"1": "72800", "2": "23900"}, _terms("24", "30 дней")),
                ("supplier3@demo.tenders", {"1": "75500"}, _terms("36", "нет")),
            ],
            real_now - dt.timedelta(days=2),
        )
    finally:
        clock.reset()
    return 3


def load_organization_change() -> bool:
    """An accredited supplier asks to buy too and to rename itself: a change request that
    waits for the operator (its old profile stays in force meanwhile)."""
    from accounts.service import update_organization

    user = db.session.execute(
        select(User).where(User.email == "supplier2@demo.tenders")
    ).scalar_one_or_none()
    org = db.session.execute(
        select(Organization).where(Organization.inn == "7813123450")
    ).scalar_one_or_none()
    if user is None or org is None or org.pending_change is not None or org.is_customer:
        return False
    update_organization(
        user, org.id, {"name": "ООО «Метиз-Торг Групп»", "roles": ["customer", "supplier"]}
    )
    return True


def load_csv_bid() -> int:
    """A bid built the CSV way on the 2,000-position tender: the template (Windows-1251) is
    downloaded, three positions of four are priced as in Excel (decimal comma), the file is
    uploaded, checked and signed, and becomes a revision like any other (idempotent)."""
    import base64
    import csv
    import io

    from bids import csv_service
    from bids.models import Bid
    from signatures import rules
    from signatures import service as signatures
    from tenders.models import Tender

    tender = db.session.execute(
        select(Tender).where(Tender.title.startswith("Подшипники качения"))
    ).scalar_one_or_none()
    user = db.session.execute(
        select(User).where(User.email == "supplier3@demo.tenders")
    ).scalar_one()
    org = next(m.organization for m in user.memberships if m.organization.is_supplier)
    if (
        tender is None
        or db.session.execute(
            select(Bid.id).where(Bid.tender_id == tender.id, Bid.organization_id == org.id)
        ).first()
    ):
        return 0
    data, _ = csv_service.template(user, org, tender.id, encoding="windows-1251")
    rows = list(csv.reader(io.StringIO(data.decode("cp1251"), newline=""), delimiter=";"))
    cap, price = rows[0].index("Макс. цена за единицу"), rows[0].index("Цена за единицу")
    for n, row in enumerate(rows[1:]):
        if n % 4 != 3 and row[cap]:
            row[price] = f"{Decimal(row[cap].replace(',', '.')) * Decimal('0.93'):.2f}"
            row[price] = row[price].replace(".", ",")
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    upload = csv_service.upload(
        user, org, tender.id, out.getvalue().encode("cp1251"), filename="подшипники-цены.csv"
    )
    private = rules.load_private_key(rules.generate_platform_key())
    key = signatures.register_key(user, rules.public_pem(private), "Demo key (CSV bid)")
    prepared = csv_service.prepare(user, org, tender.id, upload.id)
    signature = rules.sign(private, base64.b64decode(prepared["canonical_b64"]))
    csv_service.submit(
        user, org, tender.id, upload.id, key.id, base64.b64encode(signature).decode()
    )
    return 1
