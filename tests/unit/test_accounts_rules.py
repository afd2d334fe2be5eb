"""Unit tests for accounts.rules and accounts.regions (pure domain rules, no Flask)."""

from __future__ import annotations

import dataclasses

import pytest

from accounts import rules
from accounts.regions import REGIONS, REGIONS_BY_CODE, Region, region_name
from accounts.rules import (
    RuleViolation,
    check_inn,
    check_kpp,
    check_ogrn,
    check_org_identifiers,
    lockout_seconds,
    password_problems,
)

# --- Reference data -------------------------------------------------------------------------

# Real legal entities: (name, INN, OGRN). Public registry data.
REAL_COMPANIES = [
    ("Sberbank", "7707083893", "1027700132195"),
    ("Gazprom", "7736050003", "1027700070518"),
    ("Yandex", "7736207543", "1027700229193"),
    ("VTB Bank", "7702070139", "1027739609391"),
    ("Alfa-Bank", "7728168971", "1027700067328"),
    ("Rostelecom", "7707049388", "1027700198767"),
    ("T-Bank", "7710140679", "1027739642281"),
]

# A 12-digit INN of an individual (widely used example from FNS documentation):
#   control 1: 5*7+0*2+0*4+1*10+0*3+0*5+7*9+3*4+2*6+2*8 = 148; 148 % 11 = 5 -> "5"
#   control 2: 5*3+0*7+0*2+1*4+0*10+0*3+7*5+3*9+2*4+2*6+5*8 = 141; 141 % 11 = 9 -> "9"
VALID_INN_12 = "500100732259"

# A 15-digit OGRNIP: 30450011600015 % 13 = 7 -> control digit "7".
VALID_OGRNIP = "304500116000157"


def _reference_inn_controls(prefix: str, weight_rows: list[list[int]]) -> str:
    """Independent re-implementation used to build synthetic test numbers."""
    digits = prefix
    for weights in weight_rows:
        total = 0
        for position, weight in enumerate(weights):
            total += int(digits[position]) * weight
        digits += str(total % 11 % 10)
    return digits


def _make_inn10(prefix9: str) -> str:
    return _reference_inn_controls(prefix9, [[2, 4, 10, 3, 5, 9, 4, 6, 8]])


def _make_inn12(prefix10: str) -> str:
    return _reference_inn_controls(
        prefix10, [[7, 2, 4, 10, 3, 5, 9, 4, 6, 8], [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]]
    )


def _make_ogrn(prefix12: str) -> str:
    return prefix12 + str(int(prefix12) % 11 % 10)


def _make_ogrnip(prefix14: str) -> str:
    return prefix14 + str(int(prefix14) % 13 % 10)


def _replace_digit(value: str, index: int, new_digit: str) -> str:
    assert value[index] != new_digit
    return value[:index] + new_digit + value[index + 1 :]


def test_reference_helpers_agree_with_hand_computed_values() -> None:
    assert _make_inn10("770708389") == "7707083893"  # Sberbank
    assert _make_inn12("5001007322") == VALID_INN_12
    assert _make_ogrn("102770013219") == "1027700132195"  # Sberbank
    assert _make_ogrnip("30450011600015") == VALID_OGRNIP


# --- RuleViolation --------------------------------------------------------------------------


def test_rule_violation_is_a_value_error_with_a_sentence() -> None:
    with pytest.raises(ValueError) as excinfo:
        check_inn("123")
    assert isinstance(excinfo.value, RuleViolation)
    message = str(excinfo.value)
    assert message[0].isupper()
    assert message.endswith(".")


# --- INN ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "inn", "ogrn"), REAL_COMPANIES)
def test_check_inn_accepts_real_company_inns(name: str, inn: str, ogrn: str) -> None:
    assert check_inn(inn) == inn


def test_check_inn_accepts_valid_12_digit_inn() -> None:
    assert check_inn(VALID_INN_12) == VALID_INN_12


def test_check_inn_strips_surrounding_whitespace() -> None:
    assert check_inn("  7707083893\n") == "7707083893"
    assert check_inn("\t500100732259 ") == VALID_INN_12


