"""End-to-end fixtures: a real web process."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port, worker

ROOT = Path(__file__).resolve().parents[2]


def _env(database_url, redis_url, smtp_port, workdir, async_mode, channel) -> dict:
    return {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "live-test-secret",
        "SOCKETIO_ASYNC_MODE": async_mode,
        "SOCKETIO_CHANNEL": channel,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "INSTANCE_PATH": str(workdir / "live-instance"),
        # English source texts by default; Russian tests pass {"BABEL_DEFAULT_LOCALE": "ru"}
        "BABEL_DEFAULT_LOCALE": "en",
    }


_SERVER_LOGS: dict[Path, str] = {}  # the log of each running web process -> its label


@pytest.fixture(autouse=True)
def _server_logs():
    """What the web processes logged during a test, printed after it (pytest shows it with a
    failure: a 500, a failed job or a live push Redis did not take is then named, not only
    the timeout it caused in the test)."""
    before = {path: path.stat().st_size for path in _SERVER_LOGS if path.exists()}
    yield
    for path, label in list(_SERVER_LOGS.items()):
        if not path.exists():
            continue
        with open(path, errors="replace") as log:
            log.seek(before.get(path, 0))
            text = log.read()
        if text.strip():
            print(f"--- what server {label} logged during the test ---\n{text[-20000:]}")


@contextlib.contextmanager
def serving(env: dict, workdir: Path, label: str = ""):
    """A serve.py process with this environment on a free port; yields its base URL."""
    port = free_port()
    path = workdir / f"server-{port}.log"
    log = open(path, "w+")  # noqa: SIM115
    _SERVER_LOGS[path] = f"{label} on port {port}"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "serve.py"), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # a busy machine (other test runs) is slow
        while True:
            try:
                if requests.get(base + "/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"server did not start ({label}):\n{log.read()}")
            time.sleep(0.2)
        yield base
    finally:
        _SERVER_LOGS.pop(path, None)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.seek(0)
        output = log.read()
        log.close()
        if "Traceback" in output:  # shown with a failing test's captured output
            print(f"--- server log ({label}) ---\n{output[-20000:]}")


@pytest.fixture(scope="session", autouse=True)
def _shared_chromium():
    """Close the run's shared Chromium (tests/e2e/browser.py) at the end."""
    yield
    from tests.e2e.browser import _Shared

    _Shared.stop()


@pytest.fixture(scope="session")
def server(request, app, database_url, redis_url, smtp_server, workdir):
    """A real web process (serve.py) on a free port; yields (base_url, env). The parameter is
    the async mode ("eventlet", as in production, or "threading"), or a dict of the async
    mode under "mode" and further environment settings (e.g. {"JOBS_MODE": "inprocess"}).

    One process serves every test with the same parameter (starting one takes seconds;
    pytest orders the tests by parameter): each test makes its own tenders and people, and
    the rows of the one before are gone (_forget_committed_rows). A module whose tests need
    a fresh process each (or a function-scoped service) overrides it with
    `yield from serve_param(...)`."""
    yield from serve_param(request, database_url, redis_url, smtp_server, workdir)


def serve_param(request, database_url, redis_url, smtp_server, workdir):
    """The `server` fixture's body: a web process for request.param (see there)."""
    settings = request.param if isinstance(request.param, dict) else {"mode": request.param}
    extra = {k: v for k, v in settings.items() if k != "mode"}
    async_mode = settings["mode"]
    env = (
        _env(
            database_url,
            redis_url,
            smtp_server.port,
            workdir,
            async_mode,
            f"tenders-test-{uuid.uuid4().hex[:8]}",
        )
        | extra
    )
    with serving(env, workdir, async_mode) as base:
        yield base, env


@pytest.fixture(scope="session")
def second_server(server, workdir):
    """Another web process on the same database and Socket.IO channel as `server`."""
    _, env = server
    with serving(env, workdir, "second") as base:
        yield base


PRIVATE_REDIS_PORTS = range(16390, 16400)  # this suite's own redis-server instances


class PrivateRedis:
    """A redis-server of the test's own, which the test may stop and start again."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = self._free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    @staticmethod
    def _free_port() -> int:
        index, count = worker()  # each pytest-xdist worker probes its own share
        for port in PRIVATE_REDIS_PORTS[index::count]:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) != 0:
                    return port
        pytest.fail(f"no free port for redis-server in {PRIVATE_REDIS_PORTS}")

    def start(self) -> None:
        """Start it (again) on its port, and wait until it answers."""
        import redis

        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis(port=self.port).ping():
                    return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop it; its clients lose their connections."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture()
def private_redis(workdir):
    """A redis-server on a port of this suite's own (16390-16399)."""
    instance = PrivateRedis(workdir)
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture()
def gost_trust(app):
    """The GOST test certification centre and its CRLs (tests/data/gost), as the operator
    configures them, for the in-process app."""
    from tests.gost_helpers import CA_DIR, CRL_DIR

    saved = {k: app.config.get(k) for k in ("SIGNATURE_TRUSTED_CA_DIR", "SIGNATURE_CRL_DIR")}
    app.config.update(SIGNATURE_TRUSTED_CA_DIR=str(CA_DIR), SIGNATURE_CRL_DIR=str(CRL_DIR))
    yield
    app.config.update(saved)
