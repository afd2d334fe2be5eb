"""Driving Debian's Chromium with Playwright (never a downloaded browser)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


class _Shared:
    """One Playwright driver and one Chromium for the whole run (each test process): starting
    them takes about a second, and some 30 tests use a browser. Tests never share state
    through it: each works in contexts of its own, closed when its `chromium()` block ends
    (a context is what a fresh browser profile is: its own cookies, storage and cache)."""

    playwright = None
    browser = None

    @classmethod
    def get(cls):
        if cls.browser is None or not cls.browser.is_connected():
            if cls.playwright is None:
                cls.playwright = sync_playwright().start()
            cls.browser = cls.playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
        return cls.browser

    @classmethod
    def stop(cls) -> None:
        """At the end of the run (tests/e2e/conftest.py)."""
        if cls.browser is not None and cls.browser.is_connected():
            cls.browser.close()
        if cls.playwright is not None:
            cls.playwright.stop()
        cls.browser = cls.playwright = None


@contextmanager
def chromium():
    """Debian's headless Chromium, shared by the run's tests (see _Shared); every context
    opened in the block is closed at its end. Fails (never skips) when the Debian package
    is missing."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    browser = _Shared.get()
    before = set(browser.contexts)
    try:
        yield browser
    except BaseException:
        _show_pages([c for c in browser.contexts if c not in before])
        raise
    finally:
        for context in browser.contexts:
            if context not in before:
                context.close()


def _show_pages(contexts) -> None:
    """When a browser test fails: where each of its pages was and what it showed (printed,
    so pytest shows it with the failure: a timeout alone does not say which page answered)."""
    for context in contexts:
        for page in context.pages:
            try:
                text = page.locator("body").inner_text(timeout=2000)
            except Exception as exc:  # noqa: BLE001 - a crashed or closed page
                text = f"(no text: {exc})"
            print(f"--- page {page.url} ---\n{text[:3000]}")


def watch(page, problems: list[str]) -> None:
    """Collect console errors, CSP reports and uncaught exceptions of a page."""

    def on_console(msg):
        if msg.type == "error" or "Content Security Policy" in msg.text:
            problems.append(f"console {msg.type}: {msg.text} ({msg.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))


def login(page, base: str, email: str, password: str = PASSWORD) -> None:
    """Log in through the form (and fail here, saying why, if the form refused)."""
    page.goto(base + "/login")
    page.fill("#f-email", email)
    page.fill("#f-password", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    if page.url.split("?")[0].endswith("/login"):
        refusal = page.locator("main").inner_text()
        raise AssertionError(f"logging in as {email} was refused: {refusal[:500]}")
