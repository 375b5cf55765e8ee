"""What an identifier in a URL may look like: short, and made of the characters ids are made of.

Request, assignment, subscription and delivery ids are UUIDs, office ids slugs such as
`vjt-subotica`; anything longer or with other characters (slashes, spaces, control characters)
is refused with 422 before it reaches a query, a log line or an error message.
"""

import re
from typing import Annotated

from fastapi import Path, Query
from pydantic import AwareDatetime, BeforeValidator
from pydantic_core import PydanticCustomError

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
ID_MAX_LENGTH = 100

PathId = Annotated[
    str, Path(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN, examples=["vjt-subotica"])
]
QueryId = Annotated[str | None, Query(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN)]
# An opaque page cursor handed out by a listing and passed back unchanged.
Cursor = Annotated[str | None, Query(min_length=1, max_length=300)]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _written_as_iso_8601(value: object) -> object:
    # pydantic would also take a number of seconds since 1970; the schema promises, and
    # callers mean, an ISO 8601 moment with its offset.
    if isinstance(value, str | bytes) and not _ISO_DATE.match(str(value)):
        raise PydanticCustomError("iso_8601", "give a moment as ISO 8601 with its offset")
    if isinstance(value, int | float):
        raise PydanticCustomError("iso_8601", "give a moment as ISO 8601 with its offset")
    return value


# A moment in time as ISO 8601 with its offset, e.g. 2026-11-01T00:00:00+01:00.
IsoMoment = Annotated[AwareDatetime, BeforeValidator(_written_as_iso_8601)]
