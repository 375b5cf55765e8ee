"""The office directory seeded from offices.json: complete, consistent, honest about doubt."""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from services.routing.domain.codec import directory_from_dict, directory_to_dict
from services.routing.domain.directory import (
    Directory,
    DirectoryError,
    OfficeKind,
    OfficeRole,
    Status,
    UnknownOfficeError,
)
from services.routing.domain.seed import seed_directory
from services.routing.domain.seed_names import locative

OFFICES_JSON = Path(__file__).resolve().parents[3] / "shared" / "reference" / "offices.json"


@pytest.fixture(scope="module")
def offices_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(OFFICES_JSON.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def directory(offices_data: dict[str, Any]) -> Directory:
    return seed_directory(offices_data)


@pytest.mark.parametrize(
    ("kind", "count"),
    [
        pytest.param(OfficeKind.GENERAL, 1, id="general"),
        pytest.param(OfficeKind.APPELLATE, 4, id="appellate"),
        pytest.param(OfficeKind.HIGHER, 25, id="higher"),
        pytest.param(OfficeKind.BASIC, 66, id="basic-court-areas"),
        pytest.param(OfficeKind.SPECIAL, 2, id="special"),
        pytest.param(OfficeKind.DEPARTMENT, 5, id="high-tech-and-4-anti-corruption"),
    ],
)
def test_seed_has_every_office_of_each_kind(
    directory: Directory, kind: OfficeKind, count: int
) -> None:
    assert len(directory.of_kind(kind)) == count


def test_seed_is_version_1_with_all_161_municipalities(directory: Directory) -> None:
    assert directory.version == 1
    assert len(directory.municipalities) == 161


@pytest.mark.parametrize(
    ("role", "office_id", "kind", "parent_id"),
    [
        pytest.param(OfficeRole.WAR_CRIMES, "tuzilastvo-za-ratne-zlocine", "special", "rjt"),
        pytest.param(
            OfficeRole.ORGANIZED_CRIME, "tuzilastvo-za-organizovani-kriminal", "special", "rjt"
        ),
        pytest.param(OfficeRole.HIGH_TECH_CRIME, "vtk-beograd", "department", "vjt-beograd"),
    ],
)
def test_special_offices_are_found_by_role_nationwide_in_belgrade(
    directory: Directory, role: OfficeRole, office_id: str, kind: str, parent_id: str
) -> None:
    office = directory.special_office(role)
    assert office is not None
    assert (office.id, office.kind, office.parent_id) == (office_id, kind, parent_id)
    assert office.nationwide and office.seat == "Beograd" and office.territory == ()


@pytest.mark.parametrize(
    ("area", "department_id", "parent_id", "appellate_id"),
    [
        pytest.param("Beograd", "acd-beograd", "vjt-beograd", "apjt-beograd", id="beograd"),
        pytest.param("Novi Sad", "acd-novi-sad", "vjt-novi-sad", "apjt-novi-sad", id="novi-sad"),
        pytest.param("Niš", "acd-nis", "vjt-nis", "apjt-nis", id="nis"),
        pytest.param(
            "Kragujevac", "acd-kraljevo", "vjt-kraljevo", "apjt-kragujevac", id="kragujevac-area"
        ),
    ],
)
def test_each_appellate_area_has_its_anti_corruption_department(
    directory: Directory, area: str, department_id: str, parent_id: str, appellate_id: str
) -> None:
    department = directory.anti_corruption_department_for(area)
    assert department is not None
    assert (department.id, department.parent_id) == (department_id, parent_id)
    assert department.territory == directory.office(appellate_id).territory


def test_every_municipality_maps_to_existing_offices_of_the_right_level(
    directory: Directory,
) -> None:
    for name, place in directory.municipalities.items():
        higher = directory.office(place.higher_office_id)
        assert higher.kind == OfficeKind.HIGHER and name in higher.territory
        assert higher.parent_id is not None
        assert directory.office(higher.parent_id).appellate_area == place.appellate_area
        if place.basic_office_id is not None:
            basic = directory.office(place.basic_office_id)
            assert basic.kind == OfficeKind.BASIC and name in basic.territory
            assert basic.parent_id == higher.id


def test_every_municipality_of_the_data_is_routable(
    directory: Directory, offices_data: dict[str, Any]
) -> None:
    for name, raw in offices_data["municipality_index"].items():
        higher = directory.higher_office_for(name)
        assert higher is not None and higher.seat == raw["higher_office"]
        assert directory.appellate_area_for(name) == raw["appellate"]


def test_office_ids_are_stable_ascii_slugs(directory: Directory) -> None:
    for office_id in directory.offices:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", office_id), office_id
    assert {"rjt", "apjt-beograd", "vjt-beograd", "ojt-beograd-prvo", "ojt-beograd-trece"} <= set(
        directory.offices
    )


@pytest.mark.parametrize(
    ("office_id", "name", "name_en"),
    [
        pytest.param("vjt-nis", "Više javno tužilaštvo u Nišu", None, id="higher"),
        pytest.param(
            "ojt-beograd-trece",
            "Treće osnovno javno tužilaštvo u Beogradu",
            "Third Basic Public Prosecution Office in Belgrade",
            id="numbered-basic",
        ),
        pytest.param("ojt-backa-palanka", "Osnovno javno tužilaštvo u Bačkoj Palanci", None),
        pytest.param("apjt-kragujevac", "Apelaciono javno tužilaštvo u Kragujevcu", None),
        pytest.param(
            "acd-kraljevo",
            "Posebno odeljenje za suzbijanje korupcije Višeg javnog tužilaštva u Kraljevu",
            None,
            id="anti-corruption-department",
        ),
    ],
)
def test_offices_carry_their_official_serbian_names(
    directory: Directory, office_id: str, name: str, name_en: str | None
) -> None:
    office = directory.office(office_id)
    assert office.name == name
    assert name_en is None or office.name_en == name_en


def test_every_seat_has_a_locative_for_its_official_name(directory: Directory) -> None:
    seats = {o.seat for o in directory.offices.values() if o.kind != OfficeKind.SPECIAL}
    assert [seat for seat in seats if locative(seat) == seat] == []


def test_no_contact_details_are_invented(directory: Directory) -> None:
    assert all(office.contact is None for office in directory.offices.values())


def test_basic_offices_without_a_confirmed_own_office_are_inferred(
    directory: Directory, offices_data: dict[str, Any]
) -> None:
    unconfirmed = [
        name
        for name, raw in offices_data["basic_offices"].items()
        if raw["own_prosecution_office"] != "confirmed"
    ]
    inferred = [o for o in directory.of_kind(OfficeKind.BASIC) if o.status == Status.INFERRED]
    assert len(inferred) == len(unconfirmed) == 44
    assert directory.office("ojt-subotica").status == Status.INFERRED
    assert directory.office("ojt-senta").status == Status.CONFIRMED


@pytest.mark.parametrize(
    ("place", "basic", "higher", "appellate"),
    [
        pytest.param("Kragujevac", "confirmed", "confirmed", "confirmed", id="all-confirmed"),
        pytest.param("Subotica", "confirmed", "confirmed", "confirmed", id="seat-is-in-its-area"),
        pytest.param("Senta", "confirmed", "confirmed", "confirmed", id="partly-but-basic-known"),
        pytest.param("Mali Iđoš", "inferred", "inferred", "confirmed", id="partly-inferred"),
        pytest.param("Vranje", "confirmed", "confirmed", "inferred", id="nis-area-by-elimination"),
        pytest.param("Novi Beograd", "inferred", "confirmed", "confirmed", id="pending-amendment"),
        pytest.param("Barajevo", "inferred", "confirmed", "confirmed", id="basic-unknown"),
    ],
)
def test_links_say_whether_they_are_confirmed(
    directory: Directory, place: str, basic: str, higher: str, appellate: str
) -> None:
    found = directory.jurisdiction(place)
    assert found is not None
    assert (found.basic_status, found.higher_status, found.appellate_status) == (
        basic,
        higher,
        appellate,
    )
    if basic == "inferred":
        assert found.basic_note


def test_conflicting_place_carries_the_conflict(directory: Directory) -> None:
    merosina = directory.jurisdiction("Merošina")
    assert merosina is not None and merosina.conflict is not None
    assert "Prokuplje" in merosina.conflict and merosina.higher_office_id == "vjt-prokuplje"
    assert all(p.conflict is None for p in directory.municipalities.values() if p is not merosina)


def test_barajevo_has_a_higher_office_but_no_known_basic_office(directory: Directory) -> None:
    assert directory.basic_office_for("Barajevo") is None
    higher = directory.higher_office_for("Barajevo")
    assert higher is not None and higher.id == "vjt-beograd"


@pytest.mark.parametrize(
    ("place", "municipality"),
    [
        pytest.param("Crveni Krst", "Niš", id="city-district-alias"),
        pytest.param("Palilula (Niš)", "Niš", id="qualified-alias"),
        pytest.param("Palilula", "Palilula", id="belgrade-municipality"),
        pytest.param("  novi   SAD ", "Novi Sad", id="case-and-spaces"),
        pytest.param("Kostolac", "Požarevac", id="kostolac"),
    ],
)
def test_places_resolve_through_aliases(
    directory: Directory, place: str, municipality: str
) -> None:
    found = directory.jurisdiction(place)
    assert found is not None and found.municipality == municipality


def test_unknown_places_and_offices(directory: Directory) -> None:
    assert directory.jurisdiction("Priština") is None
    assert directory.higher_office_for("Priština") is None
    assert directory.appellate_area_for("Priština") is None
    assert directory.anti_corruption_department_for("Kosovska Mitrovica") is None
    with pytest.raises(UnknownOfficeError):
        directory.office("ojt-kosovska-mitrovica")


def test_a_directory_version_cannot_be_changed(directory: Directory) -> None:
    with pytest.raises(TypeError):
        directory.offices["rjt"] = directory.office("vjt-beograd")  # type: ignore[index]


def test_json_round_trip_gives_an_equal_directory(directory: Directory) -> None:
    stored = json.dumps(directory_to_dict(directory), ensure_ascii=False)
    assert directory_from_dict(json.loads(stored)) == directory


def _edited(directory: Directory, edit: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(directory_to_dict(directory)))
    edit(data)
    return data


def _office(data: dict[str, Any], office_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(o for o in data["offices"] if o["id"] == office_id)
    return found


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(
            lambda d: d["municipalities"][0].update(higher_office_id="vjt-atlantida"),
            "not a higher office",
            id="unknown-office",
        ),
        pytest.param(
            lambda d: d["offices"].append(dict(d["offices"][0])),
            "appears twice",
            id="duplicate-id",
        ),
        pytest.param(
            lambda d: _office(d, "vjt-nis").update(roles=["war_crimes"], nationwide=True),
            "held by both",
            id="role-held-twice",
        ),
        pytest.param(
            lambda d: _office(d, "ojt-senta").update(parent_id="vjt-nis"),
            "is not under",
            id="basic-under-another-higher",
        ),
        pytest.param(lambda d: d["aliases"].update(Zmaj="Gotham"), "unknown", id="alias"),
        pytest.param(lambda d: d.update(version=0), "version", id="version"),
        pytest.param(lambda d: d.pop("offices"), "malformed", id="missing-offices"),
        pytest.param(
            lambda d: _office(d, "rjt").update(kind="ministry"), "malformed", id="bad-kind"
        ),
    ],
)
def test_an_unsound_edit_is_refused(directory: Directory, edit: Any, message: str) -> None:
    with pytest.raises(DirectoryError, match=message):
        directory_from_dict(_edited(directory, edit))
