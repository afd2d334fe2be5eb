"""OKPD2 and OKEI classifiers shipped as data (positions/classifiers.py)."""

import csv
import string

import pytest

from positions import classifiers as cl

SECTIONS = list(string.ascii_uppercase[: string.ascii_uppercase.index("U") + 1])

SECTION_RANGES = {
    "A": (1, 3),
    "B": (5, 9),
    "C": (10, 33),
    "D": (35, 35),
    "E": (36, 39),
    "F": (41, 43),
    "G": (45, 47),
    "H": (49, 53),
    "I": (55, 56),
    "J": (58, 63),
    "K": (64, 66),
    "L": (68, 68),
    "M": (69, 75),
    "N": (77, 82),
    "O": (84, 84),
    "P": (85, 85),
    "Q": (86, 88),
    "R": (90, 93),
    "S": (94, 96),
    "T": (97, 98),
    "U": (99, 99),
}

NO_SUCH_CLASS = {"04", "34", "40", "44", "48", "54", "57", "67", "76", "83", "89"}
EXPECTED_CLASSES = {
    f"{n:02d}" for lo, hi in SECTION_RANGES.values() for n in range(lo, hi + 1)
} - NO_SUCH_CLASS

GROUP_CLASSES = [
    "10", "13", "14", "16", "17", "20", "22", "23", "24", "25", "26", "27", "28", "29", "32",
    "33", "41", "42", "43", "45", "46", "49", "58", "62", "63", "68", "71", "72", "77", "80",
    "81", "85", "86",
]  # fmt: skip


def _by_level(level):
    return [c for c in cl.categories() if c.level == level]


# --- OKPD2 data ----------------------------------------------------------------------------


def test_file_is_utf8_semicolon_with_header():
    with (cl.DATA_DIR / cl.OKPD2_NAME).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    assert rows[0] == ["code", "name", "parent"]
    assert rows[1] == ["A", "Продукция сельского, лесного и рыбного хозяйства", ""]
    assert len(rows) - 1 == len(cl.categories())


def test_exactly_21_sections_a_to_u():
    sections = cl.children(None)
    assert [c.code for c in sections] == SECTIONS
    assert [c.code for c in _by_level(0)] == SECTIONS
    assert all(c.parent is None for c in sections)
    assert cl.category("F").name == "Сооружения и строительные работы"


def test_all_classes_present_under_their_section():
    classes = {c.code: c for c in _by_level(1)}
    assert set(classes) == EXPECTED_CLASSES
    assert len(classes) == 88
    for code, item in classes.items():
        lo_hi = [s for s, (lo, hi) in SECTION_RANGES.items() if lo <= int(code) <= hi]
        assert [item.parent] == lo_hi, code


@pytest.mark.parametrize(
    ("code", "section"),
    [
        ("01", "A"),
        ("03", "A"),
        ("05", "B"),
        ("09", "B"),
        ("10", "C"),
        ("33", "C"),
        ("35", "D"),
        ("38", "E"),
        ("41", "F"),
        ("43", "F"),
        ("46", "G"),
        ("49", "H"),
        ("56", "I"),
        ("62", "J"),
        ("64", "K"),
        ("68", "L"),
        ("71", "M"),
        ("81", "N"),
        ("84", "O"),
        ("85", "P"),
        ("86", "Q"),
        ("93", "R"),
        ("95", "S"),
        ("97", "T"),
        ("99", "U"),
    ],
)
def test_class_parent_is_its_section(code, section):
    assert cl.category(code).parent == section
    assert cl.section_of(code) == section


def test_codes_unique_and_every_parent_exists():
    codes = [c.code for c in cl.categories()]
    assert len(codes) == len(set(codes))
    known = set(codes)
    for item in cl.categories():
        if item.level == 0:
            assert item.parent is None
        else:
            assert item.parent in known, item.code
            assert cl.category(item.parent).level == item.level - 1


def test_code_shapes_match_levels():
    for item in cl.categories():
        head, _, tail = item.code.partition(".")
        if item.level == 1:
            assert len(head) == 2 and head.isdigit() and not tail
        elif item.level == 2:
            assert len(tail) == 1 and item.parent == head
        elif item.level == 3:
            assert len(tail) == 2 and item.parent == f"{head}.{tail[0]}"


