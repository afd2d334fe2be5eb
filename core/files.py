"""Uploaded files, stored once under their SHA-256 in the instance folder."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

from flask import current_app

from core.errors import Invalid

CHUNK = 1024 * 1024
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def blob_path(sha256: str) -> Path:
    """Where the content with this hash lives."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a SHA-256 hex digest")
    return Path(current_app.instance_path) / "blobs" / sha256[:2] / sha256


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
                        f"The file is larger than {max_bytes // (1024 * 1024)} MB.",
                        {field: "File too large."},
                    )
                digest.update(chunk)
                tmp.write(chunk)
        except BaseException:
            os.unlink(tmp.name)
            raise
    if size == 0:
        os.unlink(tmp.name)
        raise Invalid("The file is empty.", {field: "The file is empty."})
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
            "This type of file is not accepted.",
            {"file": f"Accepted: {', '.join(sorted(DOCUMENT_EXTENSIONS))}."},
        )
    return name, mimetypes.guess_type(name)[0] or "application/octet-stream"
