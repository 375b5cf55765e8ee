"""Where a request the benchmark waited for in vain got to: each service's record of it.

Read from the services' databases while the stack still runs, so that a request that never
showed as routed in tracking can be followed: did intake record and publish its `received`,
did routing take it and publish its decision, what did tracking's archive get.
"""

from __future__ import annotations

import asyncpg

from shared.database_url import asyncpg_dsn


async def whereabouts(database_urls: dict[str, str], request_ids: list[str]) -> dict[str, str]:
    """For each request, one line: what intake and routing recorded of it (an event still on
    a service's outbox is marked unpublished) and what tracking's archive holds."""
    found: dict[str, list[str]] = {request_id: [] for request_id in request_ids}
    for service in ("intake", "routing"):
        connection = await asyncpg.connect(asyncpg_dsn(database_urls[service]))
        try:
            recorded = await connection.fetch(
                "SELECT stream_id, type, event_id, "
                "EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = e.event_id) AS waiting "
                "FROM events e WHERE stream_id = ANY($1) ORDER BY position",
                request_ids,
            )
        finally:
            await connection.close()
        for request_id in request_ids:
            types = [
                row["type"].rsplit(".", 1)[-1] + (" (unpublished)" if row["waiting"] else "")
                for row in recorded
                if row["stream_id"] == request_id
            ]
            found[request_id].append(f"{service}: {', '.join(types) or 'nothing'}")
    connection = await asyncpg.connect(asyncpg_dsn(database_urls["tracking"]))
    try:
        archived = await connection.fetch(
            "SELECT subject, type FROM archive WHERE subject = ANY($1) ORDER BY position",
            request_ids,
        )
    finally:
        await connection.close()
    for request_id in request_ids:
        types = [row["type"].rsplit(".", 1)[-1] for row in archived if row["subject"] == request_id]
        found[request_id].append(f"tracking's archive: {', '.join(types) or 'nothing'}")
    return {request_id: "; ".join(lines) for request_id, lines in found.items()}
