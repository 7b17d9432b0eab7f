"""SQL of the intake: which project an applied intake event became part of.

`intake_seen` itself is written by `minsheng.jobs.first_sighting` (each event applies once).
"""

from __future__ import annotations

from minsheng.db import Conn
from minsheng.events import ParsedEvent


async def note_project(conn: Conn, event: ParsedEvent, project_id: str) -> None:
    """Records the project an intake event (seen once already) was applied to."""
    await conn.execute(
        "UPDATE intake_seen SET project_id = $3 WHERE source = $1 AND event_id = $2",
        event.envelope.source,
        str(event.envelope.id),
        project_id,
    )
