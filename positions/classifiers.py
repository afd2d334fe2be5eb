"""Russian classifiers shipped as data: OKPD2 (goods, works, services) and OKEI (units).

Pure standard library. Both files live in ``positions/data`` and are read once, lazily,
on first use (``okpd2.csv``: ``code;name;parent``; ``okei.csv``: ``code;name;short;short_en``).

OKPD2 (ОК 034-2014, КПЕС 2008) is shipped down to subclasses ("25.1") for every class and to
groups ("25.11") for the most used ones. Codes deeper than the shipped data (a position coded
"25.11.23.119") are still understood: they resolve to their nearest shipped ancestor, so
``is_within("25.11.23.119", "C")`` and ``section_of("25.11.23.119")`` work.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
OKPD2_FILE = DATA_DIR / "okpd2.csv"
OKEI_FILE = DATA_DIR / "okei.csv"

_OKPD2_HEADER = ["code", "name", "parent"]
_OKEI_HEADER = ["code", "name", "short", "short_en"]

# A section letter typed in Cyrillic (А, В, С...) means the Latin one.
_CYRILLIC_LOOKALIKES = str.maketrans("АВСЕНКМОРТХ", "ABCEHKMOPTX")
_WORD = re.compile(r"\w+")
_CODE_CHARS = re.compile(r"[0-9.]+")


@dataclass(frozen=True)
class Category:
    """One OKPD2 grouping. level: 0 section, 1 class, 2 subclass, 3 group, 4 subgroup..."""

    code: str
    name: str
    parent: str | None
    level: int


@dataclass(frozen=True)
class Unit:
    """One OKEI unit of measure; code is three digits with leading zeros."""

    code: str
    name: str
    short: str
    short_en: str


# --- loading -------------------------------------------------------------------------------


def _read_rows(path: Path, header: list[str]) -> Iterator[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter=";")
        first = next(reader, None)
        if first != header:
            raise ValueError(f"{path.name}: expected header {';'.join(header)!r}, got {first!r}")
        for lineno, row in enumerate(reader, start=2):
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise ValueError(f"{path.name}:{lineno}: expected {len(header)} fields")
            yield [cell.strip() for cell in row]


@dataclass(frozen=True)
class _Okpd2:
    ordered: tuple[Category, ...]
    by_code: dict[str, Category]
    children: dict[str | None, tuple[Category, ...]]


def _levels(parents: dict[str, str | None]) -> dict[str, int]:
    levels: dict[str, int] = {}
    for code in parents:
        chain = []
        node: str | None = code
        while node is not None and node not in levels:
            if node in chain:
                raise ValueError(f"okpd2.csv: cycle through {node!r}")
            chain.append(node)
            node = parents[node]
        depth = -1 if node is None else levels[node]
        for item in reversed(chain):
            depth += 1
            levels[item] = depth
    return levels


def _tree_order(children: dict[str | None, list[str]]) -> list[str]:
    order: list[str] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        code = stack.pop()
        order.append(code)
        stack.extend(reversed(children.get(code, [])))
    return order


@cache
def _okpd2() -> _Okpd2:
    names: dict[str, str] = {}
    parents: dict[str, str | None] = {}
    for code, name, parent in _read_rows(OKPD2_FILE, _OKPD2_HEADER):
        if code in names:
            raise ValueError(f"okpd2.csv: duplicate code {code!r}")
        names[code] = name
        parents[code] = parent or None
    missing = sorted(c for c, p in parents.items() if p is not None and p not in names)
    if missing:
        raise ValueError(f"okpd2.csv: parent not found for {', '.join(missing[:5])}")
    levels = _levels(parents)
    kids: dict[str | None, list[str]] = {}
    for code in sorted(names):  # classifier order: codes sort like the printed classifier
        kids.setdefault(parents[code], []).append(code)
    by_code = {c: Category(c, names[c], parents[c], levels[c]) for c in names}
    ordered = tuple(by_code[c] for c in _tree_order(kids))
    children = {p: tuple(by_code[c] for c in cs) for p, cs in kids.items()}
    return _Okpd2(ordered, by_code, children)


@cache
def _okei() -> tuple[tuple[Unit, ...], dict[str, Unit]]:
    items = tuple(Unit(*row) for row in _read_rows(OKEI_FILE, _OKEI_HEADER))
    by_code: dict[str, Unit] = {}
    for item in items:
        if not (len(item.code) == 3 and item.code.isdigit()):
            raise ValueError(f"okei.csv: code {item.code!r} is not three digits")
        if item.code in by_code:
            raise ValueError(f"okei.csv: duplicate code {item.code!r}")
        by_code[item.code] = item
    return items, by_code


# --- OKPD2 ---------------------------------------------------------------------------------


def _normalize_code(code: str | None) -> str:
    text = (code or "").strip().upper()
    if len(text) == 1:
        text = text.translate(_CYRILLIC_LOOKALIKES)
    return text


def _structural_parent(code: str) -> str:
    """'25.11.23.119' -> '25.11.23.11' -> ... -> '25.1' -> '25' -> ''."""
    trimmed = code[:-1]
    return trimmed[:-1] if trimmed.endswith(".") else trimmed


def _resolve(code: str | None) -> tuple[str, Category | None]:
    """The normalized code and the nearest shipped category at or above it (None if none)."""
    text = _normalize_code(code)
    by_code = _okpd2().by_code
    if text in by_code:
        return text, by_code[text]
    if not _CODE_CHARS.fullmatch(text) or text.startswith(".") or ".." in text:
        return text, None
    probe = _structural_parent(text)
    while probe and probe not in by_code:
        probe = _structural_parent(probe)
    return text, by_code.get(probe)


def categories() -> tuple[Category, ...]:
    """All shipped OKPD2 groupings in classifier (depth-first tree) order."""
    return _okpd2().ordered


def category(code: str | None) -> Category | None:
    """The grouping with exactly this code, or None."""
    return _okpd2().by_code.get(_normalize_code(code))


def children(code: str | None = None) -> list[Category]:
    """Direct children of a grouping; None gives the 21 sections. Unknown code: []."""
    key = None if code is None else _normalize_code(code)
    return list(_okpd2().children.get(key, ()))


def _chain(node: Category | None) -> list[Category]:
    by_code = _okpd2().by_code
    chain: list[Category] = []
    while node is not None:
        chain.append(node)
        node = by_code.get(node.parent) if node.parent else None
    chain.reverse()
    return chain


def ancestors(code: str) -> list[Category]:
    """Groupings above the code, section first, the code itself excluded.

    A code deeper than the shipped data gets the chain of its nearest shipped ancestor
    (that ancestor included); a code that resolves to nothing gives [].
    """
    text, node = _resolve(code)
    chain = _chain(node)
    if node is not None and node.code == text:
        chain.pop()
    return chain


def is_within(code: str, ancestor_code: str) -> bool:
    """True when the code is the ancestor itself or lies anywhere in its subtree."""
    text, node = _resolve(code)
    target = _normalize_code(ancestor_code)
    if node is None or target not in _okpd2().by_code:
        return False
    return text == target or any(item.code == target for item in _chain(node))


def section_of(code: str) -> str:
    """The section letter (A..U) of a code; KeyError when the code is not OKPD2."""
    _, node = _resolve(code)
    chain = _chain(node)
    if not chain:
        raise KeyError(code)
    return chain[0].code


def subtree_codes(code: str) -> frozenset[str]:
    """The shipped code and all its shipped descendants; frozenset() for an unknown code."""
    tree = _okpd2()
    root = _normalize_code(code)
    if root not in tree.by_code:
        return frozenset()
    found: set[str] = set()
    stack = [root]
    while stack:
        current = stack.pop()
        found.add(current)
        stack.extend(item.code for item in tree.children.get(current, ()))
    return frozenset(found)


def _fold(text: str) -> str:
    return text.casefold().replace("ё", "е")


@cache
def _name_words(code: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(_fold(_okpd2().by_code[code].name)))


def _name_matches(code: str, terms: list[str]) -> bool:
    words = _name_words(code)
    return all(any(word.startswith(term) for word in words) for term in terms)


def search_categories(text: str, limit: int = 50) -> list[Category]:
    """Groupings whose code starts with the text, then those whose name has words starting
    with every word of the text (case-insensitive, "ё" = "е"); classifier order, at most limit.
    """
    query = _fold((text or "").strip())
    terms = _WORD.findall(query)
    if not terms or limit <= 0:
        return []
    by_code = [c for c in categories() if _fold(c.code).startswith(query)]
    seen = {c.code for c in by_code}
    by_name = [c for c in categories() if c.code not in seen and _name_matches(c.code, terms)]
    return (by_code + by_name)[:limit]


# --- OKEI ----------------------------------------------------------------------------------


def units() -> tuple[Unit, ...]:
    """All shipped OKEI units in file order."""
    return _okei()[0]


def unit(code: str | int | None) -> Unit | None:
    """The unit with this OKEI code; "6", "006" and 6 are the same code."""
    text = str(code).strip() if code is not None else ""
    if not text.isdigit() or len(text) > 3:
        return None
    return _okei()[1].get(text.zfill(3))


def _loose(text: str) -> str:
    return re.sub(r"[\s.]+", "", _fold(text))


def find_unit(text: str | None) -> Unit | None:
    """A unit by code (with or without leading zeros) or by short, short_en or name.

    Exact spelling wins ("л" is the litre, "л." the sheet, "кВ" the kilovolt, "кв" the
    quarter); then case-insensitive; then ignoring dots and spaces ("шт.", "тыс.шт").
    """
    query = (text or "").strip()
    if not query:
        return None
    if query.isdigit():
        return unit(query)
    passes = (lambda s: s, _fold, _loose)
    for norm in passes:
        wanted = norm(query)
        for item in units():
            if wanted in (norm(item.short), norm(item.short_en), norm(item.name)):
                return item
    return None
