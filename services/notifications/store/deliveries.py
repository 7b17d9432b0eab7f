"""SQL of deliveries, their attempts and disabled endpoints: what the consumer and the
pager insert and the worker claims, attempts and finishes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from minsheng.db import Conn, columns
from notifications.fanout import NewDelivery

WAKE = "minsheng_notifications"  # NOTIFY channel: deliveries became due
_ENCODER = msgspec.json.Encoder()


def _json(document: dict[str, Any]) -> str:
    """JSON text of a payload (JSON values only), the characters as they are."""
    return _ENCODER.encode(document).decode()


async def insert_deliveries(conn: Conn, planned: list[NewDelivery], now: datetime) -> None:
    """Inserts what is new; a (event, recipient, channel) already there stays as it is."""
    if not planned:
        return
    rows = [
        (
            d.id,
            d.origin.event_id,
            d.origin.event_type,
            d.origin.time,
            d.rule,
            d.target.recipient,
            d.target.kind,
            d.channel,
            d.address,
            d.origin.subject_kind,
            d.origin.subject_id,
            d.page_id,
            d.title,
            d.body,
            _json(d.payload),
            d.first_attempt_at,
            d.first_attempt_at if d.deferred else None,
            now,
        )
        for d in planned
    ]
    # one statement for the batch (arrays, column by column), not one per row, and the
    # worker's wake-up (sent at commit) in the same round trip
    await conn.execute(
        """WITH inserted AS (INSERT INTO deliveries (id, event_id, event_type, event_time,
               rule, recipient, recipient_kind, channel, address, subject_kind, subject_id,
               page_id, title, body, payload, next_attempt_at, deferred_until, created_at)
           SELECT id, event_id, event_type, event_time, rule, recipient, recipient_kind,
               channel, address, subject_kind, subject_id, page_id, title, body,
               payload::jsonb, next_attempt_at, deferred_until, created_at
           FROM unnest($1::text[], $2::uuid[], $3::text[], $4::timestamptz[], $5::text[],
               $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
               $12::text[], $13::text[], $14::text[], $15::text[], $16::timestamptz[],
               $17::timestamptz[], $18::timestamptz[])
               AS d(id, event_id, event_type, event_time, rule, recipient, recipient_kind,
                    channel, address, subject_kind, subject_id, page_id, title, body,
                    payload, next_attempt_at, deferred_until, created_at)
           ON CONFLICT (event_id, recipient, channel) DO NOTHING RETURNING 1)
           SELECT pg_notify($19, '')""",
        *columns(rows, 18),
        WAKE,
    )


@dataclass(frozen=True)
class Due:
    """A claimed delivery: what an attempt needs."""

    id: str
    event_id: Any
    event_time: datetime
    rule: str
    recipient: str
    recipient_kind: str
    channel: str
    address: str
    subject_kind: str
    title: str
    body: str
    payload: str  # JSON text
    attempts: int
    budget_start: int
    outcome_sequence: int
    disabled: bool  # a 410 disabled its endpoint


DUE_COLUMNS = """id, event_id, event_time, rule, recipient, recipient_kind, channel, address,
    subject_kind, title, body, payload, attempts, budget_start, outcome_sequence"""


async def claim_due(pool: asyncpg.Pool, now: datetime, limit: int, lease: float) -> list[Due]:
    """Takes up to `limit` deliveries due by `now` (the platform's clock) for one attempt
    each, leasing them for `lease` seconds of the database's clock (SKIP LOCKED: two
    workers never take the same row; a worker that dies leaves its rows to be taken
    again when the lease runs out). A claimed row's `next_attempt_at` moves past the
    lease too, so the rows in flight (and, until vacuum, their dead versions) leave the
    due index's range that every claim scans."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"""WITH due AS (
                    SELECT id FROM deliveries
                    WHERE status = 'pending' AND next_attempt_at <= $1
                        AND (leased_until IS NULL OR leased_until < clock_timestamp())
                    ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
                UPDATE deliveries d
                SET leased_until = clock_timestamp() + make_interval(secs => $3),
                    next_attempt_at = $1 + make_interval(secs => $3)
                FROM due WHERE d.id = due.id
                RETURNING {", ".join(f"d.{c.strip()}" for c in DUE_COLUMNS.split(","))},
                    EXISTS (SELECT FROM disabled_endpoints e
                            WHERE e.channel = d.channel AND e.address = d.address) AS disabled""",
            now,
            limit,
            lease,
        )
    return [Due(**r) for r in rows]


async def next_due(pool: asyncpg.Pool) -> datetime | None:
    return await pool.fetchval(  # type: ignore[no-any-return]
        "SELECT min(next_attempt_at) FROM deliveries WHERE status = 'pending'"
    )


async def release(pool: asyncpg.Pool, abandoned: list[Due], now: datetime) -> None:
    """Ends the leases of attempts abandoned unrecorded (the attempt count tells), so
    they are due again at once."""
    await pool.executemany(
        """UPDATE deliveries SET leased_until = NULL, next_attempt_at = $3
           WHERE id = $1 AND attempts = $2 AND status = 'pending'""",
        [(due.id, due.attempts, now) for due in abandoned],
    )


async def postpone(pool: asyncpg.Pool, delivery_id: str, until: datetime) -> None:
    """Holds a claimed delivery back, unattempted, until `until` (quiet hours)."""
    await pool.execute(
        """UPDATE deliveries SET next_attempt_at = $2, deferred_until = $2, leased_until = NULL
           WHERE id = $1""",
        delivery_id,
        until,
    )


@dataclass(frozen=True)
class AttemptRecord:
    number: int
    at: datetime
    result: str
    response_code: int | None
    error: str | None
    duration_ms: int
    status: str
    next_attempt_at: datetime | None


async def record_attempts(conn: Conn, done: list[tuple[Due, AttemptRecord]]) -> set[str]:
    """The attempts and their deliveries' new states, a batch at a time (the caller's
    transaction also appends the outcome events of those finished); returns the ids
    recorded. An attempt whose number was recorded already (a second worker's, after a
    lease ran out) is left out, not let fail the batch."""
    done = list({d.id: (d, a) for d, a in reversed(done)}.values())  # the first per delivery
    # the new states and the attempts in one statement: an attempt is logged only where
    # its delivery's state moved on (the attempt count guards a second worker's)
    updated = await conn.fetch(
        """WITH u AS (
               SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[],
                   $5::text[], $6::timestamptz[], $7::int[], $8::timestamptz[], $9::text[],
                   $10::int[], $11::int[])
               AS u(id, status, attempts, next_attempt_at, error, finished_at, finished, at,
                    result, response_code, duration_ms)),
           updated AS (
               UPDATE deliveries d SET status = u.status, attempts = u.attempts,
                   next_attempt_at = u.next_attempt_at, last_error = u.error,
                   finished_at = u.finished_at, deferred_until = NULL, leased_until = NULL,
                   outcome_sequence = d.outcome_sequence + u.finished
               FROM u WHERE d.id = u.id AND d.attempts = u.attempts - 1
               RETURNING d.id),
           logged AS (
               INSERT INTO attempts (delivery_id, number, at, result, response_code, error,
                   duration_ms)
               SELECT u.id, u.attempts, u.at, u.result, u.response_code, u.error,
                   u.duration_ms
               FROM u JOIN updated USING (id))
           SELECT id FROM updated""",
        *columns(
            [
                (
                    d.id,
                    a.status,
                    a.number,
                    a.next_attempt_at or a.at,
                    a.error,
                    a.at if a.status != "pending" else None,
                    int(a.status != "pending"),
                    a.at,
                    a.result,
                    a.response_code,
                    a.duration_ms,
                )
                for d, a in done
            ],
            11,
        ),
    )
    recorded = {row["id"] for row in updated}
    gone = [
        (d.channel, d.address, a.at, a.error or "410 Gone")
        for d, a in done
        if a.result == "disabled" and d.id in recorded
    ]
    if gone:
        await conn.executemany(
            """INSERT INTO disabled_endpoints (channel, address, disabled_at, reason)
               VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
            gone,
        )
    return recorded


async def retry(conn: Conn, delivery_id: str, now: datetime) -> str | None:
    """Puts a failed delivery back to work with a fresh budget of attempts, enabling its
    endpoint again; returns its status before (None: no such delivery)."""
    row = await conn.fetchrow(
        "SELECT status, channel, address FROM deliveries WHERE id = $1 FOR UPDATE", delivery_id
    )
    if row is None:
        return None
    if row["status"] == "failed":
        await conn.execute(
            """UPDATE deliveries SET status = 'pending', next_attempt_at = $2,
                   budget_start = attempts, finished_at = NULL WHERE id = $1""",
            delivery_id,
            now,
        )
        await conn.execute(
            "DELETE FROM disabled_endpoints WHERE channel = $1 AND address = $2",
            row["channel"],
            row["address"],
        )
        await conn.execute("SELECT pg_notify($1, '')", WAKE)
    return str(row["status"])


async def pending_by_channel(pool: asyncpg.Pool) -> dict[str, int]:
    rows = await pool.fetch(
        "SELECT channel, count(*) AS n FROM deliveries WHERE status = 'pending' GROUP BY 1"
    )
    return {r["channel"]: r["n"] for r in rows}
