"""canonicalize's fast path (json's C encoder) writes exactly what the JCS writer writes."""

from __future__ import annotations

import random

import pytest

from signatures import canonical

ALPHABET = (
    "aZ09 _-/\\\"'\x00\x01\x08\t\n\x0c\r\x1f\x7f\x80é€\u2028\u2029\ue000\uffff"
    "Ёжик𝄞😀"  # astral characters in values are fine
)


def slow(value: object) -> bytes:
    out: list[str] = []
    canonical._write(value, out)
    return "".join(out).encode("utf-8")


def random_text(rnd: random.Random) -> str:
    return "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(0, 8)))


def random_value(rnd: random.Random, depth: int = 0) -> object:
    kind = rnd.randint(0, 7 if depth < 4 else 4)
    if kind == 0:
        return random_text(rnd)
    if kind == 1:
        return rnd.choice([True, False, None])
    if kind == 2:
        return rnd.choice([0, -1, 7, canonical.MAX_SAFE_INTEGER, -canonical.MAX_SAFE_INTEGER])
    if kind in (3, 4):
        return random_text(rnd)
    if kind == 5:
        return [random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 4))]
    return {random_text(rnd): random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 5))}


def test_fast_path_equals_the_jcs_writer():
    fast = 0
    for seed in range(400):
        value = random_value(random.Random(seed))
        fast += canonical._plain(value)
        assert canonical.canonicalize(value) == slow(value), value
    assert fast > 100  # most of them took the fast path (astral member names do not)


@pytest.mark.parametrize(
    "value",
    [
        {"😀": 1, "\ue000": 2},  # code point and UTF-16 orders differ: the JCS writer decides
        {"n": 1.5},
        {"n": canonical.MAX_SAFE_INTEGER + 1},
        {1: "x"},
    ],
)
def test_values_json_would_write_differently_take_the_jcs_writer(value):
    assert not canonical._plain(value)


def test_astral_member_names_are_ordered_by_utf16():
    # U+1F600 is D83D DE00 in UTF-16: before U+E000, although after it by code point.
    assert canonical.canonicalize({"\ue000": 2, "😀": 1}) == '{"😀":1,"\ue000":2}'.encode()


def test_lone_surrogates_are_refused_on_the_fast_path_too():
    with pytest.raises(ValueError, match="lone surrogate"):
        canonical.canonicalize({"a": "x\ud800"})
