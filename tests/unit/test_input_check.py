"""The control-character and nesting check of request input, against a plain definition."""

from hypothesis import given
from hypothesis import strategies as st

from core.input_check import MAX_JSON_DEPTH, json_problem, printable, refused_char

REFUSED = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)]
ALLOWED = ["a", "Я", "\t", "\n", "\r", " ", "€", "\u00a0", "\u2028", "😀"]
text = st.text(st.sampled_from(ALLOWED + REFUSED + ["\ud800", "\udfff"]), max_size=6)
documents = st.recursive(
    st.none() | st.booleans() | st.integers() | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=30,
)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)


def _depth(value) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


def _bad(s: str) -> bool:
    return any(c in REFUSED or 0xD800 <= ord(c) <= 0xDFFF for c in s)


@given(documents)
def test_a_problem_is_found_exactly_when_a_string_holds_a_refused_character(doc):
    problem = json_problem(doc, max_depth=1000)
    assert (problem is not None) == any(_bad(s) for s in _strings(doc))
    if problem is not None:
        char = chr(int(problem[1].removeprefix("U+"), 16))
        assert _bad(char) and any(char in s for s in _strings(doc))


@given(documents, st.integers(min_value=1, max_value=6))
def test_nesting_past_the_limit_is_found(doc, limit):
    clean = json_problem(doc, max_depth=1000) is None
    if clean:
        assert (json_problem(doc, max_depth=limit) == ("", "depth")) == (_depth(doc) > limit)


def test_the_limit_counts_containers_from_the_outermost():
    deepest_allowed = [[]]
    for _ in range(MAX_JSON_DEPTH - 2):
        deepest_allowed = [deepest_allowed]
    assert _depth(deepest_allowed) == MAX_JSON_DEPTH
    assert json_problem(deepest_allowed) is None
    assert json_problem([deepest_allowed]) == ("", "depth")


def test_paths_name_the_field_and_messages_stay_printable():
    doc = {"lots": [{"title": "ok"}, {"criteria": [{"options": [{"label": "a\u0000"}]}]}]}
    assert json_problem(doc) == ("lots.1.criteria.0.options.0.label", "U+0000")
    assert refused_char("tab\tnewline\ncr\r") is None
    assert printable("name\u0000\u001b") == "name\\u0000\\u001b"
