"""Benchmark: many suppliers revising signed bids on ONE tender at once, on PostgreSQL.

Builds a throwaway database (migrations through the app), a published tender with one lot of
10 positions and N accredited suppliers, each with an API token and a registered ECDSA P-256
key (set up in-process, committed). Then starts K real web processes (serve.py, eventlet,
Redis message queue) and runs N client threads spread round-robin over their ports; each
loops for --seconds: prepare -> sign in the client -> submit (or, with --client-payload, the
client builds the documented payload itself as an ERP does, signs it and submits). Prints
accepted revisions/s, p50/p95/p99 of the submit call and of the whole cycle, and errors by
status; checks that every acknowledged (201) revision is stored. To explain the figures: the
CPU use of each process during the load, and samples of what the transaction holding the
tender row lock was doing (waiting for the web process, 'idle in transaction', or running a
statement). As a baseline measured in the same run, the raw PostgreSQL rate of the same
transaction shape (lock the tender row, insert a revision and 1-10 lines, update the bid)
with psycopg2 from as many threads (capped by free connection slots), and the ratio.

    .venv/bin/python bench/bidding_contention.py [--suppliers 50] [--processes 2]
        [--seconds 20] [--in-window] [--client-payload] [--rate R] [--raw-seconds 10]
        [--raw-threads N] [--keep]

By default every supplier submits again as soon as it is answered (closed loop: the
throughput at saturation; the latency is then the suppliers' number over the throughput).
--rate R: the suppliers together offer R revisions/s at random moments (open loop: the
latency at that load, counted from the moment each revision was due).

--in-window: the tender closes in 10 minutes, extension mode from_change (window 30 min,
extension 30 min), so every accepted revision extends the deadline (audit event + emit).
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import ctypes
import datetime as dt
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import urllib3  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from support import (  # noqa: E402
    ADMIN_URL,
    create_database,
    database_url,
    dispose,
    drop_database,
    migrated_app,
    percentile,
)

# The bench's own Redis database: the jobs its servers enqueue (no worker runs them) are
# dropped before and after each run, so one run's job ids (the database is new each time)
# never meet the last run's leftovers.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
DB_NAME = "tenders_bench_contention"
PASSWORD = "Bench-horse-42"
POSITIONS = 10
QUANTITY = "100"
_W10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """--help: the docstring as written, and every option's default."""


# -- figures -----------------------------------------------------------------------------------


def report(name: str, samples: list[float]) -> None:
    if not samples:
        print(f"{name:44} no samples")
        return
    print(
        f"{name:44} p50 {statistics.median(samples):7.1f} ms  p95 "
        f"{percentile(samples, 0.95):7.1f} ms  p99 {percentile(samples, 0.99):7.1f} ms  "
        f"max {max(samples):7.1f} ms  n={len(samples)}"
    )


# -- people, keys and the tender, committed through the app's models and services ----------------


def valid_inn10(n: int) -> str:
    body = f"77{n:07d}"
    return body + str(sum(int(d) * w for d, w in zip(body, _W10)) % 11 % 10)


@dataclass
class Supplier:
    org_id: int
    user_id: int
    email: str
    headers: dict
    key_id: int | None = None
    private_key: object = None
    inn: str = ""
    revision: int = 1  # the next revision's number and the last one's hash
    previous: str | None = None
    # --gost: (certificate DER, private key PEM) of a qualified GOST-256 certificate, and the
    # CAdES files signed ahead of the load by payload hash (signing is the supplier's cost)
    gost: tuple[bytes, bytes] | None = None
    signed: dict = field(default_factory=dict)