def test_check_inn_accepts_control_digit_zero_from_remainder_ten() -> None:
    # Weighted sum of 770000007 is 7*2 + 7*4 + 7*8 = 98; 98 % 11 = 10 must map to "0".
    prefix = "770000007"
    total = sum(int(d) * w for d, w in zip(prefix, [2, 4, 10, 3, 5, 9, 4, 6, 8]))
    assert total % 11 == 10
    assert check_inn(prefix + "0") == prefix + "0"
    with pytest.raises(RuleViolation, match="checksum"):
        check_inn(prefix + "1")


@pytest.mark.parametrize(
    "prefix", ["770708389", "500100732", "123456789", "000000000", "999999999"]
)
def test_check_inn_accepts_synthetic_10_digit_numbers(prefix: str) -> None:
    inn = _make_inn10(prefix)
    assert check_inn(inn) == inn


@pytest.mark.parametrize("prefix", ["5001007322", "7743013902", "1234567890", "0000000001"])
def test_check_inn_accepts_synthetic_12_digit_numbers(prefix: str) -> None:
    inn = _make_inn12(prefix)
    assert check_inn(inn) == inn


@pytest.mark.parametrize(
    "bad_inn",
    [
        "7707083894",  # Sberbank, control digit changed
        "7707083393",  # Sberbank, 8th digit changed
        "7736050004",  # Gazprom, control digit changed
        "8736207543",  # Yandex, first digit changed
        "500100732258",  # 12-digit, second control digit changed
        "500100732249",  # 12-digit, first control digit changed
        "500100732269",  # 12-digit, first control digit changed (other direction)
        "600100732259",  # 12-digit, first digit changed
    ],
)
def test_check_inn_rejects_wrong_checksum(bad_inn: str) -> None:
    with pytest.raises(RuleViolation, match="checksum"):
        check_inn(bad_inn)


@pytest.mark.parametrize("bad_inn", ["", "   ", "1", "770708389", "77070838931", "7707083893123"])
def test_check_inn_rejects_wrong_length(bad_inn: str) -> None:
    with pytest.raises(RuleViolation) as excinfo:
        check_inn(bad_inn)
    assert "checksum" not in str(excinfo.value)


def test_check_inn_length_message_mentions_both_lengths() -> None:
    with pytest.raises(RuleViolation) as excinfo:
        check_inn("12345")
    message = str(excinfo.value)
    assert "10 digits" in message
    assert "12 digits" in message


@pytest.mark.parametrize(
    "bad_inn",
    [
        "77070838A3",  # letter in a 10-character value
        "7707-83893",  # punctuation
        "77070 8389",  # inner space
        "50010073225O",  # letter O instead of zero, 12 characters
        "７７０７０８３８９３",  # full-width digits
        "٧٧٠٧٠٨٣٨٩٣",  # Arabic-Indic digits (str.isdigit() would accept them)
    ],
)
def test_check_inn_rejects_non_digits(bad_inn: str) -> None:
    with pytest.raises(RuleViolation) as excinfo:
        check_inn(bad_inn)
    assert "checksum" not in str(excinfo.value)
    assert "digits" in str(excinfo.value)


def test_check_inn_messages_are_distinct() -> None:
    messages = set()
    for value in ("123", "77070838A3", "7707083894"):
        with pytest.raises(RuleViolation) as excinfo:
            check_inn(value)
        messages.add(str(excinfo.value))
    assert len(messages) == 3


# --- KPP ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kpp",
    [
        "773601001",  # Sberbank
        "997250001",  # Gazprom (largest taxpayer inspectorate code 99)
        "770401001",
        "7736AB001",
        "77360Z001",
    ],
)
def test_check_kpp_accepts_valid_formats(kpp: str) -> None:
    assert check_kpp(kpp) == kpp


def test_check_kpp_upper_cases_and_strips() -> None:
    assert check_kpp(" 7736ab001 ") == "7736AB001"


@pytest.mark.parametrize(
    "bad_kpp",
    [
        "",
        "77360100",  # 8 characters
        "7736010011",  # 10 characters
        "A73601001",  # letter in the first block
        "7736010A1",  # letter in the last block
        "7736АБ001",  # Cyrillic letters in the reason block
        "7736-1001",
        "7736 1001",
    ],
)
def test_check_kpp_rejects_bad_formats(bad_kpp: str) -> None:
    with pytest.raises(RuleViolation):
        check_kpp(bad_kpp)


