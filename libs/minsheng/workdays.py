"""Working-day arithmetic for time limits (限时办结), in the city's zone, Asia/Shanghai.

Which days are working days comes from the maintained `chinesecalendar` package: the
official State Council holiday calendar, adjusted working weekends (调休) included. In
the library because appeals sets deadlines with it and notifications tells people how
many working days are left, and services never import each other.

The rules, chosen once here so every deadline and reminder agrees:

* **Deadline of N working days** (N >= 1): as in the Civil Code (art. 201), the day of
  receipt is not counted, whatever the hour; counting starts on the next working day and
  the deadline is the *end* of the N-th working day (23:59:59.999999 local).
* **Emergency** (N == 0, "the same day"): the end of the calendar day of receipt, even
  on a holiday; emergencies are handled around the clock by units on duty.
* **Working time**: the part of an interval that falls on working days, each counted
  as a whole day of 24 hours (the hotline and time limits know no office hours).
* **A fraction of the allowed time** (the 80% reminder) is measured in working time,
  so a holiday inside the window does not bring the reminder forward; a window with no
  working time at all (an emergency on a holiday) falls back to plain elapsed time.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from functools import cache

import chinese_calendar  # type: ignore[import-untyped]

from minsheng.clock import CITY_TZ, local_day
from minsheng.reference import calendar_supplement

SATURDAY = 5
# Statutory holidays on fixed dates (全国年节及纪念日放假办法, 2025): New Year's Day,
# Labour Day, National Day. The lunar ones and the 调休 swaps come only with the
# published calendar.
FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}
LAST_KNOWN_YEAR = max(day.year for day in chinese_calendar.holidays)
log = logging.getLogger(__name__)
ONE_DAY = timedelta(days=1)


class CalendarUnknown(ValueError):
    """The holiday calendar has no data for this year, so no deadline can be trusted."""

    def __init__(self, day: date) -> None:
        super().__init__(f"the official holiday calendar does not cover {day.year} ({day})")
        self.day = day


@cache
def is_working_day(day: date) -> bool:
    """True on ordinary weekdays and adjusted working weekends, false on holidays.

    Cached: deadlines and reminders ask about the same few weeks over and over. A year
    after the package's last one comes from `calendar.yaml`, or is provisionally
    Monday-Friday without the fixed-date holidays (logged once), so intake never stops
    when the year turns.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:  # the library's answer for an unknown year
        if day.year <= LAST_KNOWN_YEAR:
            raise CalendarUnknown(day) from exc
    official = calendar_supplement().get(day.year)
    if official is None:
        _warn_provisional(day.year)
        return day.weekday() < SATURDAY and (day.month, day.day) not in FIXED_HOLIDAYS
    return day in official.workdays or (day.weekday() < SATURDAY and day not in official.holidays)


@cache
def _warn_provisional(year: int) -> None:
    log.warning(
        "the official holiday calendar of %s is not known yet: counting Monday-Friday; "
        "add it to minsheng/reference/calendar.yaml or upgrade chinesecalendar",
        year,
    )


@cache
def start_of_day(day: date) -> datetime:
    """Cached, like `is_working_day`: every appeal's reminder walks the same weeks."""
    return datetime.combine(day, time.min, CITY_TZ)


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time.max, CITY_TZ)


def nth_working_day_after(day: date, n: int) -> date:
    """The n-th working day strictly after `day` (n >= 1)."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    while n:
        day += ONE_DAY
        n -= is_working_day(day)
    return day


def next_working_day(day: date) -> date:
    """The first working day strictly after `day`."""
    return nth_working_day_after(day, 1)


def add_working_days(start: datetime, days: int) -> datetime:
    """The deadline `days` working days after `start` (see the module rules), aware."""
    if days < 0:
        raise ValueError(f"a time limit cannot be negative: {days}")
    received = local_day(start)
    return end_of_day(nth_working_day_after(received, days) if days else received)


def working_days_between(a: date, b: date) -> int:
    """Working days in (a, b]: the count `add_working_days` used; negative when b < a."""
    if b < a:
        return -working_days_between(b, a)
    return sum(is_working_day(a + ONE_DAY * i) for i in range(1, (b - a).days + 1))


def _working_spans(a: datetime, b: datetime) -> list[tuple[datetime, datetime]]:
    """The pieces of [a, b] that lie on working days, in order."""
    spans = []
    for day in _working_days(local_day(a), local_day(b)):
        begin, end = max(a, start_of_day(day)), min(b, start_of_day(day + ONE_DAY))
        if begin < end:
            spans.append((begin, end))
    return spans


@cache
def _working_days(first: date, last: date) -> tuple[date, ...]:
    """The working days in [first, last]; cached: the appeals of a day share both ends."""
    days = (first + ONE_DAY * i for i in range((last - first).days + 1))
    return tuple(day for day in days if is_working_day(day))


def _length(spans: list[tuple[datetime, datetime]]) -> timedelta:
    return sum((end - begin for begin, end in spans), timedelta())


def working_time(a: datetime, b: datetime) -> timedelta:
    """How much of [a, b] falls on working days."""
    return _length(_working_spans(a, b))


def point_in_allowed_time(start: datetime, deadline: datetime, fraction: float) -> datetime:
    """The instant when `fraction` of the working time from start to deadline has passed."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be within [0, 1], got {fraction}")
    spans = _working_spans(start, deadline)
    if not spans:
        return start + (deadline - start) * fraction
    left = _length(spans) * fraction
    for begin, end in spans:
        if left <= end - begin:
            return begin + left
        left -= end - begin
    return spans[-1][1]  # only reached through rounding at fraction == 1


def callback_cutoff(at: datetime, working_days: int) -> datetime:
    """Appeals resolved before this instant have waited `working_days` working days for
    their call-back: at least that many working days lie after their day, up to today."""
    day, counted = local_day(at), 0
    while counted < working_days:
        counted += is_working_day(day)
        day -= ONE_DAY
    return start_of_day(day + ONE_DAY)