def make_people(app, count: int, *, supplier: bool, start: int, users_per_org: int = 1, keys=False):
    """Accredited organizations with admin users (password PASSWORD), an API token for the
    first user of each, and (keys=True) a registered ECDSA P-256 key per token holder."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from accounts.models import Membership, Organization, User
    from accounts.service import create_token, hash_password
    from core import clock
    from core.extensions import db
    from core.transaction import commit
    from signatures.service import register_key

    password_hash = hash_password(PASSWORD)  # argon2 once, shared by every bench user
    people: list[Supplier] = []
    with app.test_request_context():
        for i in range(count):
            n = start + i
            org = Organization(
                name=f"ООО Бенч {n}",
                inn=valid_inn10(n),
                kpp="770101001",
                region_code="77",
                is_sme=True,
                is_customer=not supplier,
                is_supplier=supplier,
                accreditation_status="accredited",
            )
            db.session.add(org)
            db.session.flush()
            for u in range(users_per_org):
                user = User(
                    email=f"bench{n}-{u}@example.test",
                    name=f"Bench {n}-{u}",
                    password_hash=password_hash,
                    email_confirmed_at=clock.now(),
                )
                db.session.add(user)
                db.session.flush()
                db.session.add(
                    Membership(
                        user_id=user.id, organization_id=org.id, roles=["administrator", "manager"]
                    )
                )
                db.session.flush()
                if u == 0:
                    _, token = create_token(user, org.id, "bench")
                    person = Supplier(
                        org.id,
                        user.id,
                        user.email,
                        {"Authorization": f"Bearer {token}"},
                        inn=org.inn,
                    )
                    if keys == "gost":
                        person.gost = gost_certificate(n, org.inn, org.name)
                        pem = _pem_certificate(person.gost[0])
                        person.key_id = register_key(user, pem, "bench GOST").id
                    elif keys:
                        private = ec.generate_private_key(ec.SECP256R1())
                        pem = (
                            private.public_key()
                            .public_bytes(
                                serialization.Encoding.PEM,
                                serialization.PublicFormat.SubjectPublicKeyInfo,
                            )
                            .decode()
                        )
                        person.key_id = register_key(user, pem, "bench").id
                        person.private_key = private
                else:
                    person = Supplier(org.id, user.id, user.email, {})
                people.append(person)
        commit()
    return people


GOST_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "gost"


def gost_certificate(n: int, inn: str, name: str) -> tuple[bytes, bytes]:
    """A qualified GOST-256 certificate naming the organization's INN, issued by the test
    centre's intermediate (tests/data/gost): (certificate DER, private key PEM)."""
    from signatures import cades, testca

    subject = {"CN": name, "O": name, "C": "RU", "SN": "Бенчев", "GN": f"Иван {n}", "INNLE": inn}
    with tempfile.TemporaryDirectory(prefix="bench-gost-") as tmp:
        cert, key = testca.issue(
            Path(tmp),
            f"bench{n}",
            subject,
            ca_cert=GOST_DIR / "ca" / "intermediate.pem",
            ca_key=GOST_DIR / "intermediate.key.pem",
        )
        return cades.load_certificate(cert.read_bytes()).dump(), key.read_bytes()


def _pem_certificate(der: bytes) -> str:
    from asn1crypto import pem

    return pem.armor("CERTIFICATE", der).decode()


def _sign_gost(job: tuple) -> tuple[str, str]:
    """(payload hash, base64 CAdES) for one payload (run in a worker process)."""
    from signatures import canonical, testca

    certificate, key, payload = job
    der = testca.sign_in_process(
        certificate,
        key,
        canonical.canonicalize(payload),
        bits=256,
        signing_time=dt.datetime.now(dt.UTC).replace(microsecond=0),
    )
    return canonical.digest_hex(payload), base64.b64encode(der).decode()


def presign_gost(tender_number: str, suppliers: list, count: int, rate_each=None) -> float:
    """Sign each supplier's next `count` revisions before the load, exactly as supplier_loop
    will build them (same random offers, same revision chain); returns the seconds it took."""
    from concurrent.futures import ProcessPoolExecutor

    from signatures import canonical

    start = time.perf_counter()
    jobs = []
    for s in suppliers:
        rnd = random.Random(s.org_id + 1000 * s.revision)
        revision, previous = s.revision, s.previous
        for _ in range(count):
            offer = random_offer(rnd)
            if rate_each is not None:
                rnd.expovariate(rate_each)
            payload = own_payload(tender_number, s, offer, revision, previous)
            jobs.append((s, payload))
            revision, previous = revision + 1, canonical.digest_hex(payload)
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        work = [(s.gost[0], s.gost[1], payload) for s, payload in jobs]
        for (s, _), (digest, signature) in zip(jobs, pool.map(_sign_gost, work, chunksize=16)):
            s.signed[digest] = signature
    return time.perf_counter() - start


