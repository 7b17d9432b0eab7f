"""The one shape of a command route: one lifecycle action in one transaction.

Appeals and projects run every action alike: lock the aggregate and replay its history,
refuse a caller with no part in it, decide, turn a lifecycle refusal into problem+json,
write state, history and outbox together, and answer with the view read back after the
commit. The service gives its journal, its authorisation and its refusal mapping
(`Commands`), and names each route's lifecycle action, body and roles (`Commands.action`).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, Protocol, TypeVar

import asyncpg
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from minsheng.aggregate import LifecycleError, Sequenced
from minsheng.auth import Principal
from minsheng.clock import Now
from minsheng.db import Conn
from minsheng.inputs import Text
from minsheng.openapi import problems
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


async def read(
    pool: asyncpg.Pool, journal: Journal[S], aggregate_id: str, *, what: str
) -> dict[str, Any]:
    """The aggregate's view, as a command answers it; a 404 naming `what` if there is none."""
    async with pool.acquire() as conn:
        view = await journal.view(conn, aggregate_id)
    if view is None:
        raise Problem(404, "Not Found", f"no {what} {aggregate_id}")
    return view


Outcome = tuple[S, list[Sequenced]]
Guard = Callable[[Request], Awaitable[Principal]]


@dataclass(frozen=True)
class Commands(Generic[S]):
    """The action routes of one aggregate kind, on `router` (whose prefix names the
    aggregate as the path parameter `key`, e.g. `/v1/appeals/{appeal_id}`).

    `authorize(who, conn, state)` raises a Problem for a caller with no part in the
    aggregate; `refusal` turns a lifecycle refusal into one."""

    router: APIRouter
    pool: Callable[[], asyncpg.Pool]
    journal: Journal[S]
    what: str  # "appeal"
    key: str  # "appeal_id"
    authorize: Callable[[Principal, Conn, S], Awaitable[None]]
    refusal: Callable[[S, LifecycleError], Problem]
    response_model: Any = None

    async def run(
        self, aggregate_id: str, who: Principal, at: datetime, act: Callable[[S], Outcome[S]]
    ) -> dict[str, Any]:
        """`run_action` for a route of the service's own (one that does more than
        `action` says)."""

        async def authorize(conn: Conn, state: S) -> None:
            await self.authorize(who, conn, state)

        return await run_action(
            self.pool(),
            self.journal,
            aggregate_id,
            what=self.what,
            at=at,
            act=act,
            authorize=authorize,
            refusal=self.refusal,
        )

    def action(
        self,
        path: str,
        act: Callable[..., Outcome[S]],
        *,
        guard: Guard,
        body: type[ActionBody] | None = None,
        name: str | None = None,
        doc: str | None = None,
        extra: Callable[[Principal, Any], dict[str, Any]] | None = None,
    ) -> None:
        """Adds `POST <path>`: `act(state, now=..., **body's fields, **extra(who, body))`
        for a caller `guard` admits. The body's fields are named like the action's keyword
        arguments on purpose; `extra` adds (or overrides) arguments from the caller, and
        may refuse it with a Problem. `name` (the OpenAPI operation) defaults to the
        action's, `doc` to its docstring."""

        async def endpoint(**params: Any) -> dict[str, Any]:
            who: Principal = params["who"]
            at: datetime = params["at"]
            given = params.get("body")
            args = {**dict(given or {}), **(extra(who, given) if extra else {})}
            return await self.run(params[self.key], who, at, lambda s: act(s, now=at, **args))

        keyword = inspect.Parameter.KEYWORD_ONLY
        parameters = [
            inspect.Parameter(self.key, keyword, annotation=Text),
            *([inspect.Parameter("body", keyword, annotation=body)] if body else []),
            inspect.Parameter("who", keyword, annotation=Annotated[Principal, Depends(guard)]),
            inspect.Parameter("at", keyword, annotation=Now),
        ]
        endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            parameters, return_annotation=dict[str, Any]
        )
        endpoint.__name__ = name or act.__name__
        endpoint.__doc__ = doc or act.__doc__
        answer = {} if self.response_model is None else {"response_model": self.response_model}
        self.router.post(path, responses=problems(409), **answer)(endpoint)
