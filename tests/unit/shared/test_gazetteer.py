"""A clerk names the place of a measure however it comes: the gazetteer finds the municipality."""

import dataclasses
import json
from importlib.resources import files
from typing import Any

import pytest

from shared.request.gazetteer import Gazetteer, load_gazetteer


def _reference() -> dict[str, Any]:
    text = files("shared").joinpath("reference", "offices.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


REFERENCE = _reference()
INDEX = REFERENCE["municipality_index"]
ALIASES = [
    (alias, city)
    for city, aliases in REFERENCE["municipality_aliases"].items()
    for alias in aliases
]


@pytest.fixture
def gazetteer() -> Gazetteer:
    return load_gazetteer()


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("Čačak", "Čačak"),
        ("Cacak", "Čačak"),
        ("čačak", "Čačak"),
        ("  CACAK ", "Čačak"),
        ("Nis", "Niš"),
        ("Arandjelovac", "Aranđelovac"),
        ("Arandelovac", "Aranđelovac"),
        ("Smederevska  palanka", "Smederevska Palanka"),
        ("Ниш", "Niš"),
        ("Ужице", "Užice"),
    ],
)
def test_a_place_written_without_diacritics_resolves_to_its_canonical_name(
    gazetteer: Gazetteer, written: str, canonical: str
) -> None:
    assert gazetteer.resolve(written) == canonical


@pytest.mark.parametrize(("alias", "city"), ALIASES)
def test_a_city_municipality_resolves_to_its_city_which_routing_can_map_to_an_office(
    gazetteer: Gazetteer, alias: str, city: str
) -> None:
    resolved = gazetteer.resolve(alias)

    assert resolved == city
    assert resolved in INDEX


def test_crveni_krst_is_found_in_nis_even_typed_without_diacritics(gazetteer: Gazetteer) -> None:
    assert gazetteer.resolve("crveni krst") == "Niš"
    assert gazetteer.resolve("Palilula, Nis") == "Niš"


def test_palilula_alone_is_the_belgrade_municipality_not_the_one_in_nis(
    gazetteer: Gazetteer,
) -> None:
    assert gazetteer.resolve("Palilula") == "Palilula"
    assert INDEX["Palilula"]["higher_office"] == "Beograd"
    assert gazetteer.resolve("Stari grad") == "Stari grad"
    assert gazetteer.resolve("Stari Grad (Kragujevac)") == "Kragujevac"


@pytest.mark.parametrize("city", ["Beograd", "Belgrade", "beograd"])
def test_belgrade_alone_resolves_to_nothing_but_names_its_city_municipalities(
    gazetteer: Gazetteer, city: str
) -> None:
    municipalities = gazetteer.city_municipalities(city)

    assert gazetteer.resolve(city) is None
    assert len(municipalities) == 17
    assert "Novi Beograd" in municipalities
    assert all(municipality in INDEX for municipality in municipalities)


def test_a_municipality_is_not_mistaken_for_a_city_of_municipalities(gazetteer: Gazetteer) -> None:
    assert gazetteer.city_municipalities("Niš") == ()


def test_an_unknown_place_resolves_to_nothing(gazetteer: Gazetteer) -> None:
    assert gazetteer.resolve("Atlantis") is None
    assert gazetteer.resolve("") is None


@pytest.mark.parametrize(
    ("typo", "meant"),
    [("Cacakk", "Čačak"), ("Subotca", "Subotica"), ("Crveni krs", "Crveni Krst")],
)
def test_a_typo_gets_the_spelling_the_clerk_probably_meant(
    gazetteer: Gazetteer, typo: str, meant: str
) -> None:
    assert gazetteer.suggest(typo) == meant


@pytest.mark.parametrize("place", ["Atlantis", "Uroševac", "Kosovska Mitrovica"])
def test_a_place_outside_the_gazetteer_gets_no_misleading_suggestion(
    gazetteer: Gazetteer, place: str
) -> None:
    assert gazetteer.suggest(place) is None


def test_names_are_the_161_municipalities_of_the_index_in_alphabetical_order(
    gazetteer: Gazetteer,
) -> None:
    names = gazetteer.names()

    assert sorted(names) == sorted(INDEX)
    assert len(names) == 161
    # Č and Ć sort among the C's, where a clerk looks for them, not after Ž.
    assert names.index("Čačak") < names.index("Crna Trava") < names.index("Ćuprija")


def test_the_gazetteer_cannot_be_changed_by_whoever_holds_it(gazetteer: Gazetteer) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        gazetteer.canonical = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        gazetteer.canonical["atlantis"] = "Atlantis"  # type: ignore[index]


def test_the_gazetteer_is_read_once() -> None:
    assert load_gazetteer() is load_gazetteer()


def test_a_gazetteer_can_be_built_from_reference_data_given_by_the_caller() -> None:
    reference = {
        "municipality_index": {"Niš": {}, "Stari grad": {}},
        "municipality_aliases": {"Niš": ["Medijana"], "Nowhere": ["Lost"]},
        "higher_offices": {"Niš": {}, "Beograd": {"municipalities": ["Stari grad"]}},
    }

    gazetteer = Gazetteer.from_reference(reference)

    assert gazetteer.resolve("medijana") == "Niš"
    assert gazetteer.resolve("Lost") is None  # an alias of a city routing cannot map
    assert gazetteer.city_municipalities("Belgrade") == ("Stari grad",)
