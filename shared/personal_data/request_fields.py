"""Which fields of a request hold personal data, and sealing or revealing them.

Sealed: the persons concerned (names, dates of birth, nationalities, roles), the summary of
facts, the reasons for urgency, each measure's free-text details, and the contacts of the
requesting and requested authorities (an e-mail or a phone may name an official). Everything
routing, deadlines and search rely on stays readable: direction, channel, legal basis,
authorities' names, countries and references, offences, measures' types and places, dates.

Both functions work on the JSON document of `RequestDetails` (what events, the archive and
the read models store), so intake and tracking reveal the same way. Revealed after erasure,
a sealed field reads `{"erased": true}`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from shared.personal_data.sealing import DataKey, SealedValue, seal, unseal
from shared.personal_data.vault import KeyVault

ERASED: dict[str, bool] = {"erased": True}

# Paths into the document; "*" is every item of a list. The label binds a sealed value to
# its field (see sealing.py).
PERSONAL_PATHS: tuple[tuple[str, ...], ...] = (
    ("persons",),
    ("summary_of_facts",),
    ("urgency_reasons",),
    ("measures", "*", "details"),
    ("requesting_authority", "contact"),
    ("requested_authority", "contact"),
)
_SEALED_KEYS = frozenset(SealedValue.model_fields)


def is_sealed(value: object) -> bool:
    """True for the JSON of a `SealedValue`."""
    return isinstance(value, dict) and value.keys() == _SEALED_KEYS


def seal_details(document: Mapping[str, Any], key: DataKey) -> dict[str, Any]:
    """A copy of the request's document with every personal field sealed under `key`: the
    document itself stays as it was (intake answers the submitter with it)."""

    def sealed(label: str, value: Any) -> Any:
        return value if is_sealed(value) else seal(value, key, label).model_dump()

    copy: dict[str, Any] = _deep_copy(dict(document))
    _transform(copy, sealed)
    return copy


def reveal_details(
    document: Mapping[str, Any], keys: Mapping[str, DataKey | None]
) -> dict[str, Any]:
    """A copy of the document with its sealed fields opened with `keys` (key id -> key,
    None once destroyed); a field whose key is gone reads `ERASED`."""

    def revealed(label: str, value: Any) -> Any:
        if not is_sealed(value):
            return value
        sealed = SealedValue.model_validate(value)
        key = keys.get(sealed.key_id)
        return dict(ERASED) if key is None else unseal(sealed, key, label)

    copy: dict[str, Any] = _deep_copy(dict(document))
    _transform(copy, revealed)
    return copy


def key_ids(document: Mapping[str, Any]) -> set[str]:
    """The data keys the document's sealed fields were sealed under."""
    found: set[str] = set()

    def note(_label: str, value: Any) -> Any:
        if is_sealed(value):
            found.add(value["key_id"])
        return value

    _transform(dict(document), note)  # `note` changes nothing
    return found


class PersonalDataReader:
    """Reveals request documents with the keys of a vault (for the APIs that show them)."""

    def __init__(self, vault: KeyVault) -> None:
        self.vault = vault

    async def reveal(self, document: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """The revealed document, and whether some of its personal data is erased."""
        keys = {key_id: await self.vault.get(key_id) for key_id in key_ids(document)}
        return reveal_details(document, keys), any(k is None for k in keys.values())


def _transform(document: dict[str, Any], change: Callable[[str, Any], Any]) -> None:
    for path in PERSONAL_PATHS:
        label = ".".join(p for p in path if p != "*")
        for holder, name in _places(document, path):
            if holder.get(name) is not None:
                holder[name] = change(label, holder[name])


def _places(node: Any, path: tuple[str, ...]) -> Iterator[tuple[dict[str, Any], str]]:
    """(the dict, the key) of every place `path` names in `node`."""
    head, rest = path[0], path[1:]
    if head == "*":
        for item in node if isinstance(node, list) else ():
            yield from _places(item, rest)
    elif isinstance(node, dict):
        if not rest:
            yield node, head
        elif node.get(head) is not None:
            yield from _places(node[head], rest)


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value
