"""Working days against real days of the official calendar (National Day 2019)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minsheng import workdays
from minsheng.clock import CITY_TZ, local_day
from minsheng.reference import CalendarYear
from minsheng.workdays import (
    CalendarUnknown,
    add_working_days,
    end_of_day,
    is_working_day,
    next_working_day,
    point_in_allowed_time,
    start_of_day,
    working_days_between,
    working_time,
)

MONDAY = datetime(2019, 9, 30, 9, 0, tzinfo=CITY_TZ)  # the day before National Day
HOLIDAY = datetime(2019, 10, 1, 10, 0, tzinfo=CITY_TZ)
HOUR = timedelta(hours=1)


def test_adjusted_working_weekends_are_working_days() -> None:
    assert is_working_day(date(2019, 9, 29))  # Sunday
    assert is_working_day(date(2019, 10, 12))  # Saturday
    assert not is_working_day(date(2019, 9, 28))  # an ordinary Saturday


@pytest.mark.parametrize("day", range(1, 8))
def test_national_day_week_is_not_worked(day: int) -> None:
    assert not is_working_day(date(2019, 10, day))


@pytest.mark.parametrize(
    ("received", "days", "deadline"),
    [
        (MONDAY, 3, date(2019, 10, 10)),  # 10-08, 10-09, 10-10
        (MONDAY, 13, date(2019, 10, 23)),  # ... 10-12 (Saturday) is the 5th
        (datetime(2019, 9, 29, 10, tzinfo=CITY_TZ), 3, date(2019, 10, 9)),  # 9-30, 10-08, 10-09
        (datetime(2019, 9, 28, 10, tzinfo=CITY_TZ), 3, date(2019, 10, 8)),  # 9-29, 9-30, 10-08
        (HOLIDAY, 1, date(2019, 10, 8)),
        (datetime(2019, 10, 11, 23, 59, tzinfo=CITY_TZ), 1, date(2019, 10, 12)),
        # 20:00 UTC on 10-07 is 04:00 on 10-08 in the city: the city's day counts
        (datetime(2019, 10, 7, 20, tzinfo=UTC), 3, date(2019, 10, 11)),
    ],
)
def test_deadline_is_the_end_of_the_nth_working_day_after_receipt(
    received: datetime, days: int, deadline: date
) -> None:
    assert add_working_days(received, days) == end_of_day(deadline)


def test_deadline_is_aware_and_ends_the_local_day() -> None:
    deadline = add_working_days(MONDAY, 3)
    assert deadline.tzinfo is CITY_TZ
    assert (deadline.hour, deadline.minute, deadline.second, deadline.microsecond) == (
        23,
        59,
        59,
        999_999,
    )


@pytest.mark.parametrize("received", [MONDAY, HOLIDAY])
def test_emergency_ends_the_same_day_even_on_a_holiday(received: datetime) -> None:
    assert add_working_days(received, 0) == end_of_day(received.date())


def test_an_extension_moves_the_deadline_by_working_days() -> None:
    deadline = add_working_days(MONDAY, 3)
    assert add_working_days(deadline, 5) == end_of_day(date(2019, 10, 16))  # 11,12,14,15,16


def test_negative_limits_and_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_days(MONDAY, -1)
    with pytest.raises(ValueError, match="naive"):
        add_working_days(datetime(2019, 9, 30, 9), 3)


def test_years_before_the_calendar_are_refused() -> None:
    with pytest.raises(CalendarUnknown, match="1999"):
        add_working_days(datetime(1999, 6, 1, tzinfo=CITY_TZ), 3)
    with pytest.raises(CalendarUnknown):
        is_working_day(date(1999, 6, 1))


def test_a_year_after_the_calendar_counts_weekdays_without_fixed_holidays(
    caplog: pytest.LogCaptureFixture,
) -> None:
    year = workdays.LAST_KNOWN_YEAR + 7  # stays unpublished however the package moves on
    workdays.is_working_day.cache_clear()
    workdays._warn_provisional.cache_clear()
    assert is_working_day(date(year, 6, 4)) == (date(year, 6, 4).weekday() < 5)
    assert not is_working_day(date(year, 10, 1))
    assert not is_working_day(date(year, 1, 1))
    thursday = next(date(year, 3, d) for d in range(1, 8) if date(year, 3, d).weekday() == 3)
    deadline = add_working_days(datetime.combine(thursday, time(9), CITY_TZ), 3)
    assert deadline.date() == thursday + timedelta(days=5)  # Fri, Mon, Tue
    assert f"holiday calendar of {year} is not known yet" in caplog.text


def test_a_published_year_added_to_calendar_yaml_is_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    year = workdays.LAST_KNOWN_YEAR + 3
    saturday = next(date(year, 2, d) for d in range(1, 8) if date(year, 2, d).weekday() == 5)
    monday = saturday + timedelta(days=2)
    official = CalendarYear(holidays=frozenset({monday}), workdays=frozenset({saturday}))
    monkeypatch.setattr(workdays, "calendar_supplement", lambda: {year: official})
    workdays.is_working_day.cache_clear()
    try:
        assert is_working_day(saturday)
        assert not is_working_day(monday)
        assert is_working_day(monday + timedelta(days=1))
    finally:
        workdays.is_working_day.cache_clear()


def test_next_working_day() -> None:
    assert next_working_day(date(2019, 9, 27)) == date(2019, 9, 29)  # Friday -> Sunday
    assert next_working_day(date(2019, 9, 30)) == date(2019, 10, 8)
    assert next_working_day(date(2019, 10, 11)) == date(2019, 10, 12)


def test_working_days_between_counts_the_half_open_interval() -> None:
    assert working_days_between(date(2019, 9, 30), date(2019, 10, 10)) == 3
    assert working_days_between(date(2019, 10, 10), date(2019, 9, 30)) == -3
    assert working_days_between(date(2019, 9, 27), date(2019, 10, 8)) == 3
    assert working_days_between(date(2019, 10, 1), date(2019, 10, 1)) == 0


@given(
    st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2025, 6, 30)),
    st.integers(min_value=1, max_value=30),
)
def test_a_deadline_counts_back_to_its_limit(received: datetime, days: int) -> None:
    deadline = add_working_days(received.replace(tzinfo=CITY_TZ), days)
    assert is_working_day(deadline.date())
    assert working_days_between(received.date(), deadline.date()) == days


def test_working_time_skips_the_holiday() -> None:
    assert working_time(MONDAY, start_of_day(date(2019, 10, 8)) + HOUR) == 16 * HOUR
    assert working_time(HOLIDAY, HOLIDAY + 3 * HOUR) == timedelta()


def test_eighty_percent_is_measured_in_working_time() -> None:
    # 15 h of Monday + 3 whole working days = 87 h; 80% = 69.6 h: 6.6 h into 10-10,
    # where plain elapsed time would have said 10-08 21:00, just after the holiday
    point = point_in_allowed_time(MONDAY, add_working_days(MONDAY, 3), 0.8)
    expected = datetime(2019, 10, 10, 6, 36, tzinfo=CITY_TZ)
    assert abs(point - expected) < timedelta(seconds=1)
    assert local_day(point) == date(2019, 10, 10)


def test_allowed_time_ends() -> None:
    deadline = add_working_days(HOLIDAY, 3)
    assert point_in_allowed_time(HOLIDAY, deadline, 0) == start_of_day(date(2019, 10, 8))
    assert point_in_allowed_time(HOLIDAY, deadline, 1) == deadline


def test_allowed_time_without_working_time_falls_back_to_elapsed_time() -> None:
    point = point_in_allowed_time(HOLIDAY, add_working_days(HOLIDAY, 0), 0.5)
    assert abs(point - datetime(2019, 10, 1, 17, 0, tzinfo=CITY_TZ)) < timedelta(seconds=1)


@pytest.mark.parametrize("fraction", [-0.1, 1.5])
def test_fraction_outside_the_allowed_time(fraction: float) -> None:
    with pytest.raises(ValueError, match="fraction"):
        point_in_allowed_time(MONDAY, add_working_days(MONDAY, 3), fraction)
