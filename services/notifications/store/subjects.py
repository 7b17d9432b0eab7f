"""SQL of what the consumer remembers of appeals and projects (`subjects`)."""

from __future__ import annotations

from collections.abc import Iterable

from minsheng.db import Conn
from notifications.memory import Kind, Subject

SUBJECT_COLUMNS = """kind, id, unit, assisting_units, deadline, contact_ref, phone_masked,
    secretary_name, title"""


async def subjects(conn: Conn, keys: Iterable[tuple[Kind, str]]) -> dict[tuple[Kind, str], Subject]:
    """What is remembered of these appeals and projects (locked for the transaction); a
    subject never seen is new and empty."""
    wanted = list(dict.fromkeys(keys))
    rows = await conn.fetch(
        f"""SELECT {SUBJECT_COLUMNS} FROM subjects
            WHERE (kind, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
            ORDER BY kind, id FOR UPDATE""",
        [kind for kind, _ in wanted],
        [subject_id for _, subject_id in wanted],
    )
    found = {
        (r["kind"], r["id"]): Subject(**{**dict(r), "assisting_units": tuple(r["assisting_units"])})
        for r in rows
    }
    return {key: found.get(key) or Subject(*key) for key in wanted}


async def save_subjects(conn: Conn, changed: Iterable[Subject]) -> None:
    await conn.executemany(
        f"""INSERT INTO subjects ({SUBJECT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (kind, id) DO UPDATE SET unit = $3, assisting_units = $4,
                deadline = $5, contact_ref = $6, phone_masked = $7, secretary_name = $8,
                title = $9, updated_at = now()""",
        [
            (
                s.kind,
                s.id,
                s.unit,
                list(s.assisting_units),
                s.deadline,
                s.contact_ref,
                s.phone_masked,
                s.secretary_name,
                s.title,
            )
            for s in changed
        ],
    )
