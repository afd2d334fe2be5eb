"""End-to-end fixtures: a real web process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port

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
    }


@pytest.fixture()
def server(request, app, database_url, redis_url, smtp_server, workdir):
    """A real web process (serve.py) on a free port; yields (base_url, env). The parameter is
    the async mode, or (async mode, extra environment)."""
    async_mode, extra = request.param if isinstance(request.param, tuple) else (request.param, {})
    env = _env(
        database_url,
        redis_url,
        smtp_server.port,
        workdir,
        async_mode,
        f"tenders-test-{uuid.uuid4().hex[:8]}",
    )
    env.update(extra)
    port = free_port()
    log = open(workdir / f"server-{port}.log", "w+")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "serve.py"), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(base + "/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"server did not start ({async_mode}):\n{log.read()}")
            time.sleep(0.2)
        yield base, env
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
