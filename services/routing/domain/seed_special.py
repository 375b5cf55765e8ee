"""The offices offices.json does not hold: the special offices and departments (DOMAIN.md).

They carry the roles that the routing rules look offices up by.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from services.routing.domain.directory import Office, OfficeKind, OfficeRole
from services.routing.domain.seed_names import higher_names, slug, vjt_id
from shared.events.vocabulary import OffenceCategory

_HANDBOOK = "handbook DOMAIN.md, 'Routing: who executes an incoming request'"
# Seat of each anti-corruption department -> the appellate area it serves (since 1 March 2018).
_ANTI_CORRUPTION_SEATS = {
    "Beograd": "Beograd",
    "Novi Sad": "Novi Sad",
    "Niš": "Niš",
    "Kraljevo": "Kragujevac",  # no department in Kragujevac: Kraljevo's serves that area
}
_ECONOMIC = (OffenceCategory.CORRUPTION, OffenceCategory.ECONOMIC_CRIME)


def special_offices(area_territories: Mapping[str, tuple[str, ...]]) -> Iterable[Office]:
    """The two special offices and the high-tech and anti-corruption departments."""
    common: dict[str, Any] = {"seat": "Beograd", "nationwide": True, "sources": (_HANDBOOK,)}
    yield Office(
        id="tuzilastvo-za-ratne-zlocine",
        kind=OfficeKind.SPECIAL,
        name="Tužilaštvo za ratne zločine",
        name_en="War Crimes Prosecutor's Office",
        parent_id="rjt",
        roles=(OfficeRole.WAR_CRIMES,),
        subject_matter=(OffenceCategory.WAR_CRIMES,),
        note="Criminal Code arts. 370 to 386, former Yugoslavia since 1 January 1991.",
        **common,
    )
    yield Office(
        id="tuzilastvo-za-organizovani-kriminal",
        kind=OfficeKind.SPECIAL,
        name="Tužilaštvo za organizovani kriminal",
        name_en="Prosecutor's Office for Organized Crime",
        parent_id="rjt",
        roles=(OfficeRole.ORGANIZED_CRIME,),
        subject_matter=(
            OffenceCategory.ORGANIZED_CRIME,
            OffenceCategory.TERRORISM,
            *_ECONOMIC,
            OffenceCategory.MONEY_LAUNDERING,
        ),
        note="Also senior officials' offences in office, gain over RSD 200 million, public "
        "procurement over RSD 800 million, and money laundering linked to them.",
        **common,
    )
    yield Office(
        id=f"vtk-{slug('Beograd')}",
        kind=OfficeKind.DEPARTMENT,
        name="Posebno tužilaštvo za visokotehnološki kriminal",
        name_en="Special Prosecution Office for High-Tech Crime",
        parent_id=vjt_id("Beograd"),
        roles=(OfficeRole.HIGH_TECH_CRIME,),
        subject_matter=(OffenceCategory.CYBERCRIME,),
        note="Inside the Higher Public Prosecution Office in Belgrade; also executes Budapest "
        "Convention measures (preservation, subscriber and traffic data).",
        **common,
    )
    yield from _anti_corruption_departments(area_territories)


def _anti_corruption_departments(
    area_territories: Mapping[str, tuple[str, ...]],
) -> Iterable[Office]:
    for seat, area in _ANTI_CORRUPTION_SEATS.items():
        higher, higher_en = higher_names(seat)
        yield Office(
            id=f"acd-{slug(seat)}",
            kind=OfficeKind.DEPARTMENT,
            name=f"Posebno odeljenje za suzbijanje korupcije {_genitive(higher)}",
            name_en=f"Special Anti-Corruption Department of the {higher_en}",
            seat=seat,
            parent_id=vjt_id(seat),
            appellate_area=area,
            territory=area_territories[area],
            roles=(OfficeRole.ANTI_CORRUPTION,),
            subject_matter=(*_ECONOMIC, OffenceCategory.MONEY_LAUNDERING),
            note=f"Serves the {area} appellate area; works since 1 March 2018.",
            sources=(_HANDBOOK,),
        )


def _genitive(higher_name: str) -> str:
    # "Više javno tužilaštvo u X" -> "Višeg javnog tužilaštva u X" (the department's owner).
    return higher_name.replace("Više javno tužilaštvo", "Višeg javnog tužilaštva", 1)
