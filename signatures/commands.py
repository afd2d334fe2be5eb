"""`flask signatures ...`: the platform key, and verifying receipts or signatures offline."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from core.errors import DomainError
from signatures import service

signatures_cli = AppGroup("signatures", help="Keys, signatures and receipts.")


@signatures_cli.command("platform-key")
def platform_key() -> None:
    """Print the platform's public key (PEM)."""
    click.echo(service.platform_public_pem(), nl=False)


@signatures_cli.command("verify-receipt")
@click.argument("payload", type=click.File("rb"))
@click.argument("signature", type=click.File("r"))
def verify_receipt(payload, signature) -> None:
    """Verify a receipt (JSON file) against its base64 signature file."""
    _report(lambda: service.verify_platform(json.load(payload), signature.read().strip()))


@signatures_cli.command("verify")
@click.argument("fingerprint")
@click.argument("payload", type=click.File("rb"))
@click.argument("signature", type=click.File("r"))
def verify(fingerprint: str, payload, signature) -> None:
    """Verify a supplier's signature over a payload by the key's fingerprint."""
    _report(
        lambda: service.verify_stored(fingerprint, json.load(payload), signature.read().strip())
    )


def _report(check) -> None:
    try:
        check()
    except DomainError as exc:
        click.echo(f"INVALID: {exc.message}", err=True)
        raise SystemExit(1) from None
    click.echo("OK: the signature is valid.")
