"""Catalog discipline (docs/i18n.md): the marked messages, the Russian catalog, and a scan
of rendered Russian pages for English left outside `_()`."""

from __future__ import annotations

import json
import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
IGNORE_DIRS = ".* ._ tests bench migrations instance build dist"


def extracted() -> list[str]:
    """The message ids `make messages` would extract (plural ids as 'singular|plural')."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        CommandLineInterface().run(
            [
                "pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"),
                "-k", "lazy_gettext", "-k", "_l", "--no-location", "--omit-header",
                f"--ignore-dirs={IGNORE_DIRS}", "-o", str(pot), str(ROOT),
            ]
        )  # fmt: skip
        with pot.open("rb") as f:
            catalog = read_po(f)
    return [_key(m.id) for m in catalog if m.id]


def _key(msgid) -> str:
    return "|".join(msgid) if isinstance(msgid, tuple | list) else msgid


def catalog_problems(lang: str = "ru") -> list[str]:
    """Messages without a translation in the catalog, fuzzy or with an empty plural form."""
    with (ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    entries = {_key(m.id): m for m in catalog if m.id}
    problems = []
    for msgid in extracted():
        entry = entries.get(msgid)
        if entry is None:
            problems.append(f"not in the catalog (run make messages): {msgid!r}")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        elif not all(entry.string if isinstance(entry.string, tuple) else [entry.string]):
            problems.append(f"not translated: {msgid!r}")
    return problems


JS_CALL = re.compile(r"""\bt\(\s*(["'])((?:\\.|(?!\1).)*)\1""")


def js_problems(lang: str = "ru") -> list[str]:
    """Keys of t("...") calls in static/js missing from static/i18n/<lang>.json."""
    catalog = json.loads((ROOT / "static" / "i18n" / f"{lang}.json").read_text("utf-8"))
    problems = []
    for script in sorted((ROOT / "static" / "js").glob("*.js")):
        for match in JS_CALL.finditer(script.read_text("utf-8")):
            key = match.group(2).encode().decode("unicode_escape")
            if key not in catalog:
                problems.append(f"{script.name}: {key!r}")
    return problems


# Latin words allowed on a Russian page: names, abbreviations and codes.
ALLOWED_LATIN = {
    "EN", "RU", "API", "OpenAPI", "CSV", "PDF", "JSON", "OCDS", "SAP", "RUB",
    "Excel", "xlsx",  # the workbook format (issue 23)
    # signature formats, algorithms and tools named as they are (issue 24)
    "CMS", "CAdES", "BES", "CRL", "sig", "p7s", "ECDSA", "RSA", "PSS", "cryptcp", "openssl",
    "CSP",  # «КриптоПро CSP», the product's name
}  # fmt: skip
_WORD = re.compile(r"[A-Za-z]{3,}")
_SKIPPED_TAGS = {"script", "style", "code", "pre"}


class _Texts(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED_TAGS:
            self.skip += 1
        values = dict(attrs)
        if values.get("lang") == "en" or "data-i18n-skip" in values:
            return  # the switch's "English"; marked user data
        for name in ("title", "placeholder", "aria-label"):
            if values.get(name):
                self.texts.append(values[name])
        if tag == "input" and values.get("type") in {"submit", "button"}:  # a <button> shows
            # its content, not its value
            self.texts.append(values.get("value") or "")

    def handle_endtag(self, tag):
        if tag in _SKIPPED_TAGS and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.texts.append(data.strip())


def untranslated_english(html: str, allowed: set[str] = frozenset()) -> list[str]:
    """The texts of a rendered page (text, title, placeholder, aria-label, button values)
    holding an English word: Latin letters, 3 or more, not an allowed name or code, not part
    of an address (e-mail, URL)."""
    parser = _Texts()
    parser.feed(html)
    found = []
    for text in parser.texts:
        plain = re.sub(r"\S+@\S+|https?://\S+|/\S*", " ", text)
        words = [w for w in _WORD.findall(plain) if w not in ALLOWED_LATIN | set(allowed)]
        if words:
            found.append(text)
    return found