# --- OGRN -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "inn", "ogrn"), REAL_COMPANIES)
def test_check_ogrn_accepts_real_company_ogrns(name: str, inn: str, ogrn: str) -> None:
    assert check_ogrn(ogrn) == ogrn


def test_check_ogrn_accepts_valid_ogrnip_and_strips() -> None:
    assert check_ogrn(VALID_OGRNIP) == VALID_OGRNIP
    assert check_ogrn(f"  {VALID_OGRNIP} ") == VALID_OGRNIP


def test_check_ogrn_remainder_ten_maps_to_zero() -> None:
    prefix = next(str(n) for n in range(102770000000, 102770001000) if n % 11 == 10)
    assert check_ogrn(prefix + "0") == prefix + "0"
    with pytest.raises(RuleViolation, match="checksum"):
        check_ogrn(prefix + "1")


def test_check_ogrnip_remainder_above_nine_uses_last_digit() -> None:
    prefix = next(str(n) for n in range(30477000000000, 30477000001000) if n % 13 == 12)
    assert check_ogrn(prefix + "2") == prefix + "2"
    with pytest.raises(RuleViolation, match="checksum"):
        check_ogrn(prefix + "1")


@pytest.mark.parametrize(
    "bad_ogrn",
    [
        "1027700132196",  # Sberbank, control digit changed
        "1027700132185",  # Sberbank, 12th digit changed
        "1027700070519",  # Gazprom, control digit changed
        "304500116000158",  # OGRNIP, control digit changed
        "304500116000167",  # OGRNIP, 14th digit changed
    ],
)
def test_check_ogrn_rejects_wrong_checksum(bad_ogrn: str) -> None:
    with pytest.raises(RuleViolation, match="checksum"):
        check_ogrn(bad_ogrn)


@pytest.mark.parametrize(
    "bad_ogrn", ["", "102770013219", "10277001321950", "3045001160001570", "12345"]
)
def test_check_ogrn_rejects_wrong_length(bad_ogrn: str) -> None:
    with pytest.raises(RuleViolation) as excinfo:
        check_ogrn(bad_ogrn)
    assert "checksum" not in str(excinfo.value)


@pytest.mark.parametrize("bad_ogrn", ["10277001321A5", "3045001160001-7", "1027700 132195"])
def test_check_ogrn_rejects_non_digits(bad_ogrn: str) -> None:
    with pytest.raises(RuleViolation) as excinfo:
        check_ogrn(bad_ogrn)
    assert "checksum" not in str(excinfo.value)


# --- check_org_identifiers ------------------------------------------------------------------


def test_org_identifiers_valid_organization() -> None:
    assert check_org_identifiers("7707083893", "773601001", "1027700132195") == {}


def test_org_identifiers_valid_organization_without_ogrn() -> None:
    assert check_org_identifiers("7736207543", "770401001", None) == {}
    assert check_org_identifiers("7736207543", "770401001", "") == {}
    assert check_org_identifiers("7736207543", "770401001", "   ") == {}


def test_org_identifiers_accepts_lower_case_kpp_and_whitespace() -> None:
    assert check_org_identifiers(" 7707083893 ", " 7736ab001 ", " 1027700132195 ") == {}


def test_org_identifiers_valid_entrepreneur() -> None:
    assert check_org_identifiers(VALID_INN_12, None, VALID_OGRNIP) == {}
    assert check_org_identifiers(VALID_INN_12, "", None) == {}
    assert check_org_identifiers(VALID_INN_12, "  ", "") == {}


def test_org_identifiers_organization_requires_kpp() -> None:
    errors = check_org_identifiers("7707083893", None, "1027700132195")
    assert set(errors) == {"kpp"}
    assert "KPP" in errors["kpp"]
    assert set(check_org_identifiers("7707083893", "  ", None)) == {"kpp"}


