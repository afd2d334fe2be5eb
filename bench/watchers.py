"""Benchmark: thousands of Socket.IO watchers on the web processes while bidding goes on.

Builds a throwaway database with a published tender (extension mode from_deadline, window
24 h, extension 1 min: every revision extends the deadline, so every revision is pushed as
`deadline_extended` to everyone watching), --bidders suppliers with ECDSA keys and --users
watcher accounts, starts --processes real web processes (serve.py, eventlet, Redis message
queue on a channel of its own) and logs the watchers in through the login form.

Two rounds under the same bidding load (--rate signed revisions per second from the bidders
together, for --seconds, through the API): first --baseline watchers, then --watchers. The
watchers are raw Engine.IO/Socket.IO clients over websocket (asyncio + wsproto, a few
thousand per client process: python-socketio's threaded client needs two threads per
connection), spread round-robin over the web processes, each joining the tender with
`watch_tender`. Each round counts, for every extension, how many watchers received it
(every watcher must receive every one), the push latency (the event's server_time to
receipt), the submit latency, and /healthz of every web process, polled on a new connection
every --health-interval seconds throughout, connecting included. Prints the figures of both
rounds and their ratio, the CPU use, and the web processes' memory per watcher.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/watchers.py
        [--watchers 5000] [--baseline 10] [--processes 2] [--client-procs 4]
        [--bidders 5] [--rate 1] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import json
import multiprocessing
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
from bidding_contention import (  # noqa: E402
    CpuMeter,
    HelpFormatter,
    Servers,
    api_load,
    clear_redis,
    cpu_seconds,
    create_database,
    create_tender,
    database_url,
    dispose,
    drop_database,
    exit_on_sigterm,
    make_people,
    migrated_app,
    percentile,
    postgres_pids,
    report,
    start_servers,
)
from bidding_fanout import login_all, raise_fd_limit  # noqa: E402

DB_NAME = "tenders_bench_watchers"


# -- one watcher: Engine.IO v4 / Socket.IO v5 over a websocket ----------------------------------


class Watcher:
    """A browser tab watching the tender: connects, joins, answers pings, logs pushes."""

    def __init__(self, base: str, cookie: str, agent: str, tender_id: int):
        url = urlparse(base)
        self.host, self.port = url.hostname, url.port
        self.cookie, self.agent, self.tender_id = cookie, agent, tender_id
        self.received: dict[int, float] = {}  # extension number -> latency from server_time, ms
        self.joined = asyncio.Event()
        self.error: str | None = None

    async def run(self) -> None:
        """Connect and keep the connection until cancelled; errors end up in self.error."""
        from wsproto import ConnectionType, WSConnection
        from wsproto.events import Request

        try:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.ws = WSConnection(ConnectionType.CLIENT)
            self._send(
                Request(
                    host=f"{self.host}:{self.port}",
                    target="/socket.io/?EIO=4&transport=websocket",
                    extra_headers=[
                        (b"cookie", self.cookie.encode()),
                        (b"user-agent", self.agent.encode()),
                    ],
                )
            )
            await self._read_loop()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - counted and reported, never fatal
            self.error = f"{type(exc).__name__}: {str(exc)[:60]}"
        finally:
            self.joined.set()
        if self.error is None:
            self.error = "connection closed"

    def _send(self, event) -> None:
        self.writer.write(self.ws.send(event))

    def _text(self, text: str) -> None:
        from wsproto.events import Message

        self._send(Message(data=text))

    async def _read_loop(self) -> None:
        from wsproto.events import (
            AcceptConnection,
            CloseConnection,
            Ping,
            RejectConnection,
            TextMessage,
        )

        partial = []
        while data := await self.reader.read(65536):
            self.ws.receive_data(data)
            for event in self.ws.events():
                if isinstance(event, AcceptConnection):
                    continue
                if isinstance(event, RejectConnection | CloseConnection):
                    raise ConnectionError(f"websocket refused or closed: {event}")
                if isinstance(event, Ping):
                    self._send(event.response())
                elif isinstance(event, TextMessage):
                    partial.append(event.data)
                    if event.message_finished:
                        self._packet("".join(partial))
                        partial = []
            await self.writer.drain()

    def _packet(self, packet: str) -> None:
        kind = packet[:1]
        if kind == "0":  # Engine.IO open: connect to the default namespace
            self._text("40")
        elif kind == "2":  # ping
            self._text("3")
        elif packet.startswith("40"):  # namespace connected: join the tender (ack id 1)
            self._text("421" + json.dumps(["watch_tender", {"tender_id": self.tender_id}]))
        elif packet.startswith("431"):
            answer = json.loads(packet[3:])[0]
            if not answer.get("ok"):
                raise ConnectionError(f"watch refused: {answer.get('error')}")
            self.joined.set()
        elif packet.startswith("42"):
            name, data = json.loads(packet[2:])[:2]
            if name == "deadline_extended":
                sent = dt.datetime.fromisoformat(data["server_time"]).timestamp()
                self.received[data["extensions"]] = (time.time() - sent) * 1000
        elif packet.startswith("44"):
            raise ConnectionError(f"connect refused: {packet[2:80]}")


async def _watch(conn, plan, tender_id: int, concurrency: int, join_timeout: float) -> None:
    watchers = [Watcher(base, cookie, agent, tender_id) for base, cookie, agent in plan]
    gate = asyncio.Semaphore(concurrency)
    tasks = []

    async def start(w: Watcher) -> None:
        async with gate:  # at most so many handshakes under way at once
            tasks.append(asyncio.create_task(w.run()))
            try:
                await asyncio.wait_for(w.joined.wait(), join_timeout)
            except TimeoutError:
                w.error = w.error or f"not joined in {join_timeout:.0f} s"

    await asyncio.gather(*(start(w) for w in watchers))
    failures = collections.Counter(w.error for w in watchers if w.error)
    conn.send(("ready", sum(w.error is None for w in watchers), dict(failures)))
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "stop"
    alive = sum(w.error is None for w in watchers)
    conn.send(("receipts", [w.received for w in watchers if w.error is None], alive))
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def watcher_process(conn, plan, tender_id: int, concurrency: int, join_timeout: float) -> None:
    """A client process: its watchers connect and join, then it reports ready, and sends
    their receipts when told to stop."""
    raise_fd_limit(len(plan) + 256)
    asyncio.run(_watch(conn, plan, tender_id, concurrency, join_timeout))
    conn.close()


# -- /healthz throughout -----------------------------------------------------------------------


class HealthProbe(threading.Thread):
    """GET /healthz on every web process, on a new connection (as a load balancer's probe),
    every `interval` seconds; latencies and failures per round."""

    def __init__(self, bases: list[str], interval: float):
        super().__init__(daemon=True)
        self.bases, self.interval = bases, interval
        self.samples: list[float] = []
        self.failures: collections.Counter = collections.Counter()
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            for base in self.bases:
                start = time.perf_counter()
                try:
                    resp = requests.get(base + "/healthz", timeout=10)
                    if resp.status_code == 200:
                        self.samples.append((time.perf_counter() - start) * 1000)
                    else:
                        self.failures[f"status {resp.status_code}"] += 1
                except requests.RequestException as exc:
                    self.failures[type(exc).__name__] += 1

    def take(self) -> tuple[list[float], collections.Counter]:
        """The samples so far (and start afresh)."""
        samples, failures = self.samples, self.failures
        self.samples, self.failures = [], collections.Counter()
        return samples, failures


# -- a round -----------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux /proc), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def extensions_so_far(app, tender_id: int) -> int:
    from core.extensions import db
    from tenders.models import Tender

    with app.app_context():
        count = db.session.get(Tender, tender_id).extensions_count
        db.session.remove()
        return count


def connect(count, args, sessions, bases, tender_id, children):
    """Start the client processes of `count` watchers; waits until all joined (or failed)."""
    ctx = multiprocessing.get_context("spawn")
    plans: list[list] = [[] for _ in range(max(1, min(args.client_procs, count)))]
    for i in range(count):
        cookie, agent = sessions[i % len(sessions)]
        plans[i % len(plans)].append((bases[i % len(bases)], cookie, agent))
    for plan in plans:
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=watcher_process,
            args=(child, plan, tender_id, args.concurrency, args.join_timeout),
            daemon=True,
        )
        proc.start()
        children.append((proc, parent))
    joined, failures = 0, collections.Counter()
    for _, pipe in children:
        if not pipe.poll(600):
            raise RuntimeError("a watcher process did not get ready in 600 s")
        _, n, failed = pipe.recv()
        joined += n
        failures.update(failed)
    return joined, failures


def collect(children: list) -> tuple[list[dict], int]:
    receipts, alive = [], 0
    for proc, pipe in children:
        pipe.send("stop")
        _, got, still = pipe.recv()
        receipts += got
        alive += still
        proc.join(timeout=30)
        if proc.is_alive():
            proc.terminate()
    children.clear()
    return receipts, alive


def run_round(name, count, args, ctx) -> dict:
    """Connect `count` watchers, bid for args.seconds, count what every watcher received."""
    app, servers, sessions, tender, bidders, probe = ctx
    print(f"\n== {name}: {count} watchers over {len(servers.bases)} web processes")
    rss_before = [rss_mb(p.pid) for p in servers.procs]
    probe.take()
    children: list = []
    start = time.perf_counter()
    try:
        joined, failures = connect(count, args, sessions, servers.bases, tender[0], children)
        took = time.perf_counter() - start
        print(
            f"{joined}/{count} watchers joined in {took:.1f} s"
            + (f"; failures: {dict(failures)}" if failures else "")
        )
        health_connect, failed_connect = probe.take()
        report("/healthz while connecting", health_connect)
        rss = [rss_mb(p.pid) for p in servers.procs]
        first = extensions_so_far(app, tender[0])
        pids = {f"serve.py #{i + 1}": p.pid for i, p in enumerate(servers.procs)}
        pids.update({f"watchers #{i + 1}": p.pid for i, (p, _) in enumerate(children)})
        meter = CpuMeter({**pids, "postgres": postgres_pids}).start()
        serve_cpu = sum(cpu_seconds(p.pid) for p in servers.procs)
        load, elapsed = api_load(
            servers.bases, bidders, tender, args.seconds, own=True, rate=args.rate
        )
        time.sleep(args.settle)
        cpu = meter.report()
        serve_cpu = sum(cpu_seconds(p.pid) for p in servers.procs) - serve_cpu
        last = extensions_so_far(app, tender[0])
        health, failed = probe.take()
        receipts, alive = collect(children)
    finally:
        for proc, pipe in children:
            proc.terminate()
            pipe.close()
    expected = set(range(first + 1, last + 1))
    got = [len(expected & r.keys()) for r in receipts]
    latencies = [ms for r in receipts for n, ms in r.items() if n in expected]
    complete = sum(1 for n in expected if sum(n in r for r in receipts) == joined)
    print(
        f"bidding: {len(load.acknowledged)} revisions accepted in {elapsed:.1f} s, "
        f"{len(expected)} extensions pushed; errors {dict(load.errors) or 'none'}"
    )
    print(
        f"receipts: {sum(got)} of {len(expected) * joined} expected "
        f"({joined} watchers x {len(expected)} extensions); {complete} of {len(expected)} "
        f"extensions reached every watcher; {alive} watchers still connected at the end"
    )
    report("push: server_time -> receipt", latencies)
    report("submit (bidding)", load.submit_ms)
    report("/healthz during bidding", health)
    print(
        f"/healthz failures: connecting {dict(failed_connect) or 'none'}, "
        f"bidding {dict(failed) or 'none'}"
    )
    per = [
        (after - before) * 1024 / max(1, joined / len(rss))
        for before, after in zip(rss_before, rss)
    ]
    print(
        "web processes' memory: "
        + ", ".join(f"{m:.0f} MB" for m in rss)
        + f" (+{sum(per) / len(per):.0f} KB per watcher)"
    )
    print(cpu)
    if latencies:
        print(
            f"web processes' CPU per 1,000 receipts (bidding included): "
            f"{serve_cpu * 1000 / len(latencies) * 1000:.0f} ms"
        )
    return {
        "joined": joined,
        "complete": complete == len(expected) and joined == count,
        "push": latencies,
        "submit": load.submit_ms,
        "health": health,
    }


def log_problems(servers: Servers) -> None:
    """What the web processes logged as errors (the exception line of each traceback)."""
    found: collections.Counter = collections.Counter()
    for log in servers.logs:
        log.flush()
        log.seek(0)
        lines = log.read().splitlines()
        for i, line in enumerate(lines):
            if line.startswith("Traceback"):
                j = i + 1
                while j < len(lines) and lines[j].startswith((" ", "\t")):
                    j += 1
                found[lines[j][:120] if j < len(lines) else "?"] += 1
            elif "WARNING" in line or "ERROR" in line:
                found[line[:120]] += 1
    print("web processes' errors and warnings: " + (str(dict(found.most_common(5))) or "none"))


def ratios(base: dict, big: dict) -> None:
    print("\n== ratio (watchers round / baseline round)")
    for key, label in (
        ("push", "push latency"),
        ("submit", "submit"),
        ("health", "/healthz bidding"),
    ):
        if base[key] and big[key]:
            p50 = percentile(big[key], 0.5) / max(0.001, percentile(base[key], 0.5))
            p99 = percentile(big[key], 0.99) / max(0.001, percentile(base[key], 0.99))
            print(f"{label:16} p50 x{p50:.1f}   p99 x{p99:.1f}")
    print(
        "every watcher received every extension: "
        + ("yes" if base["complete"] and big["complete"] else "NO")
    )


def setup(app, args):
    customer = make_people(app, 1, supplier=False, start=1)[0]
    bidders = make_people(app, args.bidders, supplier=True, start=100, keys=True)
    watchers = make_people(app, args.users, supplier=True, start=1000)
    tender = create_tender(
        app,
        customer,
        deadline=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30),
        extension_mode="from_deadline",
        extension_window_minutes=24 * 60,
        extension_minutes=1,
    )
    return tender, bidders, watchers


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=HelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]),
    )
    parser.add_argument("--watchers", type=int, default=5000, help="watchers, second round")
    parser.add_argument("--baseline", type=int, default=10, help="watchers, first round")
    parser.add_argument("--users", type=int, default=100, help="watcher accounts (tabs each)")
    parser.add_argument("--processes", type=int, default=2, help="serve.py processes")
    parser.add_argument("--client-procs", type=int, default=4, help="watcher client processes")
    parser.add_argument("--concurrency", type=int, default=25, help="handshakes per client")
    parser.add_argument("--join-timeout", type=float, default=300, help="seconds per watcher")
    parser.add_argument("--bidders", type=int, default=5, help="bidding suppliers")
    parser.add_argument("--rate", type=float, default=1.0, help="revisions per second, total")
    parser.add_argument("--seconds", type=float, default=30.0, help="bidding per round")
    parser.add_argument("--settle", type=float, default=5.0, help="wait for late receipts")
    parser.add_argument("--health-interval", type=float, default=0.5, help="seconds")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    exit_on_sigterm()
    print(raise_fd_limit(args.watchers + 4096))  # the web processes inherit it, then raise it
    workdir = tempfile.mkdtemp(prefix="tenders-bench-watchers-")
    url = database_url(DB_NAME)
    admin = create_database(DB_NAME)
    clear_redis()
    servers = Servers()
    app = None
    probe = None
    try:
        app = migrated_app(url, str(Path(workdir) / "setup-instance"))
        tender, bidders, watchers = setup(app, args)
        start_servers(args.processes, url, workdir, servers)
        print(f"started {args.processes} serve.py (eventlet, Redis): {' '.join(servers.bases)}")
        sessions = login_all(servers.bases, [w.email for w in watchers])
        probe = HealthProbe(servers.bases, args.health_interval)
        probe.start()
        ctx = (app, servers, sessions, tender, bidders, probe)
        base = run_round("baseline", args.baseline, args, ctx)
        big = run_round("watchers", args.watchers, args, ctx)
        ratios(base, big)
        log_problems(servers)
    finally:
        if probe is not None:
            probe.stopped.set()
        servers.stop()
        if app is not None:
            dispose(app)
        if not args.keep:
            drop_database(admin, DB_NAME)
            clear_redis()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
