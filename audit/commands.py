"""`flask audit verify`: check every hash chain and name the first broken event."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from audit.service import event_id, verify_all

audit_cli = AppGroup("audit", help="The hash-chained audit trail.")


@audit_cli.command("verify")
def verify() -> None:
    """Verify all chains; exit 1 and name the first broken event of each broken chain."""
    chains, breaks = verify_all()
    if not breaks:
        click.echo(f"OK: {chains} chain(s) verified.")
        return
    for b in breaks:
        row = event_id(b.chain, b.seq)
        where = f"event id {row}" if row else "no stored event"
        click.echo(f"BROKEN: chain {b.chain!r} at seq {b.seq} ({where}): {b.reason}", err=True)
    raise SystemExit(1)
