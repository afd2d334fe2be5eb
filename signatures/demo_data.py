"""Demo data for qualified signatures: a TEST certification centre made with OpenSSL's GOST
engine and trusted by the demo's default folders, and supplier1's qualified certificate
(bids/demo_data.py adds the tender that requires КЭП and the signed bid)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import current_app

from accounts.models import User
from signatures import qualified, testca


def _demo_folder() -> Path:
    return Path(current_app.instance_path) / "demo" / "gost"


def load_centre() -> Path | None:
    """The demo's TEST certification centre, made once and trusted; None without the engine."""
    folder = _demo_folder()
    if not (folder / "le256.pem").exists():
        if not testca.engine_available():
            return None
        with tempfile.TemporaryDirectory(prefix="demo-gost-") as tmp:
            made = testca.make(Path(tmp) / "gost")
            folder.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(made.out, folder, dirs_exist_ok=True)
    ca_dir = qualified.configured_folder(*qualified.CA_FOLDER)
    crl_dir = qualified.configured_folder(*qualified.CRL_FOLDER)
    ca_dir.mkdir(parents=True, exist_ok=True)
    crl_dir.mkdir(parents=True, exist_ok=True)
    for source in (folder / "ca").glob("*.pem"):
        shutil.copy(source, ca_dir / f"demo-test-{source.name}")
    for source in (folder / "crl").glob("*.pem"):
        shutil.copy(source, crl_dir / f"demo-test-{source.name}")
    return folder


def load_certificate(user: User, folder: Path):
    """supplier1's qualified certificate from the demo centre, registered once."""
    from signatures import service as signatures

    existing = [k for k in signatures.user_keys(user) if qualified.is_qualified(k)]
    if existing:
        return existing[0]
    return signatures.register_key(
        user, (folder / "le256.pem").read_text(), "КЭП (ТЕСТОВЫЙ УЦ): Поставкин С. П."
    )
