"""Version 1 of the office directory, built from the content of shared/reference/offices.json.

How the seed reads the data (the caller reads the file: the domain does no I/O):

- A link is confirmed when offices.json says "confirmed", and also when the place is the seat
  of the office (a seat always lies in its own office's area) or, for the higher office, when
  the place's basic-court area is confirmed (a basic office sits under exactly one higher
  office). Everything else ("partly", "inferred", "unconfirmed") is inferred.
- The 66 basic-court areas each get a basic office. Only 58 basic prosecution offices exist, so
  an office whose own_prosecution_office is not "confirmed" is marked inferred: its area may
  be served by a neighbouring office.
- The appellate area named "derived by elimination" in the unconfirmed list is inferred, the
  municipality in `conflicts` carries the conflict, and the place named by the pending
  amendment has its basic link downgraded to inferred.
- The special offices and departments are not in offices.json; they come from DOMAIN.md.
"""

import re
from collections.abc import Iterable, Mapping
from typing import Any

from services.routing.domain.directory import Directory, Jurisdiction, Office, OfficeKind, Status
from services.routing.domain.seed_names import (
    apjt_id,
    basic_names,
    english,
    higher_names,
    locative,
    ojt_id,
    vjt_id,
)
from services.routing.domain.seed_special import special_offices

SEED_VERSION = 1
# The pending amendment would move Novi Beograd to a new Četvrto OJT; Zemun and Surčin stay.
_AMENDMENT_PLACES = ("Novi Beograd",)
_APPELLATE_UNCONFIRMED = re.compile(r"^Appellate area of (?P<area>[^:]+):\s*(?P<why>.+)$")


def seed_directory(data: Mapping[str, Any]) -> Directory:
    """Build directory version 1 from the parsed content of offices.json."""
    offices = [
        _general_office(data),
        *_appellate_offices(data),
        *_higher_offices(data),
        *_basic_offices(data),
        *special_offices({area: _area_territory(data, area) for area in data["appellate_areas"]}),
    ]
    places = [_jurisdiction(name, raw, data) for name, raw in data["municipality_index"].items()]
    aliases = {
        alias: name for name, names in data["municipality_aliases"].items() for alias in names
    }
    return Directory(
        version=SEED_VERSION,
        offices={office.id: office for office in offices},
        municipalities={place.municipality: place for place in places},
        aliases=aliases,
    )


def _confirmed(raw_status: str | None) -> bool:
    return raw_status is not None and raw_status.strip().casefold().startswith("confirmed")


def _status(confirmed: bool) -> Status:
    return Status.CONFIRMED if confirmed else Status.INFERRED


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _general_office(data: Mapping[str, Any]) -> Office:
    return Office(
        id="rjt",
        kind=OfficeKind.GENERAL,
        name="Vrhovno javno tužilaštvo",
        name_en="Supreme Public Prosecution Office",
        seat="Beograd",
        nationwide=True,
        note="The General Public Prosecution of the handbook; formerly Republičko javno "
        "tužilaštvo.",
        sources=tuple(s for s in data.get("sources", ()) if "vrhovnojt" in s),
    )


def _appellate_notes(data: Mapping[str, Any]) -> dict[str, str]:
    matches = (_APPELLATE_UNCONFIRMED.match(item) for item in data.get("unconfirmed", ()))
    return {m["area"].strip(): m["why"].strip() for m in matches if m}


def _area_territory(data: Mapping[str, Any], area: str) -> tuple[str, ...]:
    higher = data["higher_offices"]
    seats = data["appellate_areas"][area]
    return tuple(m for seat in seats for m in higher[seat]["municipalities"])


def _appellate_offices(data: Mapping[str, Any]) -> Iterable[Office]:
    notes = _appellate_notes(data)
    for area in data["appellate_areas"]:
        note = notes.get(area)
        yield Office(
            id=apjt_id(area),
            kind=OfficeKind.APPELLATE,
            name=f"Apelaciono javno tužilaštvo u {locative(area)}",
            name_en=f"Appellate Public Prosecution Office in {english(area)}",
            seat=area,
            parent_id="rjt",
            appellate_area=area,
            territory=_area_territory(data, area),
            note=None if note is None else f"Territory: {note}",
        )


def _higher_offices(data: Mapping[str, Any]) -> Iterable[Office]:
    for seat, raw in data["higher_offices"].items():
        unassigned = raw.get("unassigned_basic", ())
        gaps = f"; basic office not known for {', '.join(unassigned)}" if unassigned else ""
        name, name_en = higher_names(seat)
        yield Office(
            id=vjt_id(seat),
            kind=OfficeKind.HIGHER,
            name=name,
            name_en=name_en,
            seat=seat,
            parent_id=apjt_id(raw["appellate"]),
            appellate_area=raw["appellate"],
            territory=tuple(raw["municipalities"]),
            note=f"Territory: {raw['municipalities_status']}{gaps}",
            sources=tuple(raw.get("sources", ())),
        )


def _basic_offices(data: Mapping[str, Any]) -> Iterable[Office]:
    for area_name, raw in data["basic_offices"].items():
        own = raw.get("own_prosecution_office") == "confirmed"
        doubt = (
            None
            if own
            else "Own basic prosecution office not confirmed: 58 offices serve 66 basic-court "
            "areas, so this area may be served by a neighbouring office."
        )
        name, name_en, seat = basic_names(area_name)
        yield Office(
            id=ojt_id(area_name),
            kind=OfficeKind.BASIC,
            name=name,
            name_en=name_en,
            seat=seat,
            parent_id=vjt_id(raw["higher"]),
            appellate_area=data["higher_offices"][raw["higher"]]["appellate"],
            territory=tuple(raw["municipalities"]),
            status=_status(own),
            note=" ".join(n for n in (doubt, raw.get("note")) if n) or None,
            sources=_unique([*raw.get("sources", ()), *raw.get("prosecution_sources", ())]),
        )


def _jurisdiction(name: str, raw: Mapping[str, Any], data: Mapping[str, Any]) -> Jurisdiction:
    basic_area = raw.get("basic_office")
    basic_ok = basic_area is not None and (
        _confirmed(raw["basic_area_status"]) or basic_names(basic_area)[2] == name
    )
    higher_ok = basic_ok or _confirmed(raw["higher_status"]) or raw["higher_office"] == name
    basic_note = None if basic_ok else f"basic-court area {raw['basic_area_status']}"
    if name in _AMENDMENT_PLACES and "pending_amendment" in data:
        basic_ok, basic_note = False, f"pending amendment: {data['pending_amendment']['summary']}"
    appellate_note = _appellate_notes(data).get(raw["appellate"])
    return Jurisdiction(
        municipality=name,
        basic_office_id=None if basic_area is None else ojt_id(basic_area),
        higher_office_id=vjt_id(raw["higher_office"]),
        appellate_area=raw["appellate"],
        basic_status=_status(basic_ok),
        higher_status=_status(higher_ok),
        appellate_status=_status(appellate_note is None),
        basic_note=basic_note,
        higher_note=None if higher_ok else raw["higher_status"],
        appellate_note=appellate_note,
        conflict=_conflict(name, data),
    )


def _conflict(name: str, data: Mapping[str, Any]) -> str | None:
    for item in data.get("conflicts", ()):
        if item.get("item") == name:
            return f"{item['a']} / versus / {item['b']}. Chosen: {item['chosen']}"
    return None
