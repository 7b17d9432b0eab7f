"""SQL of the contact lookup: a citizen's phone by `contact_ref`, and the audit trail."""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from datetime import datetime

from appeals.contacting import Holder
from minsheng.db import Conn


@dataclass(frozen=True)
class Contact:
    holder: Holder
    phone: str | None  # None: the appeal was received without one


async def contact_of(conn: Conn, contact_ref: str, appeal_id: str | None) -> Contact | None:
    """The appeal `appeal_id` if it has this contact, else (no id) the latest appeal that
    has it, with the full phone number; None when there is none."""
    row = await conn.fetchrow(
        """SELECT id, status, unit, phone FROM appeals
           WHERE contact_ref = $1 AND ($2::text IS NULL OR id = $2)
           ORDER BY received_at DESC, id DESC LIMIT 1""",
        contact_ref,
        appeal_id,
    )
    if row is None:
        return None
    return Contact(Holder(row["id"], row["status"], row["unit"]), row["phone"])


@dataclass(frozen=True)
class Lookup:
    """One read of a contact, allowed or refused: who, for which appeal, when, why."""

    contact_ref: str
    appeal_id: str | None  # the appeal read for, or the one asked for when refused
    key_name: str
    role: str
    unit: str | None
    purpose: str
    allowed: bool
    found: bool
    at: datetime


async def record_lookup(conn: Conn, lookup: Lookup) -> None:
    """The lookup as a row of `contact_lookups` (the audit trail; no number in it)."""
    columns = ", ".join(f.name for f in fields(Lookup))
    values = ", ".join(f"${i}" for i in range(1, len(fields(Lookup)) + 1))
    await conn.execute(
        f"INSERT INTO contact_lookups ({columns}) VALUES ({values})", *astuple(lookup)
    )
