"""The injectable clock (invariant 7): routes ask `now`, tests replace `app.state.clock`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import Request

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def now(request: Request) -> datetime:
    """FastAPI dependency: the app's clock, read once per request."""
    clock: Clock = request.app.state.clock
    return clock()
