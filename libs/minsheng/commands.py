"""The one shape of a command route: one lifecycle action in one transaction.

Appeals and projects run every action alike: lock the aggregate and replay its history,
refuse a caller with no part in it, decide, turn a lifecycle refusal into problem+json,
write state, history and outbox together, and answer with the view read back after the
commit. The service gives its journal, its authorisation and its refusal mapping.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

import asyncpg
from pydantic import BaseModel, ConfigDict

from minsheng.aggregate import LifecycleError, Sequenced
from minsheng.db import Conn
from minsheng.problems import Problem

S = TypeVar("S")


class ActionBody(BaseModel):
    """Bodies name their fields like the lifecycle action's keyword arguments."""

    model_config = ConfigDict(extra="forbid")


class Journal(Protocol[S]):
    """What a service's `journal` module offers for its aggregate's state `S`."""

    async def load_state(self, conn: Conn, aggregate_id: str, /) -> S | None: ...

    async def record(
        self, conn: Conn, state: S, emitted: list[Sequenced], now: datetime, /
    ) -> None: ...

    async def view(self, conn: Conn, aggregate_id: str, /) -> dict[str, Any] | None: ...


async def run_action(
    pool: asyncpg.Pool,
    journal: Journal[S],
    aggregate_id: str,
    *,
    what: str,
    at: datetime,
    act: Callable[[S], tuple[S, list[Sequenced]]],
    authorize: Callable[[Conn, S], Awaitable[None]],
    refusal: Callable[[S, LifecycleError], Problem],
) -> dict[str, Any]:
    """Runs `act` on the aggregate `aggregate_id` (a 404 naming `what` if there is none);
    `authorize` raises a Problem for a caller with no part in it."""
    async with pool.acquire() as conn:
        async with conn.transaction():
            state = await journal.load_state(conn, aggregate_id)
            if state is None:
                raise Problem(404, "Not Found", f"no {what} {aggregate_id}")
            await authorize(conn, state)
            try:
                new, emitted = act(state)
            except LifecycleError as exc:
                raise refusal(state, exc) from exc
            await journal.record(conn, new, emitted, at)
        view = await journal.view(conn, aggregate_id)
    assert view is not None
    return view