def create_tender(app, customer: Supplier, *, deadline: dt.datetime, **policy) -> tuple:
    """A published tender with one lot of POSITIONS positions (through the API in-process):
    (id, number)."""
    body = {
        "title": "Поставка кабельной продукции (нагрузочный тест)",
        "description": "Кабель силовой, доставка на склад заказчика.",
        "region_code": "66",
        "categories": ["27.3"],
        "bid_deadline": deadline.isoformat(),
        "questions_until": None,
        **policy,
        "lots": [
            {
                "title": "Кабель",
                "award_mode": "per_position",
                "positions": [
                    {
                        "number": str(i),
                        "name": f"Кабель ВВГнг-LS 3x{i}",
                        "quantity": QUANTITY,
                        "unit_code": "006",
                        "max_unit_price": "1000.00",
                    }
                    for i in range(1, POSITIONS + 1)
                ],
            }
        ],
    }
    client = app.test_client()
    resp = client.post("/api/v1/tenders", json=body, headers=customer.headers)
    if resp.status_code != 201:
        raise RuntimeError(f"tender not created: {resp.status_code} {resp.get_json()}")
    tender_id = resp.get_json()["id"]
    resp = client.post(f"/api/v1/tenders/{tender_id}/publish", headers=customer.headers)
    if resp.status_code != 200:
        raise RuntimeError(f"tender not published: {resp.status_code} {resp.get_json()}")
    return tender_id, resp.get_json()["number"]


