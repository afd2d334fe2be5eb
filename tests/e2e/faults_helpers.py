"""Fault tests' tools: a redis-server of the test's own (stopped, restarted, paused), job
processes (`flask jobs worker/scheduler`) and waiting for a condition with a deadline."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis

from tests.conftest import worker

ROOT = Path(__file__).resolve().parents[2]
# Ports reserved for these tests (never the shared Redis on 6379).
PORTS = range(16380, 16390)


def _free_port_in_range() -> int:
    index, count = worker()  # each pytest-xdist worker probes its own share of the ports
    for port in PORTS[index::count]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail(f"no free port in {PORTS.start}-{PORTS.stop - 1} for a private redis-server")


class OwnRedis:
    """A redis-server on a port of its own, without persistence: stopping it loses its data,
    as an outage of an unpersisted Redis would."""

    def __init__(self, workdir: Path):
        self.port = _free_port_in_range()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        """Start (or start again) and wait until it answers."""
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = Redis(port=self.port, socket_connect_timeout=1, socket_timeout=1)
        wait_for(lambda: _pings(client), 20, "redis-server to answer")
        client.close()

    def stop(self) -> None:
        """Stop it (its data is gone)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def pause(self) -> None:
        """Freeze it: connections stay open, nothing is answered (a hung Redis)."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused Redis answer again."""
        self.proc.send_signal(signal.SIGCONT)

    def client(self) -> Redis:
        """A client of this Redis."""
        return Redis(port=self.port, socket_connect_timeout=2, socket_timeout=5)


def _pings(client: Redis) -> bool:
    try:
        return bool(client.ping())
    except Exception:  # noqa: BLE001 - not up yet
        return False


def wait_for(condition, timeout: float, what: str, interval: float = 0.2, logs=()):
    """Poll `condition` until it is truthy (returned) or fail after `timeout` seconds, showing
    the output of the given JobProcesses."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            shown = "\n".join(f"--- {p.log_path.name}\n{p.output()[-4000:]}" for p in logs)
            pytest.fail(f"timed out after {timeout} s waiting for {what}\n{shown}")
        time.sleep(interval)


class JobProcess:
    """`flask jobs <command>` as a process of its own (its own session: killed as a group)."""

    def __init__(self, command: str, env: dict, log_path: Path):
        self.log_path = log_path
        self.log = open(log_path, "w+")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "jobs", command],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        """Still running."""
        return self.proc.poll() is None

    def output(self) -> str:
        """What it logged so far."""
        return self.log_path.read_text()

    def kill(self) -> None:
        """SIGKILL the process and its children (the work horse)."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()