def test_org_identifiers_entrepreneur_must_not_have_kpp() -> None:
    errors = check_org_identifiers(VALID_INN_12, "773601001", None)
    assert set(errors) == {"kpp"}
    assert "KPP" in errors["kpp"]


def test_org_identifiers_organization_rejects_ogrnip() -> None:
    errors = check_org_identifiers("7707083893", "773601001", VALID_OGRNIP)
    assert set(errors) == {"ogrn"}
    assert "13" in errors["ogrn"]


def test_org_identifiers_entrepreneur_rejects_13_digit_ogrn() -> None:
    errors = check_org_identifiers(VALID_INN_12, None, "1027700132195")
    assert set(errors) == {"ogrn"}
    assert "15" in errors["ogrn"]


def test_org_identifiers_reports_bad_kpp_format() -> None:
    errors = check_org_identifiers("7707083893", "77360100X", "1027700132195")
    assert set(errors) == {"kpp"}
    assert errors["kpp"] == _violation(check_kpp, "77360100X")


def test_org_identifiers_reports_bad_ogrn_checksum() -> None:
    errors = check_org_identifiers("7707083893", "773601001", "1027700132196")
    assert set(errors) == {"ogrn"}
    assert "checksum" in errors["ogrn"]


def test_org_identifiers_reports_all_problems_at_once() -> None:
    errors = check_org_identifiers("7707083894", None, "1027700132196")
    assert set(errors) == {"inn", "kpp", "ogrn"}
    assert "checksum" in errors["inn"]
    assert "checksum" in errors["ogrn"]


def test_org_identifiers_bad_checksum_inn_still_checks_kind_rules() -> None:
    # The INN is 12 digits with a wrong checksum: still an entrepreneur-shaped value.
    errors = check_org_identifiers("500100732258", "773601001", "1027700132195")
    assert set(errors) == {"inn", "kpp", "ogrn"}
    assert "15" in errors["ogrn"]


def test_org_identifiers_unparseable_inn_validates_other_fields_on_their_own() -> None:
    assert set(check_org_identifiers("12345", "773601001", "1027700132195")) == {"inn"}
    assert set(check_org_identifiers("", None, None)) == {"inn"}
    errors = check_org_identifiers("abc", "bad", "123")
    assert set(errors) == {"inn", "kpp", "ogrn"}


def test_org_identifiers_inn_message_matches_check_inn() -> None:
    errors = check_org_identifiers("12345", "773601001", None)
    assert errors["inn"] == _violation(check_inn, "12345")


def _violation(func: object, value: str) -> str:
    with pytest.raises(RuleViolation) as excinfo:
        func(value)  # type: ignore[operator]
    return str(excinfo.value)


# --- Passwords ------------------------------------------------------------------------------


def test_password_strong_has_no_problems() -> None:
    assert password_problems("Correct-Horse-Battery-9", "ivan.petrov@example.ru") == []
    assert password_problems("tender2024!Bid") == []


def test_password_exact_length_boundaries() -> None:
    assert password_problems("abcdefghi") == [rules.PASSWORD_TOO_SHORT_MESSAGE]
    assert password_problems("abcdefghij") == []
    assert password_problems("abcdefghij" * 12 + "abcdefgh") == []  # 128 characters
    assert password_problems("abcdefghij" * 12 + "abcdefghi") == [rules.PASSWORD_TOO_LONG_MESSAGE]


def test_password_digits_only() -> None:
    problems = password_problems("3141592653589")
    assert problems == [rules.PASSWORD_DIGITS_ONLY_MESSAGE]
    assert password_problems("3141592653589x") == []


def test_password_containing_email_local_part_case_insensitive() -> None:
    problems = password_problems("MyIvan.Petrov2024!", "ivan.petrov@example.ru")
    assert problems == [rules.PASSWORD_CONTAINS_EMAIL_MESSAGE]
    assert "email" in problems[0]


def test_password_short_email_local_part_is_ignored() -> None:
    assert password_problems("xyz-tender-2024", "yz@example.ru") == []
    assert password_problems("xyz-tender-2024", "xyz@example.ru") == [
        rules.PASSWORD_CONTAINS_EMAIL_MESSAGE
    ]


