"""SQL of alerts seen and pages: idempotency per alert, escalation, acknowledgement."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from minsheng.db import Conn
from notifications.pager import Alert


async def first_sighting(conn: Conn, alert: Alert, now: datetime) -> bool:
    """Records (fingerprint, status, startsAt); False if it was seen before."""
    first = await conn.fetchval(
        """INSERT INTO alerts_seen (fingerprint, status, starts_at, alertname, severity,
               received_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT DO NOTHING RETURNING true""",
        alert.fingerprint,
        alert.status,
        alert.startsAt,
        alert.name,
        alert.severity,
        now,
    )
    return bool(first)


async def open_page(
    conn: Conn,
    page_id: str,
    alert: Alert,
    chain: tuple[str, ...],
    escalate_at: datetime | None,
    now: datetime,
) -> bool:
    created = await conn.fetchval(
        """INSERT INTO pages (id, fingerprint, starts_at, alertname, alert, chain, escalate_at,
               created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT DO NOTHING RETURNING true""",
        page_id,
        alert.fingerprint,
        alert.startsAt,
        alert.name,
        alert.model_dump_json(),
        list(chain),
        escalate_at,
        now,
    )
    return bool(created)


@dataclass(frozen=True)
class Page:
    id: str
    alert: Alert
    chain: tuple[str, ...]
    step: int


def _page(row: Any) -> Page:
    alert = Alert.model_validate(json.loads(row["alert"]))
    return Page(row["id"], alert, tuple(row["chain"]), row["step"])


async def resolve_page(conn: Conn, alert: Alert, now: datetime) -> Page | None:
    """Ends the page of a resolved alert (no more escalation); None if there was none."""
    row = await conn.fetchrow(
        """UPDATE pages SET resolved_at = $3, escalate_at = NULL
           WHERE fingerprint = $1 AND starts_at = $2 RETURNING id, alert, chain, step""",
        alert.fingerprint,
        alert.startsAt,
        now,
    )
    return None if row is None else _page(row)


async def claim_escalations(conn: Conn, now: datetime, limit: int = 100) -> list[Page]:
    """Pages whose ack time ran out, locked for this transaction (SKIP LOCKED)."""
    rows = await conn.fetch(
        """SELECT id, alert, chain, step FROM pages
           WHERE acked_at IS NULL AND resolved_at IS NULL AND escalate_at <= $1
           ORDER BY escalate_at LIMIT $2 FOR UPDATE SKIP LOCKED""",
        now,
        limit,
    )
    return [_page(r) for r in rows]


async def escalated(conn: Conn, page_id: str, step: int, escalate_at: datetime | None) -> None:
    """The page moved to `step` of its chain; `escalate_at` None once the chain is done."""
    await conn.execute(
        "UPDATE pages SET step = $2, escalate_at = $3 WHERE id = $1", page_id, step, escalate_at
    )


async def acknowledge(
    conn: Conn, delivery_id: str, by: str, now: datetime
) -> dict[str, Any] | None:
    """Acknowledges the page a delivery belongs to (the first ack stands); None if the
    delivery is unknown; the page's id None if the delivery is not a page."""
    row = await conn.fetchrow("SELECT page_id FROM deliveries WHERE id = $1", delivery_id)
    if row is None:
        return None
    if row["page_id"] is None:
        return {"page_id": None}
    page = await conn.fetchrow(
        """UPDATE pages SET acked_at = coalesce(acked_at, $2), acked_by = coalesce(acked_by, $3),
               escalate_at = CASE WHEN acked_at IS NULL THEN NULL ELSE escalate_at END
           WHERE id = $1
           RETURNING id AS page_id, acked_at, acked_by, step, chain, resolved_at""",
        row["page_id"],
        now,
        by,
    )
    return None if page is None else {**dict(page), "chain": list(page["chain"])}
