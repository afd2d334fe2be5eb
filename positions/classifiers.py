"""Russian classifiers shipped as data: OKPD2 (goods, works, services) and OKEI (units).

Pure standard library. Both files live in ``positions/data`` and are read once, lazily,
on first use (``okpd2.csv``: ``code;name;parent``; ``okei.csv``: ``code;name;short;short_en``).

OKPD2 (ОК 034-2014, КПЕС 2008) is shipped whole, every level (docs/tenders.md names the
source); an operator replaces it with Rosstat's newest edition by `flask classifiers load`,
which writes to CLASSIFIERS_DIR (`use_directory`). A code deeper than the data still resolves
to its nearest known ancestor.
"""

from __future__ import annotations

import bisect
import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from core.messages import N_

UNKNOWN_CATEGORY = N_("Unknown category.")  # said in the reader's language by core.api

DATA_DIR = Path(__file__).resolve().parent / "data"
OKPD2_NAME = "okpd2.csv"
OKEI_NAME = "okei.csv"
_override_dir: Path | None = None
_loaded: tuple = ()  # the files the caches were filled from (_signature)

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


def data_file(name: str) -> Path:
    """The file in use: the operator's loaded copy if there is one, else the shipped one."""
    if _override_dir is not None and (_override_dir / name).is_file():
        return _override_dir / name
    return DATA_DIR / name


def use_directory(directory: str | Path | None) -> None:
    """Read loaded classifiers from this folder first (the app passes CLASSIFIERS_DIR)."""
    global _override_dir, _loaded
    _override_dir = Path(directory) if directory else None
    if _signature() != _loaded:  # another file, or the same file installed anew
        _okpd2.cache_clear()
        _okei.cache_clear()
        _search_index.cache_clear()
        _loaded = _signature()


def _signature() -> tuple:
    """Which files the data come from, and their versions (path, size, modification)."""
    out = []
    for name in (OKPD2_NAME, OKEI_NAME):
        path = data_file(name)
        stat = path.stat()
        out.append((path, stat.st_size, stat.st_mtime_ns))
    return tuple(out)


@cache
def _okpd2() -> _Okpd2:
    names: dict[str, str] = {}
    parents: dict[str, str | None] = {}
    for code, name, parent in _read_rows(data_file(OKPD2_NAME), _OKPD2_HEADER):
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
    items = tuple(Unit(*row) for row in _read_rows(data_file(OKEI_NAME), _OKEI_HEADER))
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


def category_tree() -> list[tuple[Category, list[tuple[Category, list[Category]]]]]:
    """Sections with their classes and subclasses, as the tender editor, the subscriptions
    and the supplier's declared categories show them (groups are searchable in the API)."""
    return [(s, [(c, children(c.code)) for c in children(s.code)]) for s in children(None)]


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


@dataclass(frozen=True)
class _SearchIndex:
    codes: tuple[str, ...]  # folded, in classifier order
    words: tuple[str, ...]  # every folded word of a name, sorted
    postings: dict[str, frozenset[int]]  # word -> positions in classifier order


@cache
def _search_index() -> _SearchIndex:
    postings: dict[str, set[int]] = {}
    for i, item in enumerate(categories()):
        for word in _WORD.findall(_fold(item.name)):
            postings.setdefault(word, set()).add(i)
    return _SearchIndex(
        tuple(_fold(c.code) for c in categories()),
        tuple(sorted(postings)),
        {w: frozenset(p) for w, p in postings.items()},
    )


def _starting_with(index: _SearchIndex, term: str) -> set[int]:
    found: set[int] = set()
    at = bisect.bisect_left(index.words, term)
    while at < len(index.words) and index.words[at].startswith(term):
        found |= index.postings[index.words[at]]
        at += 1
    return found


def search_categories(text: str, limit: int = 50) -> list[Category]:
    """Groupings whose code starts with the text, then those whose name has words starting
    with every word of the text (case-insensitive, "ё" = "е"); classifier order, at most limit.
    """
    query = _fold((text or "").strip())
    terms = _WORD.findall(query)
    if not terms or limit <= 0:
        return []
    index, items = _search_index(), categories()
    by_code = [i for i, code in enumerate(index.codes) if code.startswith(query)][:limit]
    by_name = set.intersection(*(_starting_with(index, t) for t in terms)) - set(by_code)
    return [items[i] for i in by_code + sorted(by_name)][:limit]


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


# --- reading an official edition (`flask classifiers load`) ---------------------------------

# The 21 sections of OKPD2 and the divisions (first two digits) each holds.
SECTION_DIVISIONS: dict[str, tuple[int, int]] = {
    "A": (1, 3), "B": (5, 9), "C": (10, 33), "D": (35, 35), "E": (36, 39), "F": (41, 43),
    "G": (45, 47), "H": (49, 53), "I": (55, 56), "J": (58, 63), "K": (64, 66), "L": (68, 68),
    "M": (69, 75), "N": (77, 82), "O": (84, 84), "P": (85, 85), "Q": (86, 88), "R": (90, 93),
    "S": (94, 96), "T": (97, 98), "U": (99, 99),
}  # fmt: skip
_OKPD2_CODE = re.compile(r"\d\d(\.\d{1,2}(\.\d{1,2}(\.\d{3})?)?)?")
_SECTION_ROW = re.compile(r"(?:РАЗДЕЛ|Раздел|SECTION|Section)?\s*([A-UА-Я])")


