"""The office directory in PostgreSQL: every version kept whole, the highest is current.

Seeded at start from `shared/reference/offices.json` when the table is empty; after that
operators change it through the API, each change a new version, never an update in place.
"""

from __future__ import annotations

import json
from importlib import resources

import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing.adapters.tables import directory_versions
from services.routing.domain.codec import directory_from_dict, directory_to_dict
from services.routing.domain.directory import Directory
from services.routing.domain.seed import seed_directory
from shared.db import driver, quoted
from shared.eventstore import ConcurrencyError


def seed_document() -> dict[str, object]:
    """The office data the project ships (what could be confirmed, and what was inferred)."""
    text = resources.files("shared.reference").joinpath("offices.json").read_text("utf-8")
    data: dict[str, object] = json.loads(text)
    return data


_CURRENT_VERSION = f"SELECT max(version) FROM {quoted(directory_versions)}"


class DirectoryStore:
    """Reads and writes directory versions; caches the parsed current version."""

    def __init__(self) -> None:
        self._cached: Directory | None = None

    async def current(self, session: AsyncSession) -> Directory:
        # Asked at every request routed: a written statement on the driver's connection
        # (through the session, building and compiling it cost more than running it).
        version = await (await driver(session)).fetchval(_CURRENT_VERSION)
        if version is None:
            raise LookupError("the office directory is empty: it is seeded when routing starts")
        if self._cached is None or self._cached.version != version:
            document = await session.scalar(
                sa.select(directory_versions.c.document).where(
                    directory_versions.c.version == version
                )
            )
            self._cached = directory_from_dict(document)
        return self._cached

    async def ensure_seeded(self, session: AsyncSession) -> bool:
        """Store version 1 from the shipped data when no version exists; True if it did."""
        if await session.scalar(sa.select(sa.func.count()).select_from(directory_versions)):
            return False
        directory = seed_directory(seed_document())
        await self.save(session, directory, note="seeded from offices.json", changed_by=None)
        return True

    async def save(
        self, session: AsyncSession, directory: Directory, *, note: str, changed_by: str | None
    ) -> None:
        """Store a new version (raises `ConcurrencyError` when that version number exists)."""
        try:
            async with session.begin_nested():
                await session.execute(
                    sa.insert(directory_versions).values(
                        version=directory.version,
                        document=directory_to_dict(directory),
                        note=note,
                        changed_by=changed_by,
                    )
                )
        except sqlalchemy.exc.IntegrityError as exc:
            raise ConcurrencyError("office-directory", directory.version - 1) from exc

    async def history(self, session: AsyncSession) -> list[dict[str, object]]:
        rows = await session.execute(
            sa.select(
                directory_versions.c.version,
                directory_versions.c.note,
                directory_versions.c.changed_by,
                directory_versions.c.created_at,
            ).order_by(directory_versions.c.version.desc())
        )
        return [dict(row._mapping) for row in rows]
