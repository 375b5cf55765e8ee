"""The gazetteer: which places in Serbia a measure can be carried out in, by their canonical name.

Built from `shared/reference/offices.json`. A place resolves to a key of its
`municipality_index`, because that is what routing maps to an office; so:

- a municipality or city of the index resolves to itself ("Cacak" -> "Čačak");
- a city municipality listed in `municipality_aliases` is not an index key, so it resolves to
  its city, which is ("Crveni Krst" -> "Niš", "Palilula (Niš)" -> "Niš", "Kostolac" ->
  "Požarevac"): the city's offices serve all its city municipalities;
- a city that is not itself an index key but is made of index keys resolves to nothing. That
  is Beograd (and "Belgrade"): its 17 city municipalities are index keys served by different
  basic offices, so the city alone cannot place a measure. `city_municipalities` names them,
  so that a clerk can be asked which one is meant. Such a city is found in the data as a
  higher-office seat that is not a municipality of the index.

Matching ignores case, punctuation and diacritics (č ć -> c, š -> s, ž -> z, đ -> dj or d),
and accepts Serbian Cyrillic, which is as official as Latin.
"""

import difflib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any

_CYRILLIC = {
    **dict(zip("абвгдежзијклмнопрстћуфхцчш", "abvgdezzijklmnoprstcufhccs", strict=True)),
    **{"ђ": "dj", "љ": "lj", "њ": "nj", "џ": "dz"},
}

# Exonyms a foreign authority may write instead of the Serbian name.
_EXONYMS = {"belgrade": "Beograd"}


def fold(place: str, *, dj: str = "dj") -> str:
    """The comparison key of a place name: lower case, Latin, no diacritics or punctuation."""
    text = "".join(_CYRILLIC.get(char, char) for char in place.lower()).replace("đ", dj)
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.split(r"[^a-z0-9]+", bare)).strip()


def _keys(name: str) -> set[str]:
    # "đ" is written "dj" or just "d" when a keyboard lacks it: both must find the place.
    return {fold(name), fold(name, dj="d")}


@dataclass(frozen=True)
class Gazetteer:
    """The known places of Serbia, and the canonical municipality each one resolves to."""

    canonical: Mapping[str, str]  # folded spelling -> key of municipality_index
    spellings: Mapping[str, str]  # folded spelling -> the spelling as written in the data
    cities: Mapping[str, tuple[str, ...]]  # folded city name -> its city municipalities

    @classmethod
    def from_reference(cls, reference: Mapping[str, Any]) -> "Gazetteer":
        """Build the gazetteer from the parsed content of `offices.json`."""
        index: Mapping[str, Any] = reference["municipality_index"]
        canonical: dict[str, str] = {}
        spellings: dict[str, str] = {}

        def add(spelling: str, municipality: str) -> None:
            for key in _keys(spelling):
                # Index names go in first, so a real municipality wins over a district alias.
                canonical.setdefault(key, municipality)
                spellings.setdefault(key, spelling)

        for municipality in index:
            add(municipality, municipality)
        for city, aliases in reference["municipality_aliases"].items():
            for alias in aliases if city in index else ():
                add(alias, city)
        cities = {
            key: tuple(office["municipalities"])
            for seat, office in reference["higher_offices"].items()
            if seat not in index
            for key in _keys(seat)
        }
        for exonym, name in _EXONYMS.items():
            if fold(name) in cities:
                cities[exonym] = cities[fold(name)]
        return cls(
            MappingProxyType(canonical), MappingProxyType(spellings), MappingProxyType(cities)
        )

    def resolve(self, place: str) -> str | None:
        """The canonical municipality (a key of `municipality_index`) of a place, or None."""
        return self.canonical.get(fold(place))

    def names(self) -> list[str]:
        """Every canonical name, in alphabetical order of their Latin spelling without marks."""
        return sorted(set(self.canonical.values()), key=fold)

    def suggest(self, place: str) -> str | None:
        """The known spelling closest to a place that did not resolve, if one is close."""
        key = fold(place)
        # A typo seldom changes the first letter, while a real place outside the gazetteer
        # often rhymes with one inside it (Uroševac, Kruševac): suggesting that would mislead.
        candidates = [known for known in self.spellings if known[:1] == key[:1]]
        matches = difflib.get_close_matches(key, candidates, n=1, cutoff=0.75)
        return self.spellings[matches[0]] if matches else None

    def city_municipalities(self, place: str) -> tuple[str, ...]:
        """The city municipalities of a city that does not itself resolve (Beograd), else ()."""
        return self.cities.get(fold(place), ())


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    """The gazetteer of the packaged `offices.json`, read once on first use."""
    resource = files("shared").joinpath("reference", "offices.json")
    return Gazetteer.from_reference(json.loads(resource.read_text(encoding="utf-8")))
