"""RFC 8785 canonical JSON: the RFC's own examples, escaping, number forms and refusals."""

import hashlib
import json
import struct
from decimal import Decimal

import pytest

from signatures.canonical import (
    MAX_SAFE_INTEGER,
    canonicalize,
    digest,
    digest_hex,
    format_number,
    parse_json,
)


def double(bits: str) -> float:
    """The IEEE-754 double with the given 16 hex digits."""
    return struct.unpack(">d", bytes.fromhex(bits))[0]


# RFC 8785 Appendix B: every finite row of the table.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), APPENDIX_B)
def test_appendix_b_numbers(bits, expected):
    assert format_number(double(bits)) == expected
    assert canonicalize([double(bits)]) == f"[{expected}]".encode()


def test_appendix_b_nan_and_infinity_are_refused():
    for bits in ("7fffffffffffffff", "7ff0000000000000", "fff0000000000000"):
        with pytest.raises(ValueError, match="not a JSON number"):
            canonicalize({"n": double(bits)})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (123e-20, "1.23e-18"),
        (-0.0, "0"),
        (0.1, "0.1"),
        (0.1 + 0.2, "0.30000000000000004"),
        (4.5, "4.5"),
        (2.0, "2"),
        (-1.5e300, "-1.5e+300"),
        (1234.5, "1234.5"),
        (0, "0"),
        (-7, "-7"),
        (MAX_SAFE_INTEGER, "9007199254740991"),
        (-MAX_SAFE_INTEGER, "-9007199254740991"),
    ],
)
def test_number_forms(value, expected):
    assert canonicalize(value) == expected.encode()


def test_sorting_example_of_section_3_2_3():
    # The RFC writes the emoji key as the surrogate pair \ud83d\ude00; parsing the JSON text
    # joins the pair into one character, as a JSON parser must.
    source = (
        '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", '
        '"\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", '
        '"\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", '
        '"\\u00f6": "Latin Small Letter O With Diaeresis"}'
    )
    value = parse_json(source)
    values = list(json.loads(canonicalize(value)).values())
    assert values == [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]
    assert canonicalize(value) == (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    ).encode("utf-8")


def test_keys_sort_by_utf16_code_units_not_code_points():
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FB33; by code point it would not.
    assert canonicalize({"\ufb33": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\ufb33":1}'.encode()
    assert sorted(["\ufb33", "\U0001f600"]) == ["\ufb33", "\U0001f600"]


STRUCTURES_INPUT = """{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
  "literals": [null, true, false]
}"""

# Section 3.2.4: the UTF-8 bytes of the canonical form of the example above.
STRUCTURES_HEX = """
7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72
75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a
5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31
65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37
5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30
30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d
"""


def test_structures_example_exact_bytes():
    result = canonicalize(parse_json(STRUCTURES_INPUT))
    assert result == bytes.fromhex(STRUCTURES_HEX)
    assert result == (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode("utf-8")


def test_unicode_is_written_as_utf8_not_escaped():
    value = {"name": "Поставка кабеля ВВГнг 3×2,5 — €, 😀"}
    assert canonicalize(value) == '{"name":"Поставка кабеля ВВГнг 3×2,5 — €, 😀"}'.encode()


def test_control_characters_and_quotes():
    text = "".join(chr(i) for i in range(0x20)) + '"\\/\x7f'
    expected = (
        '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r'
        "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018"
        '\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\\"\\\\/\x7f"'
    )
    assert canonicalize(text) == expected.encode()


def test_nested_structures_and_tuples():
    value = {"z": (1, [True, None]), "a": {"y": "", "b": []}, "m": {}}
    assert canonicalize(value) == b'{"a":{"b":[],"y":""},"m":{},"z":[1,[true,null]]}'


def test_digest_is_sha256_of_canonical_bytes():
    value = {"b": 1, "a": "x"}
    expected = hashlib.sha256(b'{"a":"x","b":1}')
    assert digest(value) == expected.digest()
    assert digest_hex(value) == expected.hexdigest()
    assert digest_hex({"a": "x", "b": 1}) == digest_hex(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_nan_and_infinity_refused(value):
    with pytest.raises(ValueError, match="not a JSON number"):
        canonicalize([value])


def test_decimal_refused_with_a_hint():
    with pytest.raises(ValueError, match="Decimal 1234.50 is not accepted.*strings"):
        canonicalize({"price": Decimal("1234.50")})


def test_integers_beyond_the_safe_range_refused():
    with pytest.raises(ValueError, match="send it as a string"):
        canonicalize(2**53)
    with pytest.raises(ValueError, match="send it as a string"):
        canonicalize(-(2**53))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({1: "x"}, "keys must be strings"),
        (b"bytes", "bytes is not a JSON value"),
        ({"s": {1, 2}}, "set is not a JSON value"),
        ("a\ud800b", "lone surrogate"),
        ({"\udc00": 1}, "lone surrogate"),
    ],
)
def test_other_values_refused(value, message):
    with pytest.raises(ValueError, match=message):
        canonicalize(value)


def test_parse_json_refuses_duplicates_and_constants():
    with pytest.raises(ValueError, match="appears twice"):
        parse_json('{"a": 1, "a": 2}')
    with pytest.raises(ValueError, match="NaN is not a JSON number"):
        parse_json('{"a": NaN}')
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_json("{'a': 1}")


def test_parsing_then_canonicalizing_is_idempotent():
    text = '{ "b" : [ 1.0, -0, 2e2 ], "a" : "\\u00e9\\t" }'
    once = canonicalize(parse_json(text))
    assert once == '{"a":"é\\t","b":[1,0,200]}'.encode()
    assert canonicalize(parse_json(once)) == once
