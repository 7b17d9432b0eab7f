"""Quiet hours for citizens, with an injected time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from minsheng.clock import CITY_TZ
from notifications.quiet import QuietHours, send_after

DAY = datetime(2026, 12, 1, tzinfo=CITY_TZ)


@pytest.mark.parametrize(
    ("hour", "minute", "release"),
    [
        (20, 59, None),
        (21, 0, DAY + timedelta(days=1, hours=8)),
        (23, 30, DAY + timedelta(days=1, hours=8)),
        (0, 0, DAY + timedelta(hours=8)),
        (7, 59, DAY + timedelta(hours=8)),
        (8, 0, None),
        (12, 0, None),
    ],
)
def test_default_quiet_hours(hour: int, minute: int, release: datetime | None) -> None:
    at = DAY.replace(hour=hour, minute=minute)
    assert QuietHours().release(at) == (release or at)


def test_units_supervisors_and_on_call_are_never_deferred() -> None:
    night = DAY.replace(hour=23)
    for kind in ("unit", "supervision_centre", "oncall", "supervisors", "secretary"):
        assert send_after(QuietHours(), kind, night) == night
    assert send_after(QuietHours(), "citizen", night) == DAY + timedelta(days=1, hours=8)


def test_configured_windows() -> None:
    daytime = QuietHours(time(12), time(14))
    assert daytime.release(DAY.replace(hour=13)) == DAY.replace(hour=14)
    assert daytime.release(DAY.replace(hour=15)) == DAY.replace(hour=15)
    off = QuietHours(time(0), time(0))
    assert off.release(DAY.replace(hour=3)) == DAY.replace(hour=3)


def test_the_city_zone_counts_not_the_callers() -> None:
    utc_evening = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # 22:00 in the city
    assert QuietHours().holds(utc_evening)
    assert QuietHours().release(utc_evening) == DAY + timedelta(days=1, hours=8)
    assert not QuietHours().holds(datetime(2026, 12, 1, 1, 0, tzinfo=UTC))  # 09:00 city
