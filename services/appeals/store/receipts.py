"""Writing new appeals: `receive`, the one path of a new appeal, and its SQL.

POST /v1/appeals, Open311 and other government systems over Kafka all come here:
AppealReceived (1) and, in the same statement, the automatic 派单 by the routing rules,
AppealDispatched (2) (`receiving.dispatched_on_receipt`). Many receipts share one
statement (`receive_many`), each answered on its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import asyncpg

from appeals import receiving, timing
from appeals.columns import PRIVATE
from appeals.lifecycle import AppealState
from appeals.receiving import Appeal, UnknownPlace
from appeals.store import SHOWN, next_serials, sql_type, value
from appeals.store.journal import fresh_view, new_events
from appeals.store.serials import SerialBlocks
from appeals.store.timers import TIMERS
from minsheng import outbox
from minsheng.db import Conn
from minsheng.events import AppealReceived, CloudEvent
from minsheng.topics import APPEALS


class Replay(Exception):
    """Another request with the same Idempotency-Key won: its appeal is the answer."""

    def __init__(self, appeal_id: str) -> None:
        super().__init__(appeal_id)
        self.appeal_id = appeal_id


@dataclass(frozen=True)
class Receipt:
    """One appeal to receive, at the instant its request came in."""

    cmd: receiving.ReceiveAppeal
    at: datetime
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Received:
    appeal_id: str
    view: dict[str, Any]  # as `journal.view` would read it back, without reading it


ReceiveAnswer = Received | UnknownPlace | Replay


async def receive(
    conn: Conn, cmd: receiving.ReceiveAppeal, at: datetime, *, idempotency_key: str | None = None
) -> str:
    """受理 and 派单 in the caller's transaction; returns the new appeal's id.

    Raises `receiving.UnknownPlace`, or `Replay` when another appeal holds the key.
    """
    (answer,) = await receive_many(conn, [Receipt(cmd, at, idempotency_key)])
    if isinstance(answer, Exception):
        raise answer
    return answer.appeal_id


async def receive_many(
    conn: Conn, receipts: Sequence[Receipt], serials: SerialBlocks | None = None
) -> list[ReceiveAnswer]:
    """`receive` for many appeals in one statement (`insert_received`): atomic by itself,
    so it needs no transaction of its own, or part of the caller's.

    Each receipt is answered on its own: received, an unknown place, or a replay of the
    appeal that already holds its Idempotency-Key (also one earlier in the same list).
    `serials` hands out the appeal numbers from memory; without it they come from the
    sequence, one round trip more.
    """
    answers: list[ReceiveAnswer | None] = [None] * len(receipts)
    numbers = await (
        serials.take(conn, len(receipts))
        if serials is not None
        else next_serials(conn, len(receipts))
    )
    built: list[tuple[int, Appeal, AppealReceived]] = []
    for i, (r, serial) in enumerate(zip(receipts, numbers, strict=True)):
        try:
            built.append((i, *receiving.receive(r.cmd, serial=serial, now=r.at)))
        except UnknownPlace as exc:
            answers[i] = exc
    claims: dict[str, str] = {}  # the first appeal of each key in the list claims it
    fresh: list[tuple[int, Appeal, AppealReceived]] = []
    for i, appeal, received in built:
        key = receipts[i].idempotency_key
        if key is None or claims.setdefault(key, appeal.id) == appeal.id:
            fresh.append((i, appeal, received))
    outcomes = [
        (*receiving.dispatched_on_receipt(received, receipts[i].at), receipts[i].at)
        for i, _, received in fresh
    ]
    events = new_events(outcomes)
    lost = await insert_received(
        conn,
        [
            (appeal, state, at, receipts[i].idempotency_key)
            for (i, appeal, _), (state, _, at) in zip(fresh, outcomes, strict=True)
        ],
        [event for mine in events.values() for event in mine],
    )
    holders = {**claims, **(await key_holders(conn, sorted(lost)) if lost else {})}
    for (i, appeal, _), (state, _, at) in zip(fresh, outcomes, strict=True):
        if receipts[i].idempotency_key not in lost:
            answers[i] = Received(appeal.id, fresh_view(appeal, state, events[appeal.id], at))
    for i, answer in enumerate(answers):
        if answer is None:  # its key was claimed by another receipt, here or earlier
            answers[i] = Replay(holders[cast(str, receipts[i].idempotency_key)])
    return cast(list[ReceiveAnswer], answers)


async def insert_received(
    conn: Conn,
    appeals: Sequence[tuple[Appeal, AppealState, datetime, str | None]],
    events: Sequence[CloudEvent],
) -> set[str]:
    """New appeals (each with its Idempotency-Key or None), their events (outbox and
    history) and their supervision timers, in one statement: one round trip, atomic on
    its own, or part of the caller's transaction if there is one.

    An appeal whose key another appeal already holds is left out, with its events and
    timers; the keys of those are returned (`key_holders` says who holds them). Keys
    are claimed in sorted order, so two statements claiming overlapping keys wait on
    each other instead of deadlocking; one claim of a key is in the list at most."""
    keys = sorted((key, a.id) for a, _, _, key in appeals if key is not None)
    rows = [
        (*(_literal(value(c, appeal, state, now)) for c in _WRITTEN), key)
        for appeal, state, now, key in appeals
    ]
    history = [
        (
            e.subject,
            e.sequence,
            e.id,
            e.type,
            e.to_json().decode(),
            json.dumps(e.data, ensure_ascii=False),
            e.time,
        )
        for e in events
    ]
    timers = TIMERS.rows_of(t for _, state, _, _ in appeals for t in timing.timers(state))
    lost = await conn.fetchval(
        _INSERT_RECEIVED,
        [k for k, _ in keys],
        [appeal_id for _, appeal_id in keys],
        *_columns(rows, len(_WRITTEN) + 1),
        *_columns(history, 7),
        *_columns(timers, 2 + len(TIMERS.what)),
        APPEALS,
    )
    return set(lost)


async def key_holders(conn: Conn, keys: Sequence[str]) -> dict[str, str]:
    """The appeal that holds each of these Idempotency-Keys."""
    rows = await conn.fetch(
        "SELECT key, appeal_id FROM idempotency_keys WHERE key = ANY($1::text[])", list(keys)
    )
    return {r["key"]: r["appeal_id"] for r in rows}


async def holder(conn: Conn | asyncpg.Pool, key: str) -> str | None:
    """The appeal that holds this Idempotency-Key, if one does."""
    found: str | None = await conn.fetchval(
        "SELECT appeal_id FROM idempotency_keys WHERE key = $1", key
    )
    return found


def _literal(column: Any) -> Any:
    """A list as a text[] literal, `['a', 'b"c']` -> `{"a","b\\"c"}`: unnest would
    flatten a text[][]; anything else as it is."""
    if not isinstance(column, list):
        return column
    quoted = ('"' + i.replace("\\", "\\\\").replace('"', '\\"') + '"' for i in column)
    return "{" + ",".join(quoted) + "}"


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows to one list per column, as `unnest` takes them back."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


_WRITTEN = (*SHOWN, *PRIVATE)  # the columns of a new appeal, in `insert_received`'s order


def _insert_received_sql() -> str:
    first = 3  # $1 and $2: the keys and their appeals
    kinds = [sql_type(c).replace("[]", "") for c in _WRITTEN] + ["text"]  # lists: literals
    appeal_params = ", ".join(f"${first + i}::{kind}[]" for i, kind in enumerate(kinds))
    stored = ", ".join(_WRITTEN)
    selected = ", ".join(
        f"{c}::{sql_type(c)}" if sql_type(c).endswith("[]") else c for c in _WRITTEN
    )
    e = first + len(kinds)
    t = e + 7
    timer_kinds = ["text", *(kind for _, kind in TIMERS.what), "timestamptz"]
    timer_params = ", ".join(f"${t + i}::{kind}[]" for i, kind in enumerate(timer_kinds))
    timer_columns = ", ".join([TIMERS.key, *(column for column, _ in TIMERS.what), TIMERS.due])
    return f"""
    WITH claimed AS (
        INSERT INTO idempotency_keys (key, appeal_id)
        SELECT * FROM unnest($1::text[], $2::text[])
        ON CONFLICT (key) DO NOTHING
        RETURNING key
    ), kept AS (
        SELECT * FROM unnest({appeal_params}) AS a({stored}, idempotency_key)
        WHERE idempotency_key IS NULL OR idempotency_key IN (SELECT key FROM claimed)
    ), appeals_in AS (
        INSERT INTO appeals ({stored}) SELECT {selected} FROM kept
    ), events AS (
        SELECT * FROM unnest(${e}::text[], ${e + 1}::int4[], ${e + 2}::uuid[], ${e + 3}::text[],
                             ${e + 4}::text[], ${e + 5}::text[], ${e + 6}::timestamptz[])
            AS e(aggregate_id, sequence, event_id, type, payload, data, time)
        WHERE aggregate_id IN (SELECT id FROM kept)
    ), outbox_in AS (
        {outbox.insert_from("events", topic=f"${t + len(timer_kinds)}")}
    ), history_in AS (
        INSERT INTO appeal_events (appeal_id, sequence, type, data, time, event_id)
        SELECT aggregate_id, sequence, type, data::jsonb, time, event_id FROM events
    ), timers_in AS (
        INSERT INTO {TIMERS.table} ({timer_columns})
        SELECT * FROM unnest({timer_params}) AS t({timer_columns})
        WHERE {TIMERS.key} IN (SELECT id FROM kept)
        ON CONFLICT DO NOTHING
    )
    SELECT array(SELECT unnest($1::text[]) EXCEPT SELECT key FROM claimed), {outbox.NOTIFY}"""


_INSERT_RECEIVED = _insert_received_sql()
