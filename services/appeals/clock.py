"""The injectable clock (invariant 7): routes ask `now`, tests replace `app.state.clock`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import Request

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def clock_of(request: Request) -> datetime:
    """The app's clock, read now."""
    clock: Clock = request.app.state.clock
    return clock()


async def now(request: Request) -> datetime:
    """FastAPI dependency: the app's clock, read once per request (async: a plain
    function would be run in the thread pool, a costly hop on every request)."""
    return clock_of(request)
