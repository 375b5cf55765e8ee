"""Office ids and official names for the seed directory.

Ids are stable slugs of the seat in plain ASCII ("vjt-nis", "ojt-beograd-prvo"), so they
survive renames of an office's display name. Serbian names put the seat in the locative case
("u Nišu"), which cannot be derived by rule, hence the table.
"""

import re
import unicodedata

_LOCATIVE = {
    "Aleksinac": "Aleksincu",
    "Aranđelovac": "Aranđelovcu",
    "Bačka Palanka": "Bačkoj Palanci",
    "Bečej": "Bečeju",
    "Beograd": "Beogradu",
    "Bor": "Boru",
    "Brus": "Brusu",
    "Bujanovac": "Bujanovcu",
    "Čačak": "Čačku",
    "Despotovac": "Despotovcu",
    "Dimitrovgrad": "Dimitrovgradu",
    "Gornji Milanovac": "Gornjem Milanovcu",
    "Ivanjica": "Ivanjici",
    "Jagodina": "Jagodini",
    "Kikinda": "Kikindi",
    "Knjaževac": "Knjaževcu",
    "Kragujevac": "Kragujevcu",
    "Kraljevo": "Kraljevu",
    "Kruševac": "Kruševcu",
    "Kuršumlija": "Kuršumliji",
    "Lazarevac": "Lazarevcu",
    "Lebane": "Lebanu",
    "Leskovac": "Leskovcu",
    "Loznica": "Loznici",
    "Majdanpek": "Majdanpeku",
    "Mionica": "Mionici",
    "Mladenovac": "Mladenovcu",
    "Negotin": "Negotinu",
    "Niš": "Nišu",
    "Novi Pazar": "Novom Pazaru",
    "Novi Sad": "Novom Sadu",
    "Obrenovac": "Obrenovcu",
    "Pančevo": "Pančevu",
    "Paraćin": "Paraćinu",
    "Petrovac na Mlavi": "Petrovcu na Mlavi",
    "Pirot": "Pirotu",
    "Požarevac": "Požarevcu",
    "Požega": "Požegi",
    "Priboj": "Priboju",
    "Prijepolje": "Prijepolju",
    "Prokuplje": "Prokuplju",
    "Raška": "Raški",
    "Ruma": "Rumi",
    "Šabac": "Šapcu",
    "Senta": "Senti",
    "Šid": "Šidu",
    "Sjenica": "Sjenici",
    "Smederevo": "Smederevu",
    "Sombor": "Somboru",
    "Sremska Mitrovica": "Sremskoj Mitrovici",
    "Stara Pazova": "Staroj Pazovi",
    "Subotica": "Subotici",
    "Surdulica": "Surdulici",
    "Trstenik": "Trsteniku",
    "Ub": "Ubu",
    "Užice": "Užicu",
    "Valjevo": "Valjevu",
    "Velika Plana": "Velikoj Plani",
    "Veliko Gradište": "Velikom Gradištu",
    "Vranje": "Vranju",
    "Vrbas": "Vrbasu",
    "Vršac": "Vršcu",
    "Zaječar": "Zaječaru",
    "Zrenjanin": "Zrenjaninu",
}
_ENGLISH = {"Beograd": "Belgrade"}
# "Beograd (Prvo)": Belgrade has several numbered basic offices.
_NUMBERED = re.compile(r"^(?P<seat>.+?)\s*\((?P<ordinal>[^)]+)\)$")
_ORDINAL_EN = {"Prvo": "First", "Drugo": "Second", "Treće": "Third", "Četvrto": "Fourth"}


def slug(name: str) -> str:
    """ASCII slug of a Serbian name: "Beograd (Treće)" -> "beograd-trece"."""
    ascii_name = unicodedata.normalize("NFKD", name.replace("đ", "dj").replace("Đ", "Dj"))
    plain = ascii_name.encode("ascii", "ignore").decode().casefold()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def apjt_id(area: str) -> str:
    """Id of the appellate office of an area."""
    return f"apjt-{slug(area)}"


def vjt_id(seat: str) -> str:
    """Id of the higher office seated in a city."""
    return f"vjt-{slug(seat)}"


def ojt_id(area_name: str) -> str:
    """Id of the basic office of a basic-court area."""
    return f"ojt-{slug(area_name)}"


def locative(seat: str) -> str:
    """The seat as it follows "u" in an office's name; the nominative when not in the table."""
    return _LOCATIVE.get(seat, seat)


def english(seat: str) -> str:
    """The seat's name in English text."""
    return _ENGLISH.get(seat, seat)


def higher_names(seat: str) -> tuple[str, str]:
    """Serbian and English names of the higher office seated in a city."""
    return (
        f"Više javno tužilaštvo u {locative(seat)}",
        f"Higher Public Prosecution Office in {english(seat)}",
    )


def basic_names(area_name: str) -> tuple[str, str, str]:
    """Serbian name, English name and seat of the basic office of a basic-court area."""
    numbered = _NUMBERED.match(area_name)
    seat = numbered["seat"] if numbered else area_name
    ordinal = numbered["ordinal"] if numbered else ""
    name = f"osnovno javno tužilaštvo u {locative(seat)}"
    name_en = f"Basic Public Prosecution Office in {english(seat)}"
    if ordinal:
        return f"{ordinal} {name}", f"{_ORDINAL_EN.get(ordinal, ordinal)} {name_en}", seat
    return f"O{name[1:]}", name_en, seat