def test_every_class_has_subclasses_and_main_classes_have_groups():
    for item in _by_level(1):
        assert cl.children(item.code), item.code
    for code in GROUP_CLASSES:
        groups = [c for c in cl.categories() if c.level == 3 and c.code.startswith(code + ".")]
        assert groups, code


def test_volume_and_names():
    assert len(cl.categories()) >= 300
    assert all(c.name and c.name == c.name.strip() for c in cl.categories())
    assert cl.category("23.51").name == "Цемент"
    assert cl.category("62.01").name.startswith("Продукты программные")


def test_categories_are_in_depth_first_tree_order():
    items = cl.categories()
    assert items[0].code == "A" and items[1].code == "01" and items[2].code == "01.1"
    position = {c.code: i for i, c in enumerate(items)}
    for item in items:
        if item.parent is not None:
            assert position[item.parent] < position[item.code]
    sections_in_order = [c.code for c in items if c.level == 0]
    assert sections_in_order == SECTIONS
    # a subtree is one contiguous run
    run = [c.code for c in items[position["25"] : position["25"] + len(cl.subtree_codes("25"))]]
    assert set(run) == cl.subtree_codes("25")
    assert position["25.11"] < position["25.12"] < position["25.2"] < position["26"]


def test_children_and_ancestors():
    assert [c.code for c in cl.children("25.1")] == ["25.11", "25.12"]
    assert [c.code for c in cl.children("25.94")] == ["25.94.1", "25.94.9"]
    assert cl.children("25.94.11.110") == []
    assert cl.children("nope") == []
    assert [c.code for c in cl.ancestors("25.11")] == ["C", "25", "25.1"]
    assert [c.code for c in cl.ancestors("C")] == []
    assert cl.ancestors("nope") == []


def test_subtree_codes():
    sub = cl.subtree_codes("25.12")
    assert {"25.12", "25.12.1", "25.12.10", "25.12.10.121"} <= sub
    assert all(code.startswith("25.12") for code in sub)
    assert "25" not in sub
    section_c = cl.subtree_codes("C")
    assert {"C", "10", "25", "25.11", "33.20"} <= section_c
    assert "41" not in section_c
    assert cl.subtree_codes("nope") == frozenset()
    assert isinstance(sub, frozenset)


def test_is_within():
    assert cl.is_within("25.11", "25")
    assert cl.is_within("25.11", "25.1")
    assert cl.is_within("25.11", "C")
    assert cl.is_within("25.11", "25.11")
    assert cl.is_within("01", "A")
    assert not cl.is_within("25.11", "25.2")
    assert not cl.is_within("25.11", "26")
    assert not cl.is_within("25", "25.11")
    assert not cl.is_within("25.11", "F")
    assert not cl.is_within("nope", "C")
    assert not cl.is_within("25.11", "nope")


def test_the_whole_classifier_is_shipped():
    # real codes users type (issue 19.12) are known, every level down to the nine digits
    assert cl.category("24.10.62").parent == "24.10.6"
    assert cl.category("25.94.11").name.startswith("Изделия крепежные резьбовые")
    assert cl.category("25.11.23.119") is not None
    assert len(cl.categories()) > 20_000
    assert {c.level for c in cl.categories()} == {0, 1, 2, 3, 4, 5, 6}


def test_deeper_codes_resolve_to_nearest_known_ancestor():
    assert cl.category("25.11.23.119.5") is None
    assert cl.is_within("25.11.23.119.5", "25.11")
    assert cl.is_within("25.11.23.119.5", "C")
    assert not cl.is_within("25.11.23.119.5", "25.12")
    assert cl.section_of("25.11.23.119.5") == "C"
    chain = [c.code for c in cl.ancestors("25.11.23.119.5")]
    assert chain == ["C", "25", "25.1", "25.11", "25.11.2", "25.11.23", "25.11.23.119"]
    with pytest.raises(KeyError):
        cl.section_of("not a code")


def test_code_input_is_tolerant():
    assert cl.category(" 25.11 ") == cl.category("25.11")
    assert cl.category("c").code == "C"
    assert cl.category("С").code == "C"  # Cyrillic Es
    assert cl.section_of("f") == "F"


