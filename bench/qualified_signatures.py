"""Verification of one qualified signature with its chain (issue 24), against ECDSA P-256.

    .venv/bin/python bench/qualified_signatures.py [--repeat 500]

Signs one bid-sized canonical payload with the test centre's GOST-256 and GOST-512 leaves
(`openssl cms -sign` with the engine) and with an ECDSA P-256 key, then times the platform's
checks in the same run: for GOST the whole CAdES-BES verification (parse, Streebog digest,
signature, chain to the trusted root, CRLs, markers; signatures.cades.verify), for ECDSA
signatures.rules.verify. Prints median and p99 in milliseconds and the ratio to ECDSA.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from signatures import cades, canonical, rules  # noqa: E402
from tests.gost_helpers import sign, trust  # noqa: E402


def payload(lines: int) -> bytes:
    """A bid revision's canonical bytes with `lines` priced positions."""
    return canonical.canonicalize(
        {
            "type": "bid-revision",
            "version": 1,
            "tender": "T-2026-000123",
            "bidder": {"org_id": 42, "inn": "5012123454"},
            "revision": 1,
            "previous": "",
            "lines": [
                {"position": str(n), "unit_price": "1234.50", "total": "2469.00", "note": ""}
                for n in range(1, lines + 1)
            ],
            "criteria": [],
            "documents": [],
        }
    )


def timed(function, repeat: int) -> list[float]:
    """Milliseconds per call, after a few warm-up calls."""
    for _ in range(5):
        function()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def p99(samples: list[float]) -> float:
    return sorted(samples)[min(len(samples) - 1, int(len(samples) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=500)
    parser.add_argument("--lines", type=int, default=20, help="positions in the payload")
    args = parser.parse_args()
    message = payload(args.lines)
    now = dt.datetime.now(dt.UTC)
    centre = trust()
    key = ec.generate_private_key(ec.SECP256R1())
    ecdsa = key.sign(message, ec.ECDSA(hashes.SHA256()))
    public = rules.public_pem(key)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = {bits: sign(f"le{bits}", message, Path(tmp)) for bits in (256, 512)}
    results["ECDSA P-256 (signature only)"] = timed(
        lambda: rules.verify(public, message, ecdsa), args.repeat
    )
    for bits, der in files.items():
        results[f"GOST-{bits} CAdES-BES with chain and CRLs"] = timed(
            lambda der=der: cades.verify(der, message, centre, now=now), args.repeat
        )
    base = statistics.median(results["ECDSA P-256 (signature only)"])
    print(f"payload {len(message)} bytes, {args.repeat} verifications each")
    for name, samples in results.items():
        median = statistics.median(samples)
        print(
            f"{name:45} median {median:7.3f} ms  p99 {p99(samples):7.3f} ms"
            f"  ({median / base:5.1f}x ECDSA)"
        )


if __name__ == "__main__":
    main()
