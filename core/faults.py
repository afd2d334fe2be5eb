"""Test-only gates for fault tests: hold a job at a named point until the test lets it go.

With FAULT_GATE_DIR set (never in production), a job reaching gate("evaluate") writes
`at-evaluate` into that folder (its process id) and waits until `go-evaluate` appears (at most
GATE_WAIT seconds), so a test can kill the process at exactly that point."""

from __future__ import annotations

import os
import time
from pathlib import Path

from flask import current_app

GATE_WAIT = 120.0


def gate(point: str) -> None:
    """Wait at `point` while a fault test holds it (no-op unless FAULT_GATE_DIR is set)."""
    folder = current_app.config.get("FAULT_GATE_DIR")
    if not folder:
        return
    Path(folder, f"at-{point}").write_text(str(os.getpid()))
    give_up = time.monotonic() + GATE_WAIT
    while not Path(folder, f"go-{point}").exists() and time.monotonic() < give_up:
        time.sleep(0.05)