def test_password_email_without_at_sign_or_empty_is_ignored() -> None:
    assert password_problems("tender2024!Bid", "") == []
    assert password_problems("tender2024!Bid", "tender") == []


def test_password_domain_part_is_not_treated_as_local_part() -> None:
    assert password_problems("example-ru-2024!", "ivan@example.ru") == []


@pytest.mark.parametrize("common", ["qwertyuiop", "QwErTyUiOp", "Password123", "1q2w3e4r5t"])
def test_password_common_passwords_rejected_case_insensitive(common: str) -> None:
    assert rules.PASSWORD_COMMON_MESSAGE in password_problems(common)


def test_common_password_list_is_small_and_lower_case() -> None:
    assert 25 <= len(rules.COMMON_PASSWORDS) <= 40
    assert all(p == p.casefold() for p in rules.COMMON_PASSWORDS)


def test_password_few_distinct_characters() -> None:
    assert password_problems("abababababab") == [rules.PASSWORD_FEW_DISTINCT_MESSAGE]
    assert password_problems("abcdabcdabcd") == [rules.PASSWORD_FEW_DISTINCT_MESSAGE]
    assert password_problems("abcdeabcdeab") == []


def test_password_reports_every_problem_at_once() -> None:
    problems = password_problems("1111", "1111@example.ru")
    assert problems == [
        rules.PASSWORD_TOO_SHORT_MESSAGE,
        rules.PASSWORD_DIGITS_ONLY_MESSAGE,
        rules.PASSWORD_CONTAINS_EMAIL_MESSAGE,
        rules.PASSWORD_FEW_DISTINCT_MESSAGE,
    ]


def test_password_common_and_digits_only_together() -> None:
    problems = password_problems("1234567890")
    assert rules.PASSWORD_DIGITS_ONLY_MESSAGE in problems
    assert rules.PASSWORD_COMMON_MESSAGE in problems
    assert rules.PASSWORD_TOO_SHORT_MESSAGE not in problems


def test_password_empty() -> None:
    problems = password_problems("")
    assert rules.PASSWORD_TOO_SHORT_MESSAGE in problems
    assert rules.PASSWORD_FEW_DISTINCT_MESSAGE in problems


def test_password_messages_are_sentences() -> None:
    for message in password_problems("1111", "1111@example.ru") + password_problems("x" * 200):
        assert message[0].isupper()
        assert message.endswith(".")


# --- Lockout --------------------------------------------------------------------------------


def test_lockout_zero_below_threshold() -> None:
    assert lockout_seconds(0, 5) == 0
    assert lockout_seconds(4, 5) == 0


def test_lockout_exponential_backoff() -> None:
    assert [lockout_seconds(n, 5) for n in range(5, 12)] == [30, 60, 120, 240, 480, 960, 1920]


def test_lockout_is_capped() -> None:
    assert lockout_seconds(12, 5) == 3600  # 30 * 128 = 3840 > 3600
    assert lockout_seconds(50, 5) == 3600
    assert lockout_seconds(10**9, 5) == 3600  # must not build a gigantic integer


def test_lockout_custom_base_and_cap() -> None:
    assert lockout_seconds(3, 3, base_seconds=10, cap_seconds=100) == 10
    assert lockout_seconds(6, 3, base_seconds=10, cap_seconds=100) == 80
    assert lockout_seconds(7, 3, base_seconds=10, cap_seconds=100) == 100
    assert lockout_seconds(1, 1, base_seconds=500, cap_seconds=100) == 100


def test_lockout_never_decreases_as_failures_grow() -> None:
    values = [lockout_seconds(n, 3) for n in range(40)]
    assert values == sorted(values)
    assert max(values) == 3600


def test_lockout_rejects_nonsense_arguments() -> None:
    with pytest.raises(ValueError):
        lockout_seconds(1, 0)
    with pytest.raises(ValueError):
        lockout_seconds(1, 1, base_seconds=-1)


# --- Regions --------------------------------------------------------------------------------


def test_there_are_exactly_89_regions_with_unique_codes() -> None:
    assert len(REGIONS) == 89
    codes = [region.code for region in REGIONS]
    assert len(set(codes)) == 89
    assert len(REGIONS_BY_CODE) == 89


