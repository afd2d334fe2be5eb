"""Signing in a real browser: Chromium generates an ECDSA P-256 key with WebCrypto, keeps it
non-extractable in IndexedDB, registers the public half, backs it up encrypted, restores it in
another browser profile and has the platform verify signatures made with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from core.transaction import commit
from tests.e2e.browser import CHROMIUM, TIMEOUT_MS, chromium, login, watch
from tests.factories import make_org, make_user

pytestmark = [pytest.mark.live, pytest.mark.database_agnostic]

BACKUP_PASSPHRASE = "correct horse battery staple"

# Runs in the page: reads the record from IndexedDB and tries to export its private key.
EXPORT_ATTEMPT = """async (fingerprint) => {
  const db = await new Promise((resolve, reject) => {
    const req = indexedDB.open("tenders-keys");
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const record = await new Promise((resolve, reject) => {
    const req = db.transaction("keys").objectStore("keys").get(fingerprint);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  db.close();
  if (!record) return {found: false};
  const out = {
    found: true,
    keyId: record.keyId,
    label: record.label,
    extractable: record.privateKey.extractable,
    usages: record.privateKey.usages,
    curve: record.privateKey.algorithm.namedCurve,
  };
  try {
    await crypto.subtle.exportKey("pkcs8", record.privateKey);
    out.exportThrew = false;
  } catch (e) {
    out.exportThrew = true;
    out.exportError = e.name;
  }
  return out;
}"""


def _committed_user(app) -> tuple[int, str]:
    with app.app_context():
        org = make_org()
        user = make_user(org)
        ids = (user.id, user.email)
        commit()
    return ids


def _stored_keys(app, user_id: int) -> dict[str, object]:
    from core.extensions import db
    from signatures.models import SigningKey

    with app.app_context():
        rows = db.session.execute(select(SigningKey).where(SigningKey.user_id == user_id)).scalars()
        return {k.label: (k.id, k.algorithm, k.fingerprint, k.revoked_at) for k in rows}


def _local_row(page, label: str):
    """Wait for the keys table row of `label` marked as present in this browser."""
    row = page.locator("#keys-table tr", has_text=label)
    row.locator(".local-mark", has_text="in this browser").wait_for()
    return row


def _generate(page, base: str, label: str, passphrase: str = "") -> None:
    page.goto(base + "/cabinet/keys")
    page.wait_for_selector("#generate-key:enabled")
    page.fill("#new-key-label", label)
    page.fill("#new-key-passphrase", passphrase)
    page.click("#generate-key")


def _sign_check(page, base: str, fingerprint: str) -> str:
    page.goto(base + "/signature-check")
    page.wait_for_selector("#sign-check:enabled")
    page.select_option("#check-key", value=fingerprint)
    page.click("#sign-check")
    result = page.locator("#check-result.flash-success", has_text="Signature verified")
    result.wait_for()
    return result.inner_text()


def _check_backup(download, spki_fingerprint: str, folder: Path) -> Path:
    # Saved out of Playwright's artifacts folder: that one goes away with the context.
    path = folder / download.suggested_filename
    download.save_as(path)
    backup = json.loads(path.read_text())
    assert backup["format"] == "tenders-key-backup" and backup["version"] == 1
    assert backup["kdf"]["name"] == "PBKDF2" and backup["kdf"]["iterations"] == 310000
    assert backup["cipher"]["name"] == "AES-GCM"
    assert backup["label"] == "Backup key"
    assert "PRIVATE KEY" not in path.read_text()  # only the encrypted PKCS8 is inside
    assert backup["spki_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert spki_fingerprint[:16] in download.suggested_filename
    return path


def _check_unsupported_browser(browser, base: str, email: str, problems: list[str]) -> None:
    old = browser.new_context()
    old.set_default_timeout(TIMEOUT_MS)
    old.add_init_script("Object.defineProperty(window.crypto, 'subtle', {value: undefined})")
    page = old.new_page()
    watch(page, problems)
    login(page, base, email)
    for path, button in (("/cabinet/keys", "#generate-key"), ("/signature-check", "#sign-check")):
        page.goto(base + path)
        status = page.locator("#webcrypto-status.flash-error")
        status.wait_for()
        assert status.inner_text().startswith("This browser cannot make signatures: use a current")
        assert page.locator(button).is_disabled()
    old.close()


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_browser_generates_stores_and_signs_with_webcrypto_key(app, server, tmp_path):
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: the browser test cannot run"
    base, _ = server
    user_id, email = _committed_user(app)
    problems: list[str] = []

    with chromium() as browser:
        context = browser.new_context(accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page, problems)
        login(page, base, email)

        # 1. A key without a backup: generated, registered, stored here.
        _generate(page, base, "Browser key")
        _local_row(page, "Browser key")
        keys = _stored_keys(app, user_id)
        key_id, algorithm, fingerprint, revoked_at = keys["Browser key"]
        assert algorithm == "ecdsa-p256" and revoked_at is None

        # The private key in IndexedDB can sign but never be exported.
        stored = page.evaluate(EXPORT_ATTEMPT, fingerprint)
        assert stored["found"] and stored["keyId"] == key_id, stored
        assert stored["extractable"] is False and stored["usages"] == ["sign"], stored
        assert stored["curve"] == "P-256"
        assert stored["exportThrew"] is True, stored
        assert stored["exportError"] == "InvalidAccessError", stored

        # 2. A key with a passphrase: an encrypted backup file is downloaded.
        with page.expect_download() as download_info:
            _generate(page, base, "Backup key", BACKUP_PASSPHRASE)
        _local_row(page, "Backup key")
        backup_id, algorithm, backup_fp, _ = _stored_keys(app, user_id)["Backup key"]
        assert algorithm == "ecdsa-p256"
        backup_path = _check_backup(download_info.value, backup_fp, tmp_path)
        assert page.evaluate(EXPORT_ATTEMPT, backup_fp)["exportThrew"] is True

        # 3. "Check my signature" with the first key.
        text = _sign_check(page, base, fingerprint)
        assert text == f"Signature verified: ecdsa-p256, key {fingerprint[:16]}"
        context.close()

        # 4. Another browser profile (empty IndexedDB) restores the backup and signs.
        other = browser.new_context()
        other.set_default_timeout(TIMEOUT_MS)
        page = other.new_page()
        watch(page, problems)
        login(page, base, email)
        page.goto(base + "/cabinet/keys")
        page.wait_for_selector("#restore-key:enabled")
        assert page.locator(".local-mark", has_text="in this browser").count() == 0
        page.set_input_files("#restore-file", str(backup_path))
        page.fill("#restore-passphrase", BACKUP_PASSPHRASE)
        page.click("#restore-key")
        _local_row(page, "Backup key")
        restored = page.evaluate(EXPORT_ATTEMPT, backup_fp)
        assert restored["keyId"] == backup_id and restored["exportThrew"] is True
        assert page.locator(".local-mark", has_text="in this browser").count() == 1
        assert "Signature verified" in _sign_check(page, base, backup_fp)
        other.close()

        # 5. A browser without WebCrypto says so and offers no button.
        _check_unsupported_browser(browser, base, email, problems)

    assert len(_stored_keys(app, user_id)) == 2  # restoring did not register a duplicate
    csp = [m for m in problems if "Content Security Policy" in m]
    assert not csp, csp
    assert not problems, problems