def sign(private_key, payload: dict) -> str:
    """Base64 ECDSA-SHA256 signature over the payload's canonical JSON (done by the client)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from signatures import canonical

    signature = private_key.sign(canonical.canonicalize(payload), ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()


def sign_for(s: Supplier, payload: dict) -> str:
    """The supplier's signature: ECDSA made now, or the GOST file signed ahead (made now if
    the load outran what was signed ahead)."""
    if s.gost is None:
        return sign(s.private_key, payload)
    from signatures import canonical

    found = s.signed.pop(canonical.digest_hex(payload), None)
    return found or _sign_gost((s.gost[0], s.gost[1], payload))[1]


def own_payload(tender_number: str, s: Supplier, offer: dict, revision: int, previous) -> dict:
    """The revision payload built by the client, as an integrator's ERP does (the format is
    fixed in signatures/payloads.py): no prepare call needed."""
    from decimal import Decimal

    from bids.rules import line_total
    from signatures.payloads import revision_payload

    lines = [
        {
            "position": line["position"],
            "unit_price": line["unit_price"],
            "total": f"{line_total(Decimal(line['unit_price']), Decimal(QUANTITY)):.2f}",
            "note": "",
        }
        for line in offer["lines"]
    ]
    return revision_payload(
        tender_number=tender_number,
        bidder_inn=s.inn,
        bidder_org_id=s.org_id,
        revision=revision,
        previous_hash=previous,
        lines=lines,
        criteria=[],
        documents=[],
    )


def random_offer(rnd: random.Random) -> dict:
    """Prices for 1-10 positions, fresh each time (so every revision is a triggering change)."""
    numbers = sorted(rnd.sample(range(1, POSITIONS + 1), rnd.randint(1, POSITIONS)))
    return {
        "lines": [
            {"position": str(p), "unit_price": f"{rnd.randint(10_000, 99_999) / 100:.2f}"}
            for p in numbers
        ],
        "criteria": [],
    }


# -- the real web processes --------------------------------------------------------------------


def exit_on_sigterm() -> None:
    """A terminated bench still runs its `finally` (stops the servers, drops the database)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def _die_with_parent() -> None:
    """In a child before exec (Linux): get SIGTERM when the bench process dies, even killed."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Servers:
    procs: list = field(default_factory=list)
    bases: list[str] = field(default_factory=list)
    logs: list = field(default_factory=list)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for log in self.logs:
            log.close()

    def tail(self, lines: int = 30) -> str:
        out = []
        for base, log in zip(self.bases, self.logs):
            log.flush()
            log.seek(0)
            out.append(f"--- {base}\n" + "".join(log.readlines()[-lines:]))
        return "\n".join(out)


def start_servers(
    count: int,
    db_url: str,
    workdir: str,
    servers: Servers,
    async_mode: str = "eventlet",
    **settings: str,
) -> None:
    """K serve.py processes (eventlet by default) on free ports, sharing the database, Redis (one
    Socket.IO channel) and the instance folder (one platform key); waits for /healthz.
    settings: more environment settings (e.g. JOBS_MODE="inprocess")."""
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": db_url,
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": "bench-secret",
        "SOCKETIO_ASYNC_MODE": async_mode,
        "SOCKETIO_CHANNEL": f"tenders-bench-{uuid.uuid4().hex[:8]}",
        "INSTANCE_PATH": str(Path(workdir) / "instance"),
        **settings,
    }
    for _ in range(count):
        port = free_port()
        log = open(Path(workdir) / f"server-{port}.log", "w+")  # noqa: SIM115
        servers.logs.append(log)
        servers.bases.append(f"http://127.0.0.1:{port}")
        servers.procs.append(
            subprocess.Popen(
                [sys.executable, str(ROOT / "serve.py"), "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        )
    deadline = time.monotonic() + 60
    for proc, base in zip(servers.procs, servers.bases):
        while True:
            try:
                if requests.get(base + "/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server {base} did not start:\n{servers.tail()}")
            time.sleep(0.2)


# -- the API load ----------------------------------------------------------------------------


@dataclass
class ClientResult:
    submit_ms: list[float] = field(default_factory=list)
    cycle_ms: list[float] = field(default_factory=list)
    errors: collections.Counter = field(default_factory=collections.Counter)
    acknowledged: list[str] = field(default_factory=list)
    late: int = 0  # with a rate: revisions due while the previous one was still on its way


class Client:
    """One supplier's keep-alive HTTP connection (urllib3, what requests is built on: the
    load generator shares the two cores with what it measures, so it should cost little)."""

    def __init__(self, base: str, headers: dict):
        url = urllib3.util.parse_url(base)
        self.pool = urllib3.HTTPConnectionPool(
            url.host, url.port, maxsize=1, timeout=60.0, retries=False
        )
        self.headers = {**headers, "Content-Type": "application/json"}

    def post(self, path: str, body: dict) -> urllib3.BaseHTTPResponse:
        return self.pool.request("POST", path, body=json.dumps(body), headers=self.headers)

    def close(self) -> None:
        self.pool.close()


def supplier_loop(
    base, s: Supplier, tender, seconds, start: threading.Barrier, out, own, count, rate=None
):
    """own: build the payload in the client (no prepare call); count: at most so many;
    rate: this supplier's revisions per second, at random moments (a Poisson process), else
    one right after the other. With a rate, a revision's time counts from the moment it was
    due, so one that waited for the supplier's previous revision to come back counts its wait
    too (no coordinated omission)."""
    tender_id, tender_number = tender
    rnd = random.Random(s.org_id + 1000 * s.revision)
    http = Client(base, s.headers)
    prepare_url = f"/api/v1/tenders/{tender_id}/bid/prepare"
    submit_url = f"/api/v1/tenders/{tender_id}/bid/revisions"
    start.wait()
    due = time.perf_counter()
    end = time.monotonic() + seconds
    while time.monotonic() < end and count > 0:
        count -= 1
        offer = random_offer(rnd)
        if rate is not None:
            due += rnd.expovariate(rate)
            if due - time.perf_counter() > end - time.monotonic():
                break  # due after the end of the load
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            else:
                out.late += 1
        t0 = time.perf_counter() if rate is None else due
        try:
            if own:
                payload = own_payload(tender_number, s, offer, s.revision, s.previous)
            else:
                prepared = http.post(prepare_url, offer)
                if prepared.status != 200:
                    out.errors[f"prepare {prepared.status}"] += 1
                    time.sleep(0.05)
                    continue
                payload = prepared.json()["payload"]
            body = {**offer, "key_id": s.key_id, "signature": sign_for(s, payload)}
            t1 = time.perf_counter()
            resp = http.post(submit_url, body)
            t2 = time.perf_counter()
        except urllib3.exceptions.HTTPError as exc:
            out.errors[f"exception {type(exc).__name__}"] += 1
            time.sleep(0.05)
            continue
        out.submit_ms.append((t2 - t1) * 1000)
        out.cycle_ms.append((t2 - t0) * 1000)
        if resp.status == 201:
            accepted = resp.json()
            out.acknowledged.append(accepted["payload_hash"])
            s.revision, s.previous = accepted["number"] + 1, accepted["payload_hash"]
        else:
            out.errors[f"submit {resp.status}"] += 1
            if len(out.errors) < 3:
                print(f"  submit {resp.status}: {resp.data[:200]!r}", flush=True)
    http.close()


def api_load(
    bases, suppliers, tender, seconds, own, count=10**9, rate=None
) -> tuple[ClientResult, float]:
    """rate: revisions per second offered by all the suppliers together (None: as fast as
    they are answered)."""
    results = [ClientResult() for _ in suppliers]
    barrier = threading.Barrier(len(suppliers) + 1)
    each = rate / len(suppliers) if rate else None
    threads = [
        threading.Thread(
            target=supplier_loop,
            args=(bases[i % len(bases)], s, tender, seconds, barrier, results[i], own, count),
            kwargs={"rate": each},
            daemon=True,
        )
        for i, s in enumerate(suppliers)
    ]
    for t in threads:
        t.start()
    barrier.wait()
    began = time.perf_counter()
    for t in threads:
        t.join(timeout=seconds + 120)
    elapsed = time.perf_counter() - began
    merged = ClientResult()
    for r in results:
        merged.submit_ms += r.submit_ms
        merged.cycle_ms += r.cycle_ms
        merged.errors.update(r.errors)
        merged.acknowledged += r.acknowledged
        merged.late += r.late
    return merged, elapsed


def stored_revisions(app, tender_id: int, acknowledged: list[str]) -> tuple[int, int, int, int]:
    """(rows in bid_revisions for the tender, acknowledged hashes missing from them, how many
    of the rows extended the deadline, how many were stored in one call: their audit event
    has the revision's own accepted_at, while the locked path's is taken a moment later)."""
    from core.extensions import db

    with app.app_context():
        rows = db.session.execute(
            text(
                "SELECT r.payload_hash, r.deadline_after > r.deadline_before,"
                " e.occurred_at = r.accepted_at FROM bid_revisions r"
                " JOIN bids b ON b.id = r.bid_id"
                " JOIN audit_events e ON e.chain = 'tender:' || b.tender_id"
                " AND e.action = 'bid.revision_accepted'"
                " AND e.payload->>'hash' = r.payload_hash"
                " WHERE b.tender_id = :t"
            ),
            {"t": tender_id},
        ).all()
        db.session.remove()
    hashes = {h for h, _, _ in rows}
    extended = sum(1 for _, ext, _ in rows if ext)
    return len(rows), len(set(acknowledged) - hashes), extended, sum(1 for r in rows if r[2])


# -- what the machine and the tender row lock were doing during the load ------------------------


class LockSampler(threading.Thread):
    """Samples pg_stat_activity of the bench database every `every` seconds: how many backends
    wait for a lock (the tender row), and what the transaction holding it is doing: running a
    statement in PostgreSQL, or 'idle in transaction' (waiting for the web process)."""

    QUERY = """
        WITH a AS (SELECT pid, state, wait_event_type, pg_blocking_pids(pid) AS blockers
                   FROM pg_stat_activity WHERE datname = current_database()
                   AND pid <> pg_backend_pid())
        SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'),
               (SELECT h.state FROM a h WHERE h.wait_event_type IS DISTINCT FROM 'Lock'
                AND h.pid IN (SELECT unnest(blockers) FROM a) LIMIT 1)
        FROM a"""

    def __init__(self, db_url: str, every: float = 0.02):
        super().__init__(daemon=True)
        self.dsn, self.every = db_url.replace("postgresql+psycopg2://", "postgresql://"), every
        self.stop_event = threading.Event()
        self.waiting: list[int] = []
        self.holder: collections.Counter = collections.Counter()

    def run(self) -> None:
        import psycopg2

        conn = psycopg2.connect(self.dsn)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                while not self.stop_event.wait(self.every):
                    cur.execute(self.QUERY)
                    waiting, state = cur.fetchone()
                    self.waiting.append(waiting)
                    self.holder[state or "no holder"] += 1
        except psycopg2.Error:
            pass  # the database went away: the bench is ending
        finally:
            conn.close()

    def summary(self) -> str:
        self.stop_event.set()
        self.join(timeout=5)
        n = len(self.waiting) or 1
        states = ", ".join(f"{state} {100 * c / n:.0f}%" for state, c in self.holder.most_common())
        waiting = statistics.fmean(self.waiting or [0])
        return (
            f"tender row lock ({len(self.waiting)} samples): {waiting:.1f} transactions waiting"
            f" on average; the holder was: {states}"
        )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and of its children that have ended (Linux
    /proc), 0 when unknown. With the children, a group of processes (PostgreSQL's backends
    and the postmaster that reaps them) sums to a total that only grows: a backend that ends
    during the load moves its time to the postmaster instead of out of the sum."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine so far (Linux /proc/stat)."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def postgres_pids() -> list[int]:
    """The PostgreSQL server processes on this machine (to meter the database's CPU too)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if stat.read_text().split("(", 1)[1].startswith("postgres)"):
                pids.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return pids


class CpuMeter:
    """CPU use of some processes (name -> pid, or a function giving pids) and of the whole
    machine between start() and report()."""

    def __init__(self, pids: dict):
        self.pids = pids

    def _cpu(self) -> dict[str, dict[int, float]]:
        out = {}
        for name, pid in self.pids.items():
            pids = pid() if callable(pid) else [pid]
            out[name] = {p: cpu_seconds(p) for p in pids}
        return out

    def start(self) -> CpuMeter:
        self.began = time.perf_counter()
        self.cpu = self._cpu()
        self.machine = machine_busy()
        return self

    def report(self) -> str:
        wall = time.perf_counter() - self.began
        now = self._cpu()
        parts = []
        for name, per_pid in now.items():
            used = sum(per_pid.values()) - sum(self.cpu[name].values())
            parts.append(f"{name} {100 * used / wall:.0f}%")
        busy, total = machine_busy()
        if total > self.machine[1]:
            share = (busy - self.machine[0]) / (total - self.machine[1])
            parts.append(f"whole machine {100 * share:.0f}% busy of {os.cpu_count()} cores")
        return "CPU during the load (100% = one core): " + ", ".join(parts)


# -- the raw PostgreSQL baseline ---------------------------------------------------------------

RAW_SCHEMA = """
CREATE TABLE raw_bids (id serial PRIMARY KEY, tender_id int NOT NULL,
    revision_count int NOT NULL DEFAULT 0, last_hash varchar(64), status varchar(16));
CREATE TABLE raw_revisions (id serial PRIMARY KEY, bid_id int NOT NULL REFERENCES raw_bids,
    number int NOT NULL, accepted_at timestamptz NOT NULL, signature text NOT NULL,
    payload_hash varchar(64) NOT NULL UNIQUE, previous_hash varchar(64),
    receipt_signature text NOT NULL, total numeric(18, 2) NOT NULL, UNIQUE (bid_id, number));
CREATE TABLE raw_lines (id serial PRIMARY KEY, revision_id int NOT NULL REFERENCES raw_revisions,
    position_number varchar(20) NOT NULL, unit_price numeric(18, 2) NOT NULL,
    total numeric(18, 2) NOT NULL, note varchar(1000) NOT NULL DEFAULT '');
CREATE INDEX ix_raw_lines_revision ON raw_lines (revision_id);
"""


def raw_loop(dsn, tender_id, seconds, start: threading.Barrier, out: list) -> None:
    import psycopg2

    rnd = random.Random()
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    cur.execute(
        "INSERT INTO raw_bids (tender_id, status) VALUES (%s, 'active') RETURNING id", [tender_id]
    )
    bid_id = cur.fetchone()[0]
    conn.commit()
    number, previous = 0, None
    start.wait()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.perf_counter()
        number += 1
        digest = uuid.uuid4().hex + uuid.uuid4().hex
        cur.execute("SELECT id, bid_deadline FROM tenders WHERE id = %s FOR UPDATE", [tender_id])
        cur.fetchone()
        cur.execute(
            "INSERT INTO raw_revisions (bid_id, number, accepted_at, signature, payload_hash,"
            " previous_hash, receipt_signature, total) VALUES (%s, %s, now(), %s, %s, %s, %s,"
            " %s) RETURNING id",
            [bid_id, number, "s" * 96, digest, previous, "r" * 96, 12345.67],
        )
        revision_id = cur.fetchone()[0]
        lines = [
            (revision_id, str(p), rnd.randint(10_000, 99_999) / 100, 1000)
            for p in range(1, rnd.randint(1, POSITIONS) + 1)
        ]
        cur.execute(
            "INSERT INTO raw_lines (revision_id, position_number, unit_price, total) VALUES "
            + ", ".join(["(%s, %s, %s, %s)"] * len(lines)),
            [v for line in lines for v in line],
        )
        cur.execute(
            "UPDATE raw_bids SET revision_count = %s, last_hash = %s, status = 'active'"
            " WHERE id = %s",
            [number, digest, bid_id],
        )
        conn.commit()
        previous = digest
        out.append((time.perf_counter() - t0) * 1000)
    conn.close()


def raw_baseline(db_url: str, tender_id: int, threads: int, seconds: float):
    dsn = db_url.replace("postgresql+psycopg2://", "postgresql://")
    engine = create_engine(db_url)
    with engine.begin() as c:
        c.exec_driver_sql(RAW_SCHEMA)
    engine.dispose()
    barrier = threading.Barrier(threads + 1)
    samples: list[list[float]] = [[] for _ in range(threads)]
    workers = [
        threading.Thread(
            target=raw_loop, args=(dsn, tender_id, seconds, barrier, samples[i]), daemon=True
        )
        for i in range(threads)
    ]
    for w in workers:
        w.start()
    barrier.wait()
    began = time.perf_counter()
    for w in workers:
        w.join(timeout=seconds + 60)
    elapsed = time.perf_counter() - began
    merged = [s for per in samples for s in per]
    return len(merged) / elapsed, merged


def connection_headroom() -> int:
    """Connection slots PostgreSQL has left (others share the server)."""
    admin = create_engine(ADMIN_URL)
    with admin.connect() as c:
        limit = int(c.execute(text("SHOW max_connections")).scalar_one())
        reserved = int(c.execute(text("SHOW superuser_reserved_connections")).scalar_one())
        used = c.execute(text("SELECT count(*) FROM pg_stat_activity")).scalar_one()
    admin.dispose()
    return limit - reserved - used


# -- main ----------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    """The command line (and, with --gost, the trust settings the servers inherit)."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=HelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]),
    )
    parser.add_argument("--suppliers", type=int, default=50, help="client threads")
    parser.add_argument("--processes", type=int, default=2, help="serve.py processes")
    parser.add_argument("--seconds", type=float, default=20, help="API load duration")
    parser.add_argument(
        "--in-window", action="store_true", help="every accepted revision extends the deadline"
    )
    parser.add_argument("--raw-seconds", type=float, default=10, help="raw baseline duration")
    parser.add_argument(
        "--raw-threads",
        type=int,
        default=None,
        help="raw baseline threads (None: as many as --suppliers)",
    )
    parser.add_argument(
        "--async-mode",
        choices=["eventlet", "threading"],
        default="eventlet",
        help="serve.py's SOCKETIO_ASYNC_MODE (threading: for comparison)",
    )
    parser.add_argument(
        "--client-payload",
        action="store_true",
        help="clients build the payload themselves (as an ERP does): submit calls only",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="revisions/s offered by all suppliers together, at random moments (open loop); "
        "default: each supplier submits again as soon as it is answered (closed loop)",
    )
    parser.add_argument(
        "--gost",
        type=int,
        default=0,
        metavar="N",
        help="suppliers sign with qualified GOST-256 certificates (CAdES-BES, checked with the "
        "chain and CRLs of tests/data/gost); N revisions per supplier are signed before the "
        "load (the supplier's work, not the platform's); 0: ECDSA P-256",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    os.environ.update(gost_settings(args))
    return args


def gost_settings(args) -> dict:
    """--gost: the test centre trusted (tests/data/gost), for this process and the servers."""
    if not args.gost:
        return {}
    return {
        "SIGNATURE_TRUSTED_CA_DIR": str(GOST_DIR / "ca"),
        "SIGNATURE_CRL_DIR": str(GOST_DIR / "crl"),
    }


def main() -> None:
    args = parse_args()
    exit_on_sigterm()

    workdir = tempfile.mkdtemp(prefix="tenders-bench-contention-")
    clear_redis()
    url = database_url(DB_NAME)
    admin = create_database(DB_NAME)
    servers = Servers()
    app = sampler = None
    try:
        start = time.perf_counter()
        app = migrated_app(url, str(Path(workdir) / "setup-instance"))
        app.config.update(gost_settings(args))  # the servers read them from the environment
        customer = make_people(app, 1, supplier=False, start=1)[0]
        now = dt.datetime.now(dt.UTC)
        if args.in_window:
            policy = {
                "extension_mode": "from_change",
                "extension_window_minutes": 30,
                "extension_minutes": 30,
            }
            tender = create_tender(app, customer, deadline=now + dt.timedelta(minutes=10), **policy)
        else:
            tender = create_tender(app, customer, deadline=now + dt.timedelta(days=30))
        tender_id = tender[0]
        keys = "gost" if args.gost else True
        suppliers = make_people(app, args.suppliers, supplier=True, start=1000, keys=keys)
        if args.gost:
            took = presign_gost(tender[1], suppliers, 1)
            print(f"GOST: {args.suppliers} certificates issued, first bids signed in {took:.1f} s")
        print(
            f"set up {args.suppliers} suppliers and tender {tender_id} "
            f"({'every change extends' if args.in_window else 'deadline far away'}) "
            f"in {time.perf_counter() - start:.1f} s"
        )
        start_servers(args.processes, url, workdir, servers, args.async_mode)
        print(
            f"started {args.processes} serve.py ({args.async_mode}, Redis):"
            f" {' '.join(servers.bases)}"
        )

        # Every supplier's first bid, all at once (a new participant takes the locked path:
        # its participant number is decided under the lock); then the timed revisions.
        first, elapsed = api_load(servers.bases, suppliers, tender, 60, args.client_payload, 1)
        print(
            f"first bids: {len(first.acknowledged)} new participants at once in {elapsed:.1f} s"
            f" (errors: {dict(first.errors) or 'none'})"
        )
        report("first bid's submit call", first.submit_ms)
        if args.gost:
            each = args.rate / args.suppliers if args.rate else None
            took = presign_gost(tender[1], suppliers, args.gost, each)
            print(f"GOST: {args.gost * args.suppliers} revisions signed ahead in {took:.1f} s")

        pids = {f"serve.py #{i + 1}": p.pid for i, p in enumerate(servers.procs)}
        meter = CpuMeter(
            {**pids, "clients (this process)": os.getpid(), "postgres": postgres_pids}
        ).start()
        sampler = LockSampler(url)
        sampler.start()
        result, elapsed = api_load(
            servers.bases, suppliers, tender, args.seconds, args.client_payload, rate=args.rate
        )
        lock_summary, cpu_summary = sampler.summary(), meter.report()
        accepted = len(result.acknowledged)
        print(
            f"API: {accepted} revisions (of existing bids) accepted in {elapsed:.1f} s by"
            f" {args.suppliers} clients"
            f" over {args.processes} processes = {accepted / elapsed:.1f} revisions/s"
        )
        report("submit call (HTTP round trip)", result.submit_ms)
        cycle = "build + sign + submit" if args.client_payload else "prepare + sign + submit"
        if args.rate:
            print(
                f"offered {args.rate:.0f} revisions/s at random moments; "
                f"{result.late} revisions were due before the supplier's previous one was answered"
            )
            cycle = "from the moment due to the answer"
        report(cycle, result.cycle_ms)
        print("errors by status:", dict(result.errors) or "none")
        print(cpu_summary)
        print(lock_summary)
        servers.stop()

        acknowledged = first.acknowledged + result.acknowledged
        stored, missing, extended, one_call = stored_revisions(app, tender_id, acknowledged)
        verdict = "OK" if stored == len(acknowledged) and not missing else "MISMATCH"
        print(
            f"check: {len(acknowledged)} acknowledged (201; first bids included), {stored} rows"
            " in bid_revisions for the"
            f" tender, {missing} acknowledged hashes missing -> {verdict};"
            f" {extended} revisions extended the deadline; {one_call} stored in one call"
            f" (bids/accept_pg.py), {stored - one_call} on the locked path"
        )
        dispose(app)

        threads = args.raw_threads or args.suppliers
        headroom = connection_headroom() - 5
        if threads > headroom:
            print(f"(raw baseline capped at {headroom} threads: PostgreSQL connection slots)")
            threads = max(1, headroom)
        raw_rate, raw_ms = raw_baseline(url, tender_id, threads, args.raw_seconds)
        print(
            f"baseline: raw psycopg2, same transaction shape, {threads} threads:"
            f" {raw_rate:.1f} tx/s"
        )
        report("baseline transaction", raw_ms)
        api_rate = accepted / elapsed
        # open loop: from the moment due (waits behind the supplier's previous one included)
        latencies = result.cycle_ms if args.rate else result.submit_ms
        p99 = percentile(latencies, 0.99) if latencies else float("nan")
        print(f"ratio: API revisions/s / raw tx/s = {api_rate / raw_rate:.3f}")
        if not args.rate:
            print(
                f"closed loop: {args.suppliers} suppliers always waiting on an answer at "
                f"{api_rate:.0f}/s wait {1000 * args.suppliers / api_rate:.0f} ms on average "
                f"(Little's law), so a p99 <= 250 ms needs well over "
                f"{args.suppliers / 0.25:.0f}/s; see --rate for the latency at a given load"
            )
        print(
            f"targets: >= 200 revisions/s -> {api_rate:.1f} "
            f"({'met' if api_rate >= 200 else 'NOT met'}); submit p99 <= 250 ms -> "
            f"{p99:.1f} ms ({'met' if p99 <= 250 else 'NOT met'})"
        )
    finally:
        if sampler is not None:
            sampler.stop_event.set()
        servers.stop()
        if app is not None:
            dispose(app)
        if not args.keep:
            drop_database(admin, DB_NAME)
            clear_redis()
        shutil.rmtree(workdir, ignore_errors=True)


def clear_redis() -> None:
    """Empty the bench's Redis database (see REDIS_URL)."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


if __name__ == "__main__":
    main()
