"""A directory version as plain JSON-able data, and back.

The routing service stores each version as one JSON document and operators edit that
document, so the form is flat and explicit: lists of offices and municipalities with their
ids, enum values as strings, tuples as lists.
"""

from collections.abc import Iterable, Mapping
from dataclasses import fields, is_dataclass
from enum import Enum
from typing import Any, TypeVar

from services.routing.domain.directory import (
    Contact,
    Directory,
    DirectoryError,
    Jurisdiction,
    Office,
    OfficeKind,
    Status,
)

_T = TypeVar("_T")


def directory_to_dict(directory: Directory) -> dict[str, Any]:
    """The directory as plain data (dicts, lists, strings, numbers, booleans, None)."""
    return {
        "version": directory.version,
        "offices": [_plain(office) for office in directory.offices.values()],
        "municipalities": [_plain(place) for place in directory.municipalities.values()],
        "aliases": dict(directory.aliases),
    }


def directory_from_dict(data: Mapping[str, Any]) -> Directory:
    """Rebuild a directory from directory_to_dict's form; DirectoryError when it is unsound."""
    try:
        offices = [_office(raw) for raw in data["offices"]]
        places = [_jurisdiction(raw) for raw in data["municipalities"]]
        return Directory(
            version=int(data["version"]),
            offices=_keyed("office", ((o.id, o) for o in offices)),
            municipalities=_keyed("municipality", ((p.municipality, p) for p in places)),
            aliases=dict(data.get("aliases", {})),
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, DirectoryError):
            raise
        raise DirectoryError(f"malformed directory data: {error!r}") from error


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def _keyed(what: str, pairs: Iterable[tuple[str, _T]]) -> dict[str, _T]:
    # A duplicate would silently replace an entry an operator meant to keep.
    into: dict[str, _T] = {}
    for key, item in pairs:
        if key in into:
            raise DirectoryError(f"{what} {key!r} appears twice")
        into[key] = item
    return into


def _office(raw: Mapping[str, Any]) -> Office:
    contact = raw.get("contact")
    return Office(
        id=raw["id"],
        kind=OfficeKind(raw["kind"]),
        name=raw["name"],
        name_en=raw["name_en"],
        seat=raw["seat"],
        parent_id=raw.get("parent_id"),
        appellate_area=raw.get("appellate_area"),
        territory=tuple(raw.get("territory", ())),
        nationwide=bool(raw.get("nationwide", False)),
        roles=tuple(raw.get("roles", ())),
        subject_matter=tuple(raw.get("subject_matter", ())),
        contact=None if contact is None else Contact(**contact),
        status=Status(raw.get("status", Status.CONFIRMED)),
        note=raw.get("note"),
        sources=tuple(raw.get("sources", ())),
    )


def _jurisdiction(raw: Mapping[str, Any]) -> Jurisdiction:
    return Jurisdiction(
        municipality=raw["municipality"],
        basic_office_id=raw.get("basic_office_id"),
        higher_office_id=raw["higher_office_id"],
        appellate_area=raw["appellate_area"],
        basic_status=Status(raw["basic_status"]),
        higher_status=Status(raw["higher_status"]),
        appellate_status=Status(raw.get("appellate_status", Status.CONFIRMED)),
        basic_note=raw.get("basic_note"),
        higher_note=raw.get("higher_note"),
        appellate_note=raw.get("appellate_note"),
        conflict=raw.get("conflict"),
    )
