"""Benchmark: slow HTTP clients (slowloris) against one web process.

Starts one serve.py (eventlet) on a throwaway database with WEB_MAX_CONNECTIONS=--limit and
WEB_HEADER_TIMEOUT=--header-timeout, opens --slow connections that each send half a request
head and then nothing, and meanwhile asks /healthz on a new connection every --interval
seconds. Prints what the slow clients got (503 at once past the limit, or cut after the head
timeout, and when), and /healthz's answers and latency while they held their connections.

    .venv/bin/python bench/slow_clients.py [--slow 600] [--limit 5000] [--header-timeout 20]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bidding_contention import (  # noqa: E402
    HelpFormatter,
    Servers,
    clear_redis,
    create_database,
    database_url,
    dispose,
    drop_database,
    exit_on_sigterm,
    migrated_app,
    report,
    start_servers,
)
from bidding_fanout import raise_fd_limit  # noqa: E402

DB_NAME = "tenders_bench_slow_clients"


async def slow_client(host, port, began, args, out: list) -> None:
    """Half a request head, then silence; records (what came back, seconds until then)."""
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Slow: ")
        await writer.drain()
        answer = await reader.read(65536)
        if answer.startswith(b"HTTP/1.1 503"):
            kind = "503"
        elif answer:
            kind = "other"
        else:  # closed without an answer: by the head timeout, or past the refusals
            kind = "cut" if time.monotonic() - began >= args.header_timeout / 2 else "closed"
        writer.close()
    except (ConnectionError, OSError) as exc:
        kind = type(exc).__name__
    out.append((kind, time.monotonic() - began))


async def health(host, port) -> tuple[str, float]:
    """GET /healthz on a new connection: (status or error, milliseconds)."""
    start = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(), 30)
        writer.close()
        status = answer.split(b" ", 2)[1].decode() if answer else "closed"
    except (ConnectionError, OSError, TimeoutError) as exc:
        status = type(exc).__name__
    return status, (time.perf_counter() - start) * 1000


async def attack(base: str, args) -> None:
    url = urlparse(base)
    began = time.monotonic()
    results: list = []
    slow = [
        asyncio.create_task(slow_client(url.hostname, url.port, began, args, results))
        for _ in range(args.slow)
    ]
    probes: dict[str, list[float]] = collections.defaultdict(list)
    while not all(t.done() for t in slow):
        status, ms = await health(url.hostname, url.port)
        probes[status].append(ms)
        await asyncio.sleep(args.interval)
    await asyncio.gather(*slow)
    kinds = collections.Counter(kind for kind, _ in results)
    print(f"{args.slow} slow clients: {dict(kinds)}")
    for kind in sorted(kinds):
        report(
            f"slow clients answered '{kind}' after (ms)",
            [s * 1000 for k, s in results if k == kind],
        )
    for status, samples in sorted(probes.items()):
        report(f"/healthz {status} (meanwhile)", samples)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=HelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]),
    )
    parser.add_argument("--slow", type=int, default=600, help="slow connections")
    parser.add_argument("--limit", type=int, default=5000, help="WEB_MAX_CONNECTIONS")
    parser.add_argument("--header-timeout", type=int, default=20, help="WEB_HEADER_TIMEOUT")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between probes")
    args = parser.parse_args()
    exit_on_sigterm()
    print(raise_fd_limit(args.slow + 1024))
    os.environ["WEB_MAX_CONNECTIONS"] = str(args.limit)
    os.environ["WEB_HEADER_TIMEOUT"] = str(args.header_timeout)
    workdir = tempfile.mkdtemp(prefix="tenders-bench-slow-")
    url = database_url(DB_NAME)
    admin = create_database(DB_NAME)
    servers = Servers()
    app = None
    try:
        app = migrated_app(url, str(Path(workdir) / "setup-instance"))
        start_servers(1, url, workdir, servers)
        print(f"serve.py (eventlet) at {servers.bases[0]}: {servers.tail(3).splitlines()[-1]}")
        asyncio.run(attack(servers.bases[0], args))
    finally:
        servers.stop()
        if app is not None:
            dispose(app)
        drop_database(admin, DB_NAME)
        clear_redis()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