def test_search_by_name_in_russian():
    found = [c.code for c in cl.search_categories("цемент")]
    assert "23.5" in found and "23.51" in found
    assert all("цемент" in cl.category(code).name.lower() for code in found)
    repair = cl.search_categories("ремонт")
    assert "33" in [c.code for c in repair]
    assert [c.code for c in cl.search_categories("РЕМОНТ")] == [c.code for c in repair]


def test_search_several_words_and_word_prefixes():
    found = [c.code for c in cl.search_categories("услуги охран")]
    assert "80.1" in found
    assert [c.code for c in cl.search_categories("металлоконструкции")][:2] == ["25.1", "25.11"]


def test_search_treats_yo_as_ye():
    plain = [c.code for c in cl.search_categories("емкости")]
    assert "25.2" in plain
    assert [c.code for c in cl.search_categories("ёмкости")] == plain
    assert [c.code for c in cl.search_categories("ЁМКОСТИ")] == plain


def test_search_by_code_prefix_and_limit():
    found = [c.code for c in cl.search_categories("25.1")]
    assert found[:3] == ["25.1", "25.11", "25.11.1"] and len(found) == 50
    assert all(code.startswith("25.1") for code in found)
    assert [c.code for c in cl.search_categories("62")][:2] == ["62", "62.0"]
    assert len(cl.search_categories("услуги", limit=5)) == 5
    assert cl.search_categories("") == []
    assert cl.search_categories("   ") == []
    assert cl.search_categories("zzzxq") == []


def test_data_loaded_once():
    assert cl.categories() is cl.categories()
    assert cl.units() is cl.units()


# --- OKEI ----------------------------------------------------------------------------------


def test_units_file_and_codes():
    with (cl.DATA_DIR / cl.OKEI_NAME).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    assert rows[0] == ["code", "name", "short", "short_en"]
    assert len(cl.units()) >= 50
    codes = [u.code for u in cl.units()]
    assert len(codes) == len(set(codes))
    assert all(len(code) == 3 and code.isdigit() for code in codes)
    assert all(u.name and u.short and u.short_en for u in cl.units())


@pytest.mark.parametrize(
    ("code", "name", "short", "short_en"),
    [
        ("796", "Штука", "шт", "pcs"),
        ("166", "Килограмм", "кг", "kg"),
        ("168", "Тонна", "т", "t"),
        ("006", "Метр", "м", "m"),
        ("055", "Квадратный метр", "м2", "m2"),
        ("113", "Кубический метр", "м3", "m3"),
        ("112", "Литр", "л", "l"),
        ("839", "Комплект", "компл", "set"),
        ("778", "Упаковка", "упак", "pack"),
        ("356", "Час", "ч", "h"),
        ("876", "Условная единица", "усл. ед", "unit"),
        ("018", "Погонный метр", "пог. м", "lin m"),
        ("715", "Пара", "пар", "pair"),
        ("625", "Лист", "л.", "sheet"),
        ("704", "Набор", "набор", "kit"),
        ("736", "Рулон", "рул", "roll"),
        ("792", "Человек", "чел", "person"),
        ("359", "Сутки", "сут", "day"),
        ("383", "Рубль", "руб", "RUB"),
        ("233", "Гигакалория", "Гкал", "Gcal"),
        ("245", "Киловатт-час", "кВт.ч", "kWh"),
        ("163", "Грамм", "г", "g"),
        ("111", "Кубический сантиметр", "см3", "cm3"),
        ("004", "Сантиметр", "см", "cm"),
        ("003", "Миллиметр", "мм", "mm"),
        ("008", "Километр", "км", "km"),
        ("059", "Гектар", "га", "ha"),
        ("114", "Тысяча кубических метров", "тыс. м3", "1000 m3"),
        ("868", "Бутылка", "бут", "bottle"),
        ("812", "Ящик", "ящ", "box"),
        ("657", "Изделие", "изд", "item"),
        ("798", "Тысяча штук", "тыс. шт", "1000 pcs"),
    ],
)
def test_common_units(code, name, short, short_en):
    assert cl.unit(code) == cl.Unit(code, name, short, short_en)


