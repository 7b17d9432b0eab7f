"""The injectable clock and the city's zone (invariant 7), shared by the HTTP services.

Routes ask `now`; tests replace `app.state.clock` to move time on. Calendar days (due
dates, planned ends) are the city's days, Asia/Shanghai, whatever the server's zone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request

Clock = Callable[[], datetime]
CITY_TZ = ZoneInfo("Asia/Shanghai")


def system_clock() -> datetime:
    return datetime.now(UTC)


def clock_of(request: Request) -> datetime:
    """The app's clock, read now: for a route that reads it at a moment of its choosing."""
    clock: Clock = request.app.state.clock
    return clock()


async def now(request: Request) -> datetime:
    """FastAPI dependency: the app's clock, read once per request (async: a plain
    function would run in the thread pool, a costly hop on every request)."""
    return clock_of(request)


Now = Annotated[datetime, Depends(now)]  # a route's parameter: the request's instant


def require_aware(moment: datetime) -> datetime:
    """Naive times are a bug (invariant 7): refuse them before they compare wrongly."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: times must be timezone-aware")
    return moment


def local_day(moment: datetime) -> date:
    """The city's calendar day of an aware instant."""
    return require_aware(moment).astimezone(CITY_TZ).date()
