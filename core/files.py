"""Uploaded files, stored once under their SHA-256 in the instance folder.

A file is checked against its name (its SHA-256) every time it is served: a damaged or
missing one is answered 503 "document_damaged", logged, and reported to the operators
through the `damaged` signal (notifications mails them). `flask files verify` checks
every stored file at rest. See docs/capacity.md."""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import os
import re
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import click
from blinker import Namespace
from flask import current_app, send_file
from flask.cli import AppGroup

from core import transaction
from core.errors import DomainError, Invalid
from core.extensions import db
from core.messages import N_, Text

log = logging.getLogger(__name__)
# Sent with sha256=, problem= ("missing" or "damaged"), where= (what was being served)
# once per damaged file found; its receivers add to the request's transaction.
damaged = Namespace().signal("file-damaged")

CHUNK = 1024 * 1024
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def blob_path(sha256: str) -> Path:
    """Where the content with this hash lives."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a SHA-256 hex digest")
    return Path(current_app.instance_path) / "blobs" / sha256[:2] / sha256


class DocumentDamaged(DomainError):
    """A stored file is missing or its content no longer matches its hash."""

    status = 503
    code = "document_damaged"

    def __init__(self, sha256: str, problem: str):
        super().__init__(
            "This document is damaged on the server and cannot be served. "
            "The operator has been told; please try again later."
        )
        self.sha256, self.problem = sha256, problem


def check_blob(sha256: str) -> str | None:
    """What is wrong with a stored file: "missing", "damaged" (content and hash differ), or
    None when it is intact."""
    try:
        with open(blob_path(sha256), "rb") as f:
            return None if _digest(f) == sha256 else "damaged"
    except FileNotFoundError:
        return "missing"


def _digest(f: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := f.read(CHUNK):
        digest.update(chunk)
        time.sleep(0)  # under eventlet: let other requests run between megabytes
    return digest.hexdigest()


def open_verified(sha256: str, where: str) -> BinaryIO:
    """The stored file, opened and checked against its hash; DocumentDamaged (logged and
    reported) when it is missing or altered."""
    try:
        f = open(blob_path(sha256), "rb")  # noqa: SIM115 - handed to send_file, which closes it
    except FileNotFoundError:
        problem = "missing"
    else:
        if _digest(f) == sha256:
            f.seek(0)
            return f
        f.close()
        problem = "damaged"
    report(sha256, problem, where)
    raise DocumentDamaged(sha256, problem)


def report(sha256: str, problem: str, where: str) -> None:
    """Log a damaged file and tell the operators (the signal's receivers)."""
    log.error("stored file %s is %s (%s)", sha256, problem, where)
    damaged.send(current_app._get_current_object(), sha256=sha256, problem=problem, where=where)


def send_document(sha256: str, where: str, **kwargs):
    """send_file for a stored document, verified first (see open_verified). A view's
    helper: on a damaged file it commits the report (the view itself only read) and
    re-raises, to be answered 503."""
    try:
        f = open_verified(sha256, where)
    except DocumentDamaged:
        transaction.commit()
        raise
    return send_file(f, etag=sha256, **kwargs)


def stored_hashes() -> set[str]:
    """Every file in the store, by name."""
    folder = Path(current_app.instance_path) / "blobs"
    return {p.name for p in folder.glob("??/*") if re.fullmatch(r"[0-9a-f]{64}", p.name)}


def verify_all(referenced: Iterable[str]) -> list[tuple[str, str]]:
    """(sha256, problem) of every stored or referenced file that is missing or damaged."""
    problems = []
    for sha in sorted(stored_hashes() | set(referenced)):
        problem = check_blob(sha)
        if problem:
            problems.append((sha, problem))
    return problems


def clean_filename(name: str) -> str:
    """A display name without path parts or control characters (Cyrillic kept)."""
    name = _UNSAFE.sub("_", os.path.basename((name or "").replace("\\", "/"))).strip(" ._")
    return name[:200] or "document"


def save_stream(stream: BinaryIO, max_bytes: int, field: str = "file") -> tuple[str, int]:
    """Store an upload (hashing while copying); refuse it past max_bytes. Returns (sha, size)."""
    digest, size = hashlib.sha256(), 0
    folder = Path(current_app.instance_path) / "blobs"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, delete=False) as tmp:
        try:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise Invalid(
                        Text(
                            N_("The file is larger than %(mb)s MB."), mb=max_bytes // (1024 * 1024)
                        ),
                        {field: N_("File too large.")},
                    )
                digest.update(chunk)
                tmp.write(chunk)
        except BaseException:
            os.unlink(tmp.name)
            raise
    if size == 0:
        os.unlink(tmp.name)
        raise Invalid(N_("The file is empty."), {field: N_("The file is empty.")})
    sha = digest.hexdigest()
    target = blob_path(sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp.name, target)
    return sha, size


# What may be uploaded as a document (tender notices, the organization's vault, bids).
DOCUMENT_EXTENSIONS = frozenset(
    {
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "odt",
        "ods",
        "rtf",
        "txt",
        "csv",
        "xml",
        "zip",
        "7z",
        "jpg",
        "jpeg",
        "png",
        "tif",
        "tiff",
        "sig",
        "p7s",
    }
)


def document_type(filename: str) -> tuple[str, str]:
    """A cleaned display name and the type it is served with, or Invalid for a file type
    that is not accepted. The type comes from the extension, never from the uploader."""
    name = clean_filename(filename)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in DOCUMENT_EXTENSIONS:
        raise Invalid(
            N_("This type of file is not accepted."),
            {
                "file": Text(
                    N_("Accepted: %(types)s."), types=", ".join(sorted(DOCUMENT_EXTENSIONS))
                )
            },
        )
    return name, mimetypes.guess_type(name)[0] or "application/octet-stream"


def referenced_hashes() -> set[str]:
    """Every stored file the database points to: each mapped column named sha256 or
    *_sha256 (documents, protocols, snapshots), found from the models, not listed here."""
    found: set[str] = set()
    for mapper in db.Model.registry.mappers:
        for column in mapper.columns:
            if column.name == "sha256" or column.name.endswith("_sha256"):
                rows = db.session.execute(db.select(column).where(column.is_not(None)).distinct())
                found.update(rows.scalars())
    return found


files_cli = AppGroup("files", help="Stored files (documents, protocols).")


@files_cli.command("verify")
def verify_command() -> None:
    """Check every stored or referenced file against its SHA-256; report what is wrong."""
    problems = verify_all(referenced_hashes())
    for sha, problem in problems:
        click.echo(f"{problem}: {sha}")
        report(sha, problem, f"found by flask files verify: {blob_path(sha)}")
    transaction.commit()
    if problems:
        raise click.ClickException(f"{len(problems)} stored file(s) missing or damaged.")
    click.echo("Every stored file matches its SHA-256.")
