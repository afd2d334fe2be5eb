"""Job faults with production figures: the fault tests of tests/e2e/test_faults_jobs.py run
with every sweeper at its own interval (60 s for closes, events, mail relay, evaluations)
and a Redis outage of a minute, as issue 16 reported them (Redis stopped 60 s, paused 30 s).

For each fault it prints what the tests measure: how long after Redis returned an overdue
tender was closed and evaluated (the scheduler and worker were never restarted by hand), and
how long two write requests took while Redis was frozen (docs/operations.md).

    TEST_REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/faults.py \\
        [--db postgresql] [--outage 60]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    """Run the fault tests with production intervals; print their FIGURE lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="postgresql", choices=("postgresql", "sqlite"))
    parser.add_argument("--outage", type=float, default=60.0, help="seconds Redis stays down")
    args = parser.parse_args(argv)
    env = {
        **os.environ,
        "FAULTS_SWEEPERS_INTERVAL": "0",  # each sweeper at its own interval
        "FAULTS_OUTAGE_SECONDS": str(args.outage),
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/e2e/test_faults_jobs.py",
            "--db",
            args.db,
            "-q",
            "-s",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    for line in run.stdout.splitlines():
        if "FIGURE" in line or " passed" in line or " failed" in line:
            print(line[line.find("FIGURE") :] if "FIGURE" in line else line)
    if run.returncode:
        print(run.stdout[-6000:], run.stderr[-2000:], sep="\n")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
