"""The 89 federal subjects of the Russian Federation keyed by their FNS two-digit codes."""

from __future__ import annotations

from dataclasses import dataclass

from core.formats import register_regions

__all__ = ["REGIONS", "REGIONS_BY_CODE", "Region", "find_region", "region_name"]


@dataclass(frozen=True)
class Region:
    """A federal subject: FNS code (first two digits of INN/KPP), Russian and English name."""

    code: str
    name: str
    name_en: str


# Codes 80, 81, 82, 84, 85 and 88 belonged to autonomous okrugs merged into other subjects
# in 2005-2008 and are no longer used for subjects. Code 99 (used by FNS for interregional
# inspectorates, e.g. in KPPs of the largest taxpayers, and for Baikonur) is not a subject.
REGIONS: tuple[Region, ...] = (
    Region("01", "Республика Адыгея", "Republic of Adygea"),
    Region("02", "Республика Башкортостан", "Republic of Bashkortostan"),
    Region("03", "Республика Бурятия", "Republic of Buryatia"),
    Region("04", "Республика Алтай", "Altai Republic"),
    Region("05", "Республика Дагестан", "Republic of Dagestan"),
    Region("06", "Республика Ингушетия", "Republic of Ingushetia"),
    Region("07", "Кабардино-Балкарская Республика", "Kabardino-Balkarian Republic"),
    Region("08", "Республика Калмыкия", "Republic of Kalmykia"),
    Region("09", "Карачаево-Черкесская Республика", "Karachay-Cherkess Republic"),
    Region("10", "Республика Карелия", "Republic of Karelia"),
    Region("11", "Республика Коми", "Komi Republic"),
    Region("12", "Республика Марий Эл", "Mari El Republic"),
    Region("13", "Республика Мордовия", "Republic of Mordovia"),
    Region("14", "Республика Саха (Якутия)", "Sakha (Yakutia) Republic"),
    Region("15", "Республика Северная Осетия – Алания", "Republic of North Ossetia–Alania"),
    Region("16", "Республика Татарстан", "Republic of Tatarstan"),
    Region("17", "Республика Тыва", "Tuva Republic"),
    Region("18", "Удмуртская Республика", "Udmurt Republic"),
    Region("19", "Республика Хакасия", "Republic of Khakassia"),
    Region("20", "Чеченская Республика", "Chechen Republic"),
    Region("21", "Чувашская Республика – Чувашия", "Chuvash Republic"),
    Region("22", "Алтайский край", "Altai Krai"),
    Region("23", "Краснодарский край", "Krasnodar Krai"),
    Region("24", "Красноярский край", "Krasnoyarsk Krai"),
    Region("25", "Приморский край", "Primorsky Krai"),
    Region("26", "Ставропольский край", "Stavropol Krai"),
    Region("27", "Хабаровский край", "Khabarovsk Krai"),
    Region("28", "Амурская область", "Amur Oblast"),
    Region("29", "Архангельская область", "Arkhangelsk Oblast"),
    Region("30", "Астраханская область", "Astrakhan Oblast"),
    Region("31", "Белгородская область", "Belgorod Oblast"),
    Region("32", "Брянская область", "Bryansk Oblast"),
    Region("33", "Владимирская область", "Vladimir Oblast"),
    Region("34", "Волгоградская область", "Volgograd Oblast"),
    Region("35", "Вологодская область", "Vologda Oblast"),
    Region("36", "Воронежская область", "Voronezh Oblast"),
    Region("37", "Ивановская область", "Ivanovo Oblast"),
    Region("38", "Иркутская область", "Irkutsk Oblast"),
    Region("39", "Калининградская область", "Kaliningrad Oblast"),
    Region("40", "Калужская область", "Kaluga Oblast"),
    Region("41", "Камчатский край", "Kamchatka Krai"),
    Region("42", "Кемеровская область – Кузбасс", "Kemerovo Oblast – Kuzbass"),
    Region("43", "Кировская область", "Kirov Oblast"),
    Region("44", "Костромская область", "Kostroma Oblast"),
    Region("45", "Курганская область", "Kurgan Oblast"),
    Region("46", "Курская область", "Kursk Oblast"),
    Region("47", "Ленинградская область", "Leningrad Oblast"),
    Region("48", "Липецкая область", "Lipetsk Oblast"),
    Region("49", "Магаданская область", "Magadan Oblast"),
    Region("50", "Московская область", "Moscow Oblast"),
    Region("51", "Мурманская область", "Murmansk Oblast"),
    Region("52", "Нижегородская область", "Nizhny Novgorod Oblast"),
    Region("53", "Новгородская область", "Novgorod Oblast"),
    Region("54", "Новосибирская область", "Novosibirsk Oblast"),
    Region("55", "Омская область", "Omsk Oblast"),
    Region("56", "Оренбургская область", "Orenburg Oblast"),
    Region("57", "Орловская область", "Oryol Oblast"),
    Region("58", "Пензенская область", "Penza Oblast"),
    Region("59", "Пермский край", "Perm Krai"),
    Region("60", "Псковская область", "Pskov Oblast"),
    Region("61", "Ростовская область", "Rostov Oblast"),
    Region("62", "Рязанская область", "Ryazan Oblast"),
    Region("63", "Самарская область", "Samara Oblast"),
    Region("64", "Саратовская область", "Saratov Oblast"),
    Region("65", "Сахалинская область", "Sakhalin Oblast"),
    Region("66", "Свердловская область", "Sverdlovsk Oblast"),
    Region("67", "Смоленская область", "Smolensk Oblast"),
    Region("68", "Тамбовская область", "Tambov Oblast"),
    Region("69", "Тверская область", "Tver Oblast"),
    Region("70", "Томская область", "Tomsk Oblast"),
    Region("71", "Тульская область", "Tula Oblast"),
    Region("72", "Тюменская область", "Tyumen Oblast"),
    Region("73", "Ульяновская область", "Ulyanovsk Oblast"),
    Region("74", "Челябинская область", "Chelyabinsk Oblast"),
    Region("75", "Забайкальский край", "Zabaykalsky Krai"),
    Region("76", "Ярославская область", "Yaroslavl Oblast"),
    Region("77", "Москва", "Moscow"),
    Region("78", "Санкт-Петербург", "Saint Petersburg"),
    Region("79", "Еврейская автономная область", "Jewish Autonomous Oblast"),
    Region("83", "Ненецкий автономный округ", "Nenets Autonomous Okrug"),
    Region(
        "86",
        "Ханты-Мансийский автономный округ – Югра",
        "Khanty-Mansi Autonomous Okrug – Yugra",
    ),
    Region("87", "Чукотский автономный округ", "Chukotka Autonomous Okrug"),
    Region("89", "Ямало-Ненецкий автономный округ", "Yamalo-Nenets Autonomous Okrug"),
    Region("90", "Запорожская область", "Zaporozhye Oblast"),
    Region("91", "Республика Крым", "Republic of Crimea"),
    Region("92", "Севастополь", "Sevastopol"),
    Region("93", "Донецкая Народная Республика", "Donetsk People's Republic"),
    Region("94", "Луганская Народная Республика", "Luhansk People's Republic"),
    Region("95", "Херсонская область", "Kherson Oblast"),
)

