"""Command-line signing tool for integrators: python -m signatures.cli {sign,verify,...}.

It needs only this package and `cryptography`, so it runs outside the platform.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from signatures import canonical, rules


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; return the process exit status."""
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (OSError, ValueError) as exc:
        # KeyRefused and SignatureInvalid are ValueErrors with user-facing messages.
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m signatures.cli",
        description="Canonicalize (RFC 8785), sign and verify bid payloads.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    sign = commands.add_parser("sign", help="sign a JSON payload, print the base64 signature")
    sign.add_argument("--key", required=True, type=Path, help="PEM private key")
    _add_payload_arguments(sign)
    sign.set_defaults(run=_sign)

    verify = commands.add_parser("verify", help="verify a signature over a JSON payload")
    verify.add_argument("--pubkey", required=True, type=Path, help="PEM public key or cert")
    verify.add_argument("--signature", required=True, type=Path, help="base64 signature file")
    verify.add_argument(
        "--binary",
        action="store_true",
        help="the signature file holds raw bytes (as written by openssl -out), not base64",
    )
    _add_payload_arguments(verify)
    verify.set_defaults(run=_verify)

    canon = commands.add_parser("canonicalize", help="write the canonical bytes to stdout")
    canon.add_argument("payload", help="JSON file, or - for standard input")
    canon.set_defaults(run=_canonicalize)

    digest = commands.add_parser("digest", help="print the SHA-256 hex of the canonical bytes")
    digest.add_argument("payload", help="JSON file, or - for standard input")
    digest.set_defaults(run=_digest)

    keygen = commands.add_parser("keygen", help="make an ECDSA P-256 key, print its public key")
    keygen.add_argument("--out", required=True, type=Path, help="new private key file (PEM)")
    keygen.set_defaults(run=_keygen)
    return parser


def _add_payload_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--raw",
        action="store_true",
        help="use the file's bytes as they are (already canonical) instead of canonicalizing",
    )
    parser.add_argument("payload", help="JSON file, or - for standard input")


def _sign(args: argparse.Namespace) -> int:
    key = rules.load_private_key(args.key.read_bytes())
    message = _message(args)
    print(base64.b64encode(rules.sign(key, message)).decode("ascii"))
    return 0


def _verify(args: argparse.Namespace) -> int:
    key = rules.load_key(args.pubkey.read_bytes(), now=datetime.now(UTC))
    raw = args.signature.read_bytes()
    signature = raw if args.binary else rules.decode_signature(raw.decode("ascii", "replace"))
    try:
        rules.verify(key, _message(args), signature)
    except rules.SignatureInvalid as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print("OK")
    return 0


def _canonicalize(args: argparse.Namespace) -> int:
    data = canonical.canonicalize(canonical.parse_json(_read(args.payload)))
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    return 0


def _digest(args: argparse.Namespace) -> int:
    print(canonical.digest_hex(canonical.parse_json(_read(args.payload))))
    return 0


def _keygen(args: argparse.Namespace) -> int:
    pem = rules.generate_platform_key()
    # O_EXCL: never overwrite an existing key; 0o600: the private key is readable by its owner.
    fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    print(rules.public_pem(rules.load_private_key(pem)), end="")
    return 0


def _message(args: argparse.Namespace) -> bytes:
    data = _read(args.payload)
    if args.raw:
        _warn_if_not_canonical(data)
        return data
    return canonical.canonicalize(canonical.parse_json(data))


def _warn_if_not_canonical(data: bytes) -> None:
    # The platform signs and verifies canonical JSON; raw bytes that are JSON but not in
    # canonical form will not verify there, which is worth saying before the upload fails.
    try:
        canonical_form = canonical.canonicalize(canonical.parse_json(data))
    except ValueError:
        return
    if canonical_form != data:
        print("warning: the payload is JSON but not in canonical form", file=sys.stderr)


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


if __name__ == "__main__":
    sys.exit(main())
