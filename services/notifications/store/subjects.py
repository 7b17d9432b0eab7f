"""SQL of what the consumer remembers of appeals and projects (`subjects`)."""

from __future__ import annotations

from minsheng.db import Conn
from notifications.memory import Kind, Subject

SUBJECT_COLUMNS = """kind, id, unit, assisting_units, deadline, contact_ref, phone_masked,
    secretary_name, title"""


async def subject(conn: Conn, kind: Kind, subject_id: str) -> Subject:
    """What is remembered of an appeal or project (locked for the transaction)."""
    row = await conn.fetchrow(
        f"SELECT {SUBJECT_COLUMNS} FROM subjects WHERE kind = $1 AND id = $2 FOR UPDATE",
        kind,
        subject_id,
    )
    if row is None:
        return Subject(kind, subject_id)
    return Subject(**{**dict(row), "assisting_units": tuple(row["assisting_units"])})


async def save_subject(conn: Conn, s: Subject) -> None:
    await conn.execute(
        f"""INSERT INTO subjects ({SUBJECT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (kind, id) DO UPDATE SET unit = $3, assisting_units = $4,
                deadline = $5, contact_ref = $6, phone_masked = $7, secretary_name = $8,
                title = $9, updated_at = now()""",
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