REGIONS_BY_CODE: dict[str, Region] = {region.code: region for region in REGIONS}
register_regions({r.code: (r.name, r.name_en) for r in REGIONS})  # core.formats.region


def region_name(code: str) -> str | None:
    """Return the Russian name of the subject with this FNS code, or None if unknown."""
    key = (code or "").strip()
    if len(key) == 1 and key.isdigit():
        key = "0" + key
    region = REGIONS_BY_CODE.get(key)
    return region.name if region else None


def _fold(text: str) -> str:
    return " ".join(text.casefold().replace("ё", "е").replace("–", "-").split())


def find_region(text: str | None) -> Region | None:
    """A subject by its code ("77", "7"), its Russian or English name in any case ("москва",
    "Moscow"), or the start of exactly one name ("Свердловская", "Санкт"); else None."""
    query = _fold(text or "")
    if not query:
        return None
    if query.isdigit():
        return REGIONS_BY_CODE.get(query.zfill(2))
    exact = [r for r in REGIONS if query in (_fold(r.name), _fold(r.name_en))]
    if exact:
        return exact[0]
    starting = [r for r in REGIONS if _fold(r.name).startswith(query)]
    starting = starting or [r for r in REGIONS if _fold(r.name_en).startswith(query)]
    return starting[0] if len(starting) == 1 else None


# (code, "code name") pairs for select boxes.
REGION_OPTIONS: list[tuple[str, str]] = [(r.code, f"{r.code} {r.name}") for r in REGIONS]
