"""The office directory: which prosecution offices exist and which territory each one serves.

Reference data, not code. Operators maintain it and every edit makes a new version, so the
rules find an office by a role or a territory held here, never by an id written in a rule.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from services.routing.domain.errors import RoutingError


class DirectoryError(RoutingError, ValueError):
    """The directory data is inconsistent: an unknown office id, a role held twice, ..."""


class UnknownOfficeError(DirectoryError):
    """An office id that the directory does not hold."""


class OfficeKind(StrEnum):
    GENERAL = "general"  # the Supreme (General) Public Prosecution
    APPELLATE = "appellate"
    HIGHER = "higher"
    BASIC = "basic"
    SPECIAL = "special"  # special jurisdiction over the whole country
    DEPARTMENT = "department"  # a special department inside a higher office


class OfficeRole(StrEnum):
    """Tags that the rules look offices up by (a special jurisdiction)."""

    WAR_CRIMES = "war_crimes"
    ORGANIZED_CRIME = "organized_crime"
    HIGH_TECH_CRIME = "high_tech_crime"
    ANTI_CORRUPTION = "anti_corruption"


class Status(StrEnum):
    CONFIRMED = "confirmed"  # backed by a source
    INFERRED = "inferred"  # pieced together: an operator should confirm decisions resting on it


@dataclass(frozen=True)
class Contact:
    email: str | None = None
    phone: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class Office:
    """A prosecution office or a special department of one."""

    id: str
    kind: OfficeKind
    name: str  # official Serbian name, Latin script
    name_en: str
    seat: str
    parent_id: str | None = None
    appellate_area: str | None = None  # the area it belongs to or, for a department, serves
    territory: tuple[str, ...] = ()  # canonical municipalities; empty when nationwide
    nationwide: bool = False
    roles: tuple[str, ...] = ()
    subject_matter: tuple[str, ...] = ()  # OffenceCategory values it handles
    contact: Contact | None = None
    status: Status = Status.CONFIRMED
    note: str | None = None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Jurisdiction:
    """Where one municipality belongs, and how sure the directory is of each link."""

    municipality: str
    basic_office_id: str | None  # None: the basic office of this place is not known
    higher_office_id: str
    appellate_area: str
    basic_status: Status
    higher_status: Status
    appellate_status: Status = Status.CONFIRMED
    basic_note: str | None = None  # source wording behind a link that is not confirmed
    higher_note: str | None = None
    appellate_note: str | None = None
    conflict: str | None = None  # sources disagree about this place


def place_key(place: str) -> str:
    """The form a place name is looked up by: case and surrounding spaces do not matter."""
    return " ".join(place.split()).casefold()


@dataclass(frozen=True)
class Directory:
    """One version of the office directory. Construction validates it (DirectoryError)."""

    version: int
    offices: Mapping[str, Office]
    municipalities: Mapping[str, Jurisdiction]
    aliases: Mapping[str, str] = field(default_factory=dict)  # city district -> municipality
    _places: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Read-only views: a directory version never changes once built.
        object.__setattr__(self, "offices", MappingProxyType(dict(self.offices)))
        object.__setattr__(self, "municipalities", MappingProxyType(dict(self.municipalities)))
        object.__setattr__(self, "aliases", MappingProxyType(dict(self.aliases)))
        places = {place_key(alias): name for alias, name in self.aliases.items()}
        places.update({place_key(name): name for name in self.municipalities})
        object.__setattr__(self, "_places", MappingProxyType(places))
        problems = directory_problems(self)
        if problems:
            raise DirectoryError("; ".join(problems))

    def office(self, office_id: str) -> Office:
        """The office with this id, or UnknownOfficeError."""
        try:
            return self.offices[office_id]
        except KeyError:
            raise UnknownOfficeError(f"no office {office_id!r} in version {self.version}") from None

    def jurisdiction(self, place: str) -> Jurisdiction | None:
        """Where a municipality (or a city district alias) belongs; None when unknown."""
        name = self._places.get(place_key(place))
        return None if name is None else self.municipalities[name]

    def higher_office_for(self, place: str) -> Office | None:
        """The higher office whose territory includes the place."""
        found = self.jurisdiction(place)
        return None if found is None else self.offices[found.higher_office_id]

    def basic_office_for(self, place: str) -> Office | None:
        """The basic office whose territory includes the place, when the directory knows it."""
        found = self.jurisdiction(place)
        if found is None or found.basic_office_id is None:
            return None
        return self.offices[found.basic_office_id]

    def appellate_area_for(self, place: str) -> str | None:
        """The appellate area (named after its seat) that the place lies in."""
        found = self.jurisdiction(place)
        return None if found is None else found.appellate_area

    def anti_corruption_department_for(self, appellate_area: str) -> Office | None:
        """The anti-corruption department serving an appellate area."""
        return next(
            (
                office
                for office in self.with_role(OfficeRole.ANTI_CORRUPTION)
                if office.appellate_area == appellate_area
            ),
            None,
        )

    def special_office(self, role: str) -> Office | None:
        """The office holding a role for the whole country (war crimes, organized crime, ...)."""
        return next((office for office in self.with_role(role) if office.nationwide), None)

    def with_role(self, role: str) -> tuple[Office, ...]:
        """Every office holding the role, in id order."""
        return tuple(sorted((o for o in self.offices.values() if role in o.roles), key=_id))

    def of_kind(self, kind: OfficeKind) -> tuple[Office, ...]:
        """Every office of one kind, in id order."""
        return tuple(sorted((o for o in self.offices.values() if o.kind == kind), key=_id))


def _id(office: Office) -> str:
    return office.id


def directory_problems(directory: Directory) -> list[str]:
    """Every inconsistency in a directory; empty when it can be routed on."""
    too_old = directory.version < 1
    return [
        *([f"version must be at least 1, not {directory.version}"] if too_old else []),
        *_office_problems(directory.offices),
        *_municipality_problems(directory),
        *_alias_problems(directory),
        *_role_problems(directory.offices.values()),
    ]


def _office_problems(offices: Mapping[str, Office]) -> Iterable[str]:
    for key, office in offices.items():
        if key != office.id:
            yield f"office stored under {key!r} has id {office.id!r}"
        if office.parent_id is not None and office.parent_id not in offices:
            yield f"office {office.id!r}: unknown parent {office.parent_id!r}"


def _municipality_problems(directory: Directory) -> Iterable[str]:
    offices = directory.offices
    for key, place in directory.municipalities.items():
        if key != place.municipality:
            yield f"municipality stored under {key!r} is {place.municipality!r}"
        higher = offices.get(place.higher_office_id)
        if higher is None or higher.kind != OfficeKind.HIGHER:
            yield f"{key}: {place.higher_office_id!r} is not a higher office"
        if place.basic_office_id is None:
            continue
        basic = offices.get(place.basic_office_id)
        if basic is None or basic.kind != OfficeKind.BASIC:
            yield f"{key}: {place.basic_office_id!r} is not a basic office"
        elif basic.parent_id != place.higher_office_id:
            # A basic office sits under one higher office: the two links must agree.
            yield f"{key}: basic office {basic.id!r} is not under {place.higher_office_id!r}"


def _alias_problems(directory: Directory) -> Iterable[str]:
    for alias, name in directory.aliases.items():
        if name not in directory.municipalities:
            yield f"alias {alias!r} names unknown municipality {name!r}"
        if alias in directory.municipalities:
            yield f"alias {alias!r} is also a municipality"


def _role_problems(offices: Iterable[Office]) -> Iterable[str]:
    # Two offices holding one role for the same ground would make routing a coin toss.
    seen: dict[tuple[str, str | None], str] = {}
    for office in sorted(offices, key=_id):
        ground = None if office.nationwide else office.appellate_area
        for role in office.roles:
            other = seen.setdefault((role, ground), office.id)
            if other != office.id:
                yield f"role {role!r} held by both {other!r} and {office.id!r}"
