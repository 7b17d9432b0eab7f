"""SQL of what the consumer remembers of appeals and projects (`subjects`)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from minsheng.db import Conn, columns
from notifications.memory import Kind, Subject

SUBJECT_COLUMNS = """kind, id, unit, assisting_units, deadline, contact_ref, phone_masked,
    secretary_name, title, grid"""


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
    rows = [
        (
            s.kind,
            s.id,
            s.unit,
            json.dumps(s.assisting_units, ensure_ascii=False),  # an array per row: as JSON
            s.deadline,
            s.contact_ref,
            s.phone_masked,
            s.secretary_name,
            s.title,
            s.grid,
        )
        for s in changed
    ]
    if not rows:
        return
    await conn.execute(
        f"""INSERT INTO subjects ({SUBJECT_COLUMNS})
            SELECT kind, id, unit,
                ARRAY(SELECT jsonb_array_elements_text(assisting_units::jsonb)), deadline,
                contact_ref, phone_masked, secretary_name, title, grid
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
                AS s({SUBJECT_COLUMNS})
            ON CONFLICT (kind, id) DO UPDATE SET unit = EXCLUDED.unit,
                assisting_units = EXCLUDED.assisting_units, deadline = EXCLUDED.deadline,
                contact_ref = EXCLUDED.contact_ref, phone_masked = EXCLUDED.phone_masked,
                secretary_name = EXCLUDED.secretary_name, title = EXCLUDED.title,
                grid = EXCLUDED.grid, updated_at = now()""",
        *columns(rows, 10),
    )
