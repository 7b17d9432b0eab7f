"""Tumbling windows of one hour in the city's time zone, by event time, with expiry.

An appeal falls in the hour window of its AppealReceived.received_at; a day is the sum of
its 24 hours (Asia/Shanghai has whole-hour offsets, so hours tile its days). Windows are
named by their local start, e.g. "2019-10-08T09", which also sorts them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from analytics.counting import Figure

CITY = ZoneInfo("Asia/Shanghai")
RECEIVED_HOUR = "received_hour"  # figure (district, window): appeals received in it
EXPIRES = timedelta(days=7)  # windows older than this are dropped from the aggregates


def hour_window(epoch: float) -> str:
    """The local hour window holding the instant `epoch` (seconds since 1970, UTC)."""
    return _hour_window(int(epoch // 3600))


@lru_cache(maxsize=4096)
def _hour_window(hour: int) -> str:
    """By the hour since 1970: the city's offset is whole hours, so the hour decides the
    window, and an appeal's figures are taken twice per event (old and new state)."""
    return datetime.fromtimestamp(hour * 3600, CITY).strftime("%Y-%m-%dT%H")


def month_of(epoch: float) -> str:
    """The city's calendar month of the instant `epoch`, e.g. "2019-10"."""
    return _hour_window(int(epoch // 3600))[:7]  # `hour_window`'s, one call less


def local_month(now: datetime) -> str:
    """The city's calendar month at `now`."""
    return month_of(now.timestamp())


def local_day(now: datetime) -> str:
    """The city's date at `now`, as the prefix of that day's hour windows."""
    return now.astimezone(CITY).strftime("%Y-%m-%d")


def expired(window: str, now: datetime) -> bool:
    """Whether the hour window started more than EXPIRES before `now`."""
    start = datetime.strptime(window, "%Y-%m-%dT%H").replace(tzinfo=CITY)
    return start < now.astimezone(UTC) - EXPIRES


def expired_window(now: datetime) -> Callable[[Figure], bool]:
    """For `Aggregate.drop`: the received-per-hour figures whose window has expired."""
    return lambda figure: figure[0] == RECEIVED_HOUR and expired(figure[1][1], now)
