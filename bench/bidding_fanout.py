"""Benchmark: pushing deadline extensions live to many watchers of ONE tender.

Builds a throwaway database, a published tender closing in 10 minutes (extension mode
from_deadline, window 30 min, extension 1 min, so every triggering change extends), one
bidding supplier with a registered ECDSA P-256 key and --users watcher accounts. Starts K real
web processes (serve.py, eventlet, Redis message queue), logs each watcher in through the
login form and opens --watchers python-socketio connections (websocket transport, the session
cookie; a user may hold several, like browser tabs) spread round-robin over the web processes
and over --client-procs client processes (threads in each), each joining the tender with
`watch_tender`. Then the supplier submits --extensions signed revisions through the API,
--interval seconds apart; each extends the deadline and the server emits `deadline_extended`
to the tender's room (through Redis to every web process). For every receipt: the time from
the event's `server_time` (taken by the submitting transaction just before its writes, so it
includes the rest of the transaction and the commit) to the client's receipt; also from the
moment the submitter got its 201. Prints p50/p95/p99 over all receipts and how many watchers
got each event. Baseline measured in the same run: the round trip of one Socket.IO call
(`watch_tender` again) on the same idle connections, one at a time.

The clients handle each message in the connection's reader thread: python-socketio's threaded
client would start a new thread per message, which makes the clients the bottleneck (use
--thread-per-message to see that). The clients share the machine with the server: on 2 cores
their CPU use shows up in the figures (the CPU line says how much).

    .venv/bin/python bench/bidding_fanout.py [--watchers 500] [--users 100] [--processes 2]
        [--client-procs 4] [--extensions 20] [--interval 0.5] [--keep]
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import datetime as dt
import multiprocessing
import random
import re
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
from bidding_contention import (  # noqa: E402
    PASSWORD,
    CpuMeter,
    HelpFormatter,
    Servers,
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
    random_offer,
    report,
    sign,
    start_servers,
)

DB_NAME = "tenders_bench_fanout"
TARGET_P99_MS = 250


def raise_fd_limit(wanted: int) -> str:
    """Raise the soft open-files limit towards `wanted` (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
            soft = new
        except (ValueError, OSError):
            pass
    return f"open files: soft limit {soft}, hard {hard}"


# -- logging the watchers in -------------------------------------------------------------------


def login(base: str, email: str) -> tuple[str, str]:
    """Log in through the form; returns (Cookie header, User-Agent) for Socket.IO (Flask-Login's
    strong session protection ties the session to the User-Agent)."""
    http = requests.Session()
    page = http.get(base + "/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = http.post(
        base + "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=60,
    )
    if resp.status_code != 302:
        raise RuntimeError(f"login of {email} refused: {resp.status_code}")
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    return cookie, http.headers["User-Agent"]


def login_all(bases: list[str], emails: list[str]) -> list[tuple[str, str]]:
    # The first login alone: it creates the per-address throttle row the others then share.
    sessions = [login(bases[0], emails[0])]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        sessions += pool.map(
            lambda i: login(bases[i % len(bases)], emails[i]), range(1, len(emails))
        )
    return sessions


# -- the watcher processes -------------------------------------------------------------------


def handle_messages_inline(sio) -> None:
    """python-socketio's threaded client starts a new thread for every message it receives
    (engineio's _trigger_event('message', run_async=True)): with hundreds of connections in
    a process that costs about a millisecond of CPU per receipt and makes the clients, not the
    server, the bottleneck. Handle messages in the connection's reader thread instead, as a
    browser's event loop would (our handlers only append to a list)."""
    eio = sio.eio
    trigger = eio._trigger_event

    def inline(event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return trigger(event, *args, **kwargs)

    eio._trigger_event = inline


def watcher_process(conn, tender_id: int, plan: list[tuple[str, str, str]], inline: bool) -> None:
    """Runs in a client process: opens one Socket.IO connection per (base, cookie, agent),
    joins the tender, reports ready (with call round trips), records every deadline_extended
    receipt until told to stop, then sends the receipts back."""
    import socketio

    threading.stack_size(512 * 1024)  # two threads per connection
    clients: list = [None] * len(plan)
    receipts: list[list] = [[] for _ in plan]
    failures: collections.Counter = collections.Counter()

    def connect(i: int) -> None:
        base, cookie, agent = plan[i]
        sio = socketio.Client(reconnection=False)
        if inline:
            handle_messages_inline(sio)
        log = receipts[i]

        def on_extended(data):
            log.append((time.time(), data.get("extensions"), data.get("server_time")))

        sio.on("deadline_extended", on_extended)
        try:
            sio.connect(
                base,
                headers={"Cookie": cookie, "User-Agent": agent},
                transports=["websocket"],
                wait_timeout=30,
            )
            state = sio.call("watch_tender", {"tender_id": tender_id}, timeout=30)
            if not state.get("ok"):
                failures[f"watch refused: {state.get('error')}"] += 1
                sio.disconnect()
                return
            clients[i] = sio
        except Exception as exc:  # noqa: BLE001 - counted and reported, never fatal
            failures[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(connect, range(len(plan))))
    rtts = []
    for sio in clients:  # the baseline: one call at a time on idle connections
        if sio is None:
            continue
        start = time.perf_counter()
        try:
            sio.call("watch_tender", {"tender_id": tender_id}, timeout=30)
            rtts.append((time.perf_counter() - start) * 1000)
        except Exception:  # noqa: BLE001
            failures["baseline call failed"] += 1
    conn.send(("ready", sum(c is not None for c in clients), dict(failures), rtts))
    conn.recv()  # "stop"
    alive = [c.connected if c is not None else False for c in clients]
    conn.send(("receipts", receipts, alive))
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda c: c.disconnect() if c is not None else None, clients))
    conn.close()


