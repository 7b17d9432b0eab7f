"""SQL of the contact lookup: a citizen's phone by `contact_ref`, and the audit trail."""

from __future__ import annotations

from datetime import datetime

from minsheng.db import Conn


async def phone_of(conn: Conn, contact_ref: str) -> str | None:
    """The full phone number behind `contact_ref`, or None (unknown, or no phone given)."""
    phone: str | None = await conn.fetchval(
        "SELECT phone FROM appeals WHERE contact_ref = $1 AND phone IS NOT NULL LIMIT 1",
        contact_ref,
    )
    return phone


async def record_lookup(
    conn: Conn,
    *,
    contact_ref: str,
    key_name: str,
    role: str,
    purpose: str | None,
    allowed: bool,
    found: bool,
    at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO contact_lookups
               (contact_ref, key_name, role, purpose, allowed, found, at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        contact_ref,
        key_name,
        role,
        purpose,
        allowed,
        found,
        at,
    )
