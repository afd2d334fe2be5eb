"""`flask classifiers load okpd2|okei FILE`: the operator installs an official edition."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from core.extensions import db
from positions import classifiers
from positions.models import Position
from tenders.models import TenderCategory

classifiers_cli = AppGroup("classifiers", help="The OKPD2 and OKEI classifiers.")

_HEADERS = {"okpd2": ["code", "name", "parent"], "okei": ["code", "name", "short", "short_en"]}


def init_app(app: Flask) -> None:
    """Loaded editions (CLASSIFIERS_DIR) take precedence over the shipped ones."""
    classifiers.use_directory(app.config["CLASSIFIERS_DIR"])
    app.cli.add_command(classifiers_cli)


def _codes_in_use(kind: str) -> set[str]:
    if kind == "okei":
        return {str(c) for c in db.session.scalars(select(Position.unit_code).distinct())}
    used = set(db.session.scalars(select(TenderCategory.code).distinct()))
    used |= set(db.session.scalars(select(Position.category_code).distinct()))
    return {c for c in used if c}


@classifiers_cli.command("load")
@click.argument("kind", type=click.Choice(sorted(_HEADERS)))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; install nothing.")
@click.option("--force", is_flag=True, help="Install even if codes in use are missing.")
def load(kind: str, path: Path, dry_run: bool, force: bool) -> None:
    """Check an official OKPD2 or OKEI table (tab- or ;-separated UTF-8: code, name...; as
    Rosstat publishes it) and install it for every process (restart them afterwards)."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise click.ClickException(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    try:
        if kind == "okpd2":
            sections = {c.code: c.name for c in classifiers.children(None)}
            rows = classifiers.read_okpd2_table(lines, sections)
            known = {r[0] for r in rows}
        else:
            rows = classifiers.read_okei_table(lines)
            known = {r[0] for r in rows} | {r[0].lstrip("0") for r in rows}
    except classifiers.TableProblems as exc:
        for problem in exc.problems[:50]:
            click.echo(f"{path.name}: {problem}", err=True)
        raise click.ClickException(f"{len(exc.problems)} problem(s); nothing installed") from None
    missing = sorted(_codes_in_use(kind) - known)
    click.echo(f"{path.name}: {len(rows)} {kind.upper()} entries read.")
    if missing:
        click.echo(f"Codes in use that the file lacks: {', '.join(missing[:20])}", err=True)
        if not force and not dry_run:
            raise click.ClickException("nothing installed (use --force to install anyway)")
    if dry_run:
        click.echo("Dry run: nothing installed.")
        return
    target = Path(current_app.config["CLASSIFIERS_DIR"]) / f"{kind}.csv"
    classifiers.write_table(target, _HEADERS[kind], rows)
    click.echo(f"Installed as {target}; restart the web and worker processes to use it.")