def test_regions_ordered_by_two_digit_code() -> None:
    codes = [region.code for region in REGIONS]
    assert codes == sorted(codes)
    assert all(len(code) == 2 and code.isascii() and code.isdigit() for code in codes)


def test_region_code_set_is_exactly_the_fns_subject_codes() -> None:
    expected = {f"{n:02d}" for n in range(1, 80)} | {"83", "86", "87", "89"}
    expected |= {"90", "91", "92", "93", "94", "95"}
    assert {region.code for region in REGIONS} == expected


def test_regions_have_unique_non_empty_names() -> None:
    assert all(region.name.strip() and region.name_en.strip() for region in REGIONS)
    assert len({region.name for region in REGIONS}) == 89
    assert len({region.name_en for region in REGIONS}) == 89


@pytest.mark.parametrize(
    ("code", "name", "name_en"),
    [
        ("01", "Республика Адыгея", "Republic of Adygea"),
        ("16", "Республика Татарстан", "Republic of Tatarstan"),
        ("50", "Московская область", "Moscow Oblast"),
        ("59", "Пермский край", "Perm Krai"),
        ("75", "Забайкальский край", "Zabaykalsky Krai"),
        ("77", "Москва", "Moscow"),
        ("78", "Санкт-Петербург", "Saint Petersburg"),
        ("79", "Еврейская автономная область", "Jewish Autonomous Oblast"),
        ("83", "Ненецкий автономный округ", "Nenets Autonomous Okrug"),
        ("87", "Чукотский автономный округ", "Chukotka Autonomous Okrug"),
        ("89", "Ямало-Ненецкий автономный округ", "Yamalo-Nenets Autonomous Okrug"),
        ("90", "Запорожская область", "Zaporozhye Oblast"),
        ("91", "Республика Крым", "Republic of Crimea"),
        ("92", "Севастополь", "Sevastopol"),
        ("93", "Донецкая Народная Республика", "Donetsk People's Republic"),
        ("94", "Луганская Народная Республика", "Luhansk People's Republic"),
        ("95", "Херсонская область", "Kherson Oblast"),
    ],
)
def test_region_spot_checks(code: str, name: str, name_en: str) -> None:
    assert REGIONS_BY_CODE[code] == Region(code, name, name_en)
    assert region_name(code) == name


def test_khmao_is_86() -> None:
    assert REGIONS_BY_CODE["86"].name.startswith("Ханты-Мансийский автономный округ")
    assert "Югра" in REGIONS_BY_CODE["86"].name


@pytest.mark.parametrize("code", ["00", "80", "81", "82", "84", "85", "88", "96", "99", ""])
def test_region_name_unknown_codes(code: str) -> None:
    assert region_name(code) is None


def test_region_name_tolerates_whitespace_and_single_digit() -> None:
    assert region_name(" 77 ") == "Москва"
    assert region_name("2") == "Республика Башкортостан"


def test_region_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        REGIONS[0].name = "x"  # type: ignore[misc]


@pytest.mark.parametrize(("name", "inn", "ogrn"), REAL_COMPANIES)
def test_real_company_inns_map_to_moscow(name: str, inn: str, ogrn: str) -> None:
    assert region_name(inn[:2]) == "Москва"


def test_ogrnip_and_inn12_region_prefixes_resolve() -> None:
    assert region_name(VALID_INN_12[:2]) == "Московская область"
    assert region_name(VALID_OGRNIP[3:5]) == "Московская область"


# --- Which profile changes need the operator's review ----------------------------------------

PROFILE = {
    "name": "OOO Romashka",
    "kpp": "501201001",
    "ogrn": "1025000123422",
    "region_code": "50",
    "is_sme": False,
    "roles": ["supplier"],
}


@pytest.mark.parametrize("status", ["pending", "rejected"])
def test_before_accreditation_every_change_applies_at_once(status):
    wanted = {"name": "OOO Lyutik", "roles": ["customer", "supplier"], "is_sme": True}
    assert rules.split_for_review(status, PROFILE, wanted) == (wanted, {})