def test_unit_by_code_with_or_without_zeros():
    assert cl.unit("796").name == "Штука"
    assert cl.unit("6").code == "006"
    assert cl.unit("006").code == "006"
    assert cl.unit(6).code == "006"
    assert cl.unit("999") is None
    assert cl.unit("шт") is None
    assert cl.unit(None) is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("796", "796"),
        ("6", "006"),
        ("006", "006"),
        ("шт", "796"),
        ("шт.", "796"),
        (" ШТ. ", "796"),
        ("pcs", "796"),
        ("PCS", "796"),
        ("Штука", "796"),
        ("штука", "796"),
        ("kg", "166"),
        ("кг.", "166"),
        ("Килограмм", "166"),
        ("м2", "055"),
        ("пог.м", "018"),
        ("тыс.шт", "798"),
        ("л", "112"),
        ("л.", "625"),
        ("кВт.ч", "245"),
        ("kWh", "245"),
    ],
)
def test_find_unit(text, code):
    found = cl.find_unit(text)
    assert found is not None, text
    assert found.code == code


def test_find_unit_unknown():
    assert cl.find_unit("") is None
    assert cl.find_unit(None) is None
    assert cl.find_unit("попугай") is None
    assert cl.find_unit("12345") is None


# --- loading an official edition ----------------------------------------------------------


SECTION_NAMES = {"C": "Продукция обрабатывающих производств"}


def test_read_okpd2_table_derives_parents_and_sections():
    lines = [
        "Код\tНаименование\n",
        "25 \tИзделия металлические готовые, кроме машин и оборудования\n",
        "25.1\tМеталлоконструкции строительные\n",
        "25.11.23.119\t  Конструкции   прочие\n",  # parent 25.1: the levels between are absent
        "25.11\tМеталлоконструкции строительные и их части\n",
        "\n",
    ]
    rows = cl.read_okpd2_table(lines, SECTION_NAMES)
    assert rows == [
        ("C", "Продукция обрабатывающих производств", None),
        ("25", "Изделия металлические готовые, кроме машин и оборудования", "C"),
        ("25.1", "Металлоконструкции строительные", "25"),
        ("25.11", "Металлоконструкции строительные и их части", "25.1"),
        ("25.11.23.119", "Конструкции прочие", "25.11"),
    ]


def test_read_okpd2_table_reads_its_own_format_and_section_rows():
    lines = ["code;name;parent", "С;Продукция обрабатывающих производств;", "25;Изделия;C"]
    rows = cl.read_okpd2_table(lines, {})
    assert [r[0] for r in rows] == ["C", "25"]


def test_read_okpd2_table_names_every_bad_line():
    lines = ["25;Изделия", "25.x;Плохой код", "25;Дважды", "26.1;Без раздела и класса", "25.2"]
    with pytest.raises(cl.TableProblems) as caught:
        cl.read_okpd2_table(lines, SECTION_NAMES)
    assert caught.value.problems == [
        "line 2: '25.x' is not an OKPD2 code",
        "line 3: 25 appears twice",
        "line 5: 25.2 has no name",
        "26.1: no section or grouping above it in the file",
    ]


def test_read_okei_table():
    lines = ["Код;Наименование;Условное обозначение;Международное", "6;Метр;м;m", "796;Штука;шт"]
    assert cl.read_okei_table(lines) == [("006", "Метр", "м", "m"), ("796", "Штука", "шт", "шт")]
    with pytest.raises(cl.TableProblems, match="line 2: 'x6' is not an OKEI code"):
        cl.read_okei_table(["code;name;short", "x6;Метр;м"])


def test_loaded_directory_takes_precedence(tmp_path):
    rows = cl.read_okpd2_table(["25;Изделия металлические"], SECTION_NAMES)
    cl.write_table(tmp_path / cl.OKPD2_NAME, ["code", "name", "parent"], rows)
    try:
        cl.use_directory(tmp_path)
        assert [c.code for c in cl.categories()] == ["C", "25"]
        assert cl.unit("796") is not None  # no loaded OKEI: the shipped one stays
    finally:
        cl.use_directory(None)
    assert len(cl.categories()) > 20_000
