"""The committed GOST test certification centre (tests/data/gost, made by signatures.testca)
and signatures made over given bytes by `openssl cms -sign` with Debian's GOST engine."""

from __future__ import annotations

import base64
from pathlib import Path

from signatures import cades, testca

GOST = Path(__file__).parent / "data" / "gost"
CA_DIR, CRL_DIR = GOST / "ca", GOST / "crl"
BITS = {"le512": 512}

# The identities the leaf certificates name (signatures/testca.py).
LEGAL = {"inn": "5012123454", "ogrn": "1025000123422", "snils": "11223344595"}
ENTREPRENEUR = {"inn": "500100730004", "ogrn": "304500100000017", "snils": "12345678964"}
OTHER = {"inn": "7813123450", "ogrn": "1027800123438"}


def trust() -> cades.Trust:
    """The test centre as the platform is configured with it."""
    return cades.load_trust(
        [p.read_bytes() for p in sorted(CA_DIR.glob("*.pem"))],
        [p.read_bytes() for p in sorted(CRL_DIR.glob("*.pem"))],
    )


def certificate_pem(name: str) -> str:
    """A leaf certificate's PEM text."""
    return (GOST / f"{name}.pem").read_text()


def sign(name: str, message: bytes, folder: Path, *, cades_attrs: bool = True) -> bytes:
    """A detached CAdES-BES signature (DER) of message by leaf `name`, made by openssl."""
    source = folder / f"{name}-message.bin"
    source.write_bytes(message)
    return testca.sign_cms(
        source,
        GOST / f"{name}.pem",
        GOST / f"{name}.key.pem",
        folder / f"{name}.p7s",
        bits=BITS.get(name, 256),
        cades=cades_attrs,
    )


def sign_b64(name: str, message: bytes, folder: Path) -> str:
    """The same, base64 (what the API takes)."""
    return base64.b64encode(sign(name, message, folder)).decode()