@pytest.mark.parametrize("status", ["accredited", "blocked"])
@pytest.mark.parametrize(
    "field,value",
    [
        ("name", "OOO Lyutik"),
        ("kpp", "501202001"),
        ("ogrn", "1027700132195"),
        ("ogrn", None),
        ("region_code", "77"),
        ("roles", ["customer", "supplier"]),
        ("roles", ["customer"]),  # a swap widens too
        ("is_sme", True),
    ],
)
def test_identity_and_widened_rights_wait_for_review(status, field, value):
    assert rules.split_for_review(status, PROFILE, {field: value}) == ({}, {field: value})


def test_narrowing_applies_at_once_after_accreditation():
    current = {**PROFILE, "is_sme": True, "roles": ["customer", "supplier"]}
    wanted = {"is_sme": False, "roles": ["supplier"], "name": "OOO Lyutik"}
    now, later = rules.split_for_review("accredited", current, wanted)
    assert now == {"is_sme": False, "roles": ["supplier"]}
    assert later == {"name": "OOO Lyutik"}


def test_unchanged_and_unknown_fields_are_neither_applied_nor_reviewed():
    wanted = {**PROFILE, "inn": "7707083893", "accreditation_status": "accredited"}
    assert rules.split_for_review("accredited", PROFILE, wanted) == ({}, {})


def test_merge_pending_replaces_named_fields_and_keeps_the_others():
    pending = {"name": "OOO Lyutik", "region_code": "77"}
    merged = rules.merge_pending(pending, {"name", "kpp"}, {"kpp": "501202001"})
    assert merged == {"region_code": "77", "kpp": "501202001"}  # name set back: dropped
    assert rules.merge_pending(pending, {"is_sme"}, {}) == pending
    assert rules.merge_pending(pending, set(rules.PROFILE_FIELDS), {}) == {}


# --- Roles of members -------------------------------------------------------------


@pytest.mark.parametrize(
    "roles, allowed",
    [
        (["administrator"], {"administer", "see_all"}),
        (["manager"], {"see_all", "prepare", "approve", "sign"}),
        (["specialist"], {"prepare", "sign"}),
        (["observer"], {"see_all"}),
        (["administrator", "specialist"], {"administer", "see_all", "prepare", "sign"}),
        ([], set()),
    ],
)
def test_rights_follow_roles(roles, allowed):
    assert {r for r in rules.RIGHTS if rules.may(roles, r)} == allowed


def test_a_specialist_sees_only_what_they_are_responsible_for():
    assert rules.sees(["specialist"], {7, 9}, 7)
    assert not rules.sees(["specialist"], {9}, 7)
    assert rules.sees(["observer"], set(), 7)


def test_roles_are_checked_and_sorted():
    assert rules.check_roles(["specialist", " manager", "specialist"]) == ["manager", "specialist"]
    with pytest.raises(ValueError, match="at least one"):
        rules.check_roles(["", " "])
    with pytest.raises(ValueError, match="Unknown role: boss"):
        rules.check_roles(["boss"])


@pytest.mark.parametrize(
    "roles, right, responsible, allowed",
    [
        (["manager"], "prepare", 9, True),  # a manager: every tender
        (["specialist"], "prepare", 7, True),  # its own
        (["specialist"], "prepare", 9, False),  # someone else's
        (["specialist"], "prepare", None, True),  # a new one
        (["specialist"], "sign", 9, False),
        (["observer"], "prepare", 7, False),  # never, not even its own
        (["administrator"], "sign", None, False),
        (["administrator", "specialist"], "prepare", 9, False),  # administering is not managing
        (["manager"], "administer", None, False),
    ],
)
def test_a_specialist_acts_only_on_what_it_is_responsible_for(roles, right, responsible, allowed):
    assert rules.acts_on(roles, right, responsible, 7) is allowed


def test_the_last_administrator_keeps_the_role():
    last = rules.roles_change_problem(["administrator", "manager"], ["manager"], 1)
    assert last == rules.LAST_ADMINISTRATOR_MESSAGE
    assert rules.roles_change_problem(["administrator"], ["manager"], 2) is None
    assert rules.roles_change_problem(["specialist"], ["observer"], 1) is None
    assert rules.roles_change_problem(["administrator"], ["administrator", "observer"], 1) is None