# -- the extensions ----------------------------------------------------------------------------


def extend(base: str, bidder, tender_id: int, count: int, interval: float) -> dict[int, float]:
    """Submit `count` triggering revisions `interval` apart; returns extension number -> wall
    time the 201 arrived. Every refused submission is printed."""
    rnd = random.Random(7)
    http = requests.Session()
    http.headers.update(bidder.headers)
    answered: dict[int, float] = {}
    extensions = 0
    next_at = time.monotonic()
    for _ in range(count):
        time.sleep(max(0.0, next_at - time.monotonic()))
        next_at += interval
        offer = random_offer(rnd)
        prepared = http.post(
            f"{base}/api/v1/tenders/{tender_id}/bid/prepare", json=offer, timeout=60
        )
        if prepared.status_code != 200:
            print(f"  prepare refused: {prepared.status_code} {prepared.text[:200]}")
            continue
        body = {
            **offer,
            "key_id": bidder.key_id,
            "signature": sign(bidder.private_key, prepared.json()["payload"]),
        }
        resp = http.post(f"{base}/api/v1/tenders/{tender_id}/bid/revisions", json=body, timeout=60)
        arrived = time.time()
        if resp.status_code != 201:
            print(f"  submit refused: {resp.status_code} {resp.text[:200]}")
            continue
        if resp.json()["extended"]:
            extensions += 1
            answered[extensions] = arrived
        else:
            print("  a revision did not extend the deadline")
    http.close()
    return answered


def analyse(receipts_by_client: list[list], answered: dict[int, float], watchers: int) -> dict:
    """Latencies from each event's server_time (and from the submitter's 201) to receipt, per
    event and over all receipts; prints one line per event."""
    from_commit: list[float] = []
    from_answer: list[float] = []
    per_event: dict[int, list[float]] = collections.defaultdict(list)
    server_times: dict[int, float] = {}
    for receipts in receipts_by_client:
        for received, number, server_time in receipts:
            server_times[number] = dt.datetime.fromisoformat(server_time).timestamp()
            latency = (received - server_times[number]) * 1000
            from_commit.append(latency)
            per_event[number].append(latency)
            if number in answered:
                from_answer.append((received - answered[number]) * 1000)
    transaction = [(answered[n] - server_times[n]) * 1000 for n in answered if n in server_times]
    print("event  receivers  server_time->201  receipts first   p50      max")
    for number in sorted(set(per_event) | set(answered)):
        got = per_event.get(number, [])
        line = f"{number:5}  {len(got):4}/{watchers:<4}"
        if number in answered and number in server_times:
            line += f"  {(answered[number] - server_times[number]) * 1000:13.1f} ms"
        else:
            line += " " * 18
        if got:
            line += f"  {min(got):14.1f}  {percentile(got, 0.5):7.1f}  {max(got):7.1f} ms"
        print(line)
    return {
        "from_commit": from_commit,
        "from_answer": from_answer,
        "per_event": per_event,
        "transaction": transaction,
    }


# -- main ----------------------------------------------------------------------------------------


def setup(app, users: int, extensions: int):
    """The customer's tender (closing in 10 minutes; every change extends it by 1 minute, the
    window covering all the extensions), the bidder with a key, and the watcher accounts."""
    customer = make_people(app, 1, supplier=False, start=1)[0]
    bidder = make_people(app, 1, supplier=True, start=100, keys=True)[0]
    watchers = make_people(app, users, supplier=True, start=1000)
    tender_id, _number = create_tender(
        app,
        customer,
        deadline=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10),
        extension_mode="from_deadline",
        extension_window_minutes=max(30, 10 + extensions + 5),
        extension_minutes=1,
    )
    return bidder, watchers, tender_id