class TableProblems(ValueError):
    """A classifier file that cannot be loaded; `problems` name each line and reason."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems[:5]))
        self.problems = problems


def _cells(line: str) -> list[str]:
    delimiter = "\t" if "\t" in line else ";"
    row = next(csv.reader([line], delimiter=delimiter))
    return [c.strip().strip('"').strip() for c in row if c.strip().strip('"').strip()]


def _section_of_division(division: str) -> str | None:
    number = int(division)
    return next((s for s, (lo, hi) in SECTION_DIVISIONS.items() if lo <= number <= hi), None)


def _okpd2_line(lineno: int, cells: list[str], first: bool) -> tuple[str, str] | str | None:
    """(code, name) of one table line, a problem, or None for a header line."""
    code = cells[0].upper()
    section = _SECTION_ROW.fullmatch(code)
    if section:
        code = section.group(1).translate(_CYRILLIC_LOOKALIKES)
        if code not in SECTION_DIVISIONS:
            return f"line {lineno}: {cells[0]!r} is not an OKPD2 section"
    elif not _OKPD2_CODE.fullmatch(code):
        return None if first else f"line {lineno}: {cells[0]!r} is not an OKPD2 code"
    if len(cells) < 2:
        return f"line {lineno}: {code} has no name"
    return code, " ".join(cells[1].split())


def _okpd2_parent(code: str, names: dict[str, str]) -> str | None:
    if code in SECTION_DIVISIONS:
        return None
    if len(code) == 2:
        return _section_of_division(code)
    parent = _structural_parent(code)
    while parent and parent not in names:
        parent = _structural_parent(parent)
    return parent or None


def read_okpd2_table(
    lines: Iterable[str], section_names: dict[str, str]
) -> list[tuple[str, str, str | None]]:
    """(code, name, parent) rows from an OKPD2 table: one grouping per line, its code then
    its name, separated by a tab or ";" (Rosstat's published table, or this module's own
    ``code;name;parent`` file); a header line is skipped. Parents come from the codes; a
    section missing from the file takes its name from ``section_names``. Raises
    TableProblems naming each bad line."""
    names: dict[str, str] = {}
    problems: list[str] = []
    for lineno, line in enumerate(lines, start=1):
        cells = _cells(line.rstrip("\r\n").lstrip("\ufeff"))
        found = _okpd2_line(lineno, cells, first=lineno == 1) if cells else None
        if isinstance(found, str):
            problems.append(found)
        elif found and found[0] in names:
            problems.append(f"line {lineno}: {found[0]} appears twice")
        elif found:
            names[found[0]] = found[1]
    if not any(code not in SECTION_DIVISIONS for code in names):
        problems.append("no OKPD2 code found (one grouping per line: code, then name)")
    for letter, name in section_names.items():
        names.setdefault(letter, name)
    rows: list[tuple[str, str, str | None]] = []
    for code in sorted(names, key=lambda c: (len(c) > 1, c)):
        parent = _okpd2_parent(code, names)
        if code not in SECTION_DIVISIONS and parent not in names:
            problems.append(f"{code}: no section or grouping above it in the file")
            continue
        rows.append((code, names[code], parent))
    if problems:
        raise TableProblems(problems)
    return rows


def read_okei_table(lines: Iterable[str]) -> list[tuple[str, str, str, str]]:
    """(code, name, short, short_en) rows from an OKEI table: code, name, national and
    international short names separated by a tab or ";" (a header line is skipped)."""
    rows: dict[str, tuple[str, str, str, str]] = {}
    problems: list[str] = []
    for lineno, line in enumerate(lines, start=1):
        cells = _cells(line.rstrip("\r\n").lstrip("\ufeff"))
        if not cells:
            continue
        code = cells[0]
        if not (code.isdigit() and len(code) <= 3):
            if lineno == 1:
                continue
            problems.append(f"line {lineno}: {code!r} is not an OKEI code (three digits)")
            continue
        code = code.zfill(3)
        if len(cells) < 3:
            problems.append(f"line {lineno}: {code} needs a name and a short name")
            continue
        if code in rows:
            problems.append(f"line {lineno}: {code} appears twice")
            continue
        short_en = cells[3] if len(cells) > 3 else cells[2]
        rows[code] = (code, cells[1], cells[2], short_en)
    if problems:
        raise TableProblems(problems)
    return list(rows.values())


def write_table(path: Path, header: list[str], rows: Iterable[tuple]) -> None:
    """Write rows in this module's own format (``;``-separated, UTF-8), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\n")
        writer.writerow(header)
        writer.writerows([cell or "" for cell in row] for row in rows)
    partial.replace(path)