def start_watchers(plans: list[list], tender_id: int, children: list, inline: bool = True):
    """One client process per plan; waits until all are connected and watching."""
    ctx = multiprocessing.get_context("spawn")
    for plan in plans:
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=watcher_process, args=(child, tender_id, plan, inline), daemon=True
        )
        proc.start()
        children.append((proc, parent))
    connected, rtts, failures = 0, [], collections.Counter()
    for _, pipe in children:
        if not pipe.poll(300):
            raise RuntimeError("a watcher process did not get ready in 300 s")
        _, n, failed, samples = pipe.recv()
        connected += n
        rtts += samples
        failures.update(failed)
    return connected, rtts, failures


def collect(children: list) -> tuple[list, int]:
    receipts, alive = [], 0
    for _, pipe in children:
        pipe.send("stop")
        _, got, still = pipe.recv()
        receipts += got
        alive += sum(still)
    return receipts, alive


def summarize(result: dict, answered: dict, connected: int, rtts: list[float]) -> None:
    report("server_time -> receipt (all receipts)", result["from_commit"])
    report("submitter's 201 -> receipt", result["from_answer"])
    report("server_time -> submitter's 201 (the submit)", result["transaction"])
    complete = sum(1 for n in answered if len(result["per_event"].get(n, [])) == connected)
    print(
        f"receipts: {len(result['from_commit'])} of {connected * len(answered)} expected;"
        f" {complete} of {len(answered)} events reached every watcher"
    )
    if result["from_commit"] and rtts:
        p99 = percentile(result["from_commit"], 0.99)
        print(
            f"ratio: fan-out p99 / single call round trip p50 = {p99 / percentile(rtts, 0.5):.1f}x"
        )
        verdict = "met" if p99 <= TARGET_P99_MS else "NOT met"
        print(f"target: p99 <= {TARGET_P99_MS} ms -> {p99:.1f} ms ({verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=HelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]),
    )
    parser.add_argument("--watchers", type=int, default=500, help="Socket.IO connections")
    parser.add_argument("--users", type=int, default=100, help="watcher accounts (tabs each)")
    parser.add_argument("--processes", type=int, default=2, help="serve.py processes")
    parser.add_argument("--client-procs", type=int, default=4, help="watcher client processes")
    parser.add_argument("--extensions", type=int, default=20, help="deadline extensions")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between them")
    parser.add_argument("--settle", type=float, default=3.0, help="wait for late receipts")
    parser.add_argument(
        "--thread-per-message",
        action="store_true",
        help="python-socketio's stock client: a new thread per received message, instead of"
        " handling messages in each connection's reader thread",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    exit_on_sigterm()
    users = max(1, min(args.users, args.watchers))
    print(raise_fd_limit(args.watchers * 3 + 1024))

    workdir = tempfile.mkdtemp(prefix="tenders-bench-fanout-")
    url = database_url(DB_NAME)
    admin = create_database(DB_NAME)
    servers = Servers()
    app = None
    children: list = []
    collected = False  # once the receipts are in, the watchers disconnect on their own
    try:
        start = time.perf_counter()
        app = migrated_app(url, str(Path(workdir) / "setup-instance"))
        bidder, watchers, tender_id = setup(app, users, args.extensions)
        print(
            f"set up tender {tender_id} and {users} watcher accounts in "
            f"{time.perf_counter() - start:.1f} s"
        )
        start_servers(args.processes, url, workdir, servers)
        print(f"started {args.processes} serve.py (eventlet, Redis): {' '.join(servers.bases)}")

        start = time.perf_counter()
        sessions = login_all(servers.bases, [w.email for w in watchers])
        print(f"logged {users} users in through the form in {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        plans: list[list] = [[] for _ in range(max(1, args.client_procs))]
        for i in range(args.watchers):
            cookie, agent = sessions[i % users]
            plans[i % len(plans)].append((servers.bases[i % len(servers.bases)], cookie, agent))
        connected, rtts, failures = start_watchers(
            plans, tender_id, children, inline=not args.thread_per_message
        )
        print(
            f"{connected}/{args.watchers} watchers connected and watching in "
            f"{time.perf_counter() - start:.1f} s"
            + (f"; failures: {dict(failures)}" if failures else "")
        )
        report("baseline: one Socket.IO call round trip", rtts)

        pids = {f"serve.py #{i + 1}": p.pid for i, p in enumerate(servers.procs)}
        pids.update({f"watchers #{i + 1}": p.pid for i, (p, _) in enumerate(children)})
        meter = CpuMeter({**pids, "postgres": postgres_pids}).start()
        answered = extend(servers.bases[0], bidder, tender_id, args.extensions, args.interval)
        time.sleep(args.settle)
        cpu = meter.report()
        receipts, alive = collect(children)
        collected = True
        print(f"{len(answered)} extensions acknowledged; {alive} connections still open")
        result = analyse(receipts, answered, connected)
        print(cpu)
        summarize(result, answered, connected, rtts)
    finally:
        for proc, pipe in children:
            proc.join(timeout=10 if collected else 0.1)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
            pipe.close()
        servers.stop()
        if app is not None:
            dispose(app)
        if not args.keep:
            drop_database(admin, DB_NAME)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
