"""Traffic lights (绿灯率): the pure rule at its boundaries, the thresholds file refused
with the field named, and the monthly inputs counted by event time, exactly."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from analytics.aggregate import Aggregate, share
from analytics.appeal_counting import appeal_figures, apply_appeal, deadline_of
from analytics.counting import State
from analytics.lights import (
    THRESHOLDS_FILE,
    Thresholds,
    ThresholdsError,
    UnitMonth,
    light,
    lights_report,
    load_thresholds,
    parse_thresholds,
    unit_months,
)
from minsheng import events as ev
from minsheng.reference import units
from testkit.unit.analytics import fold, parsed, payload
from testkit.unit.events import CITY, DEADLINE, NOW, UNIT, sample

T = parse_thresholds(
    "version: 1\n"
    "green: {on_time: 0.95, satisfaction: 0.9, return_rate: 0.05}\n"
    "yellow: {on_time: 0.8, satisfaction: 0.7, return_rate: 0.2}\n"
)


def test_the_shipped_thresholds_load() -> None:
    assert isinstance(load_thresholds(THRESHOLDS_FILE), Thresholds)


@pytest.mark.parametrize(
    ("on_time", "satisfaction", "return_rate", "expected"),
    [
        (0.95, 0.9, 0.05, "green"),  # every bound met exactly
        (0.9499, 0.9, 0.05, "yellow"),  # just under green's on-time bound
        (0.95, 0.8999, 0.05, "yellow"),
        (0.95, 0.9, 0.0501, "yellow"),  # just over green's return bound
        (0.8, 0.7, 0.2, "yellow"),  # yellow's bounds met exactly
        (0.7999, 0.9, 0.0, "red"),
        (1.0, 0.6999, 0.0, "red"),
        (1.0, 1.0, 0.2001, "red"),
        (None, None, None, "green"),  # nothing to judge: nothing held against it
        (None, None, 0.1, "yellow"),  # no closed appeals: judged on its returns
        (0.0, None, None, "red"),  # nothing resolved, something overdue
    ],
)
def test_light_at_its_boundaries(
    on_time: float | None, satisfaction: float | None, return_rate: float | None, expected: str
) -> None:
    assert light(on_time, satisfaction, return_rate, T) == expected


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("version: 2\ngreen: {}\nyellow: {}\n", "'version'"),
        (
            "version: 1\ngreen: {on_time: 1.5, satisfaction: 0.9, return_rate: 0.05}\n"
            "yellow: {on_time: 0.8, satisfaction: 0.7, return_rate: 0.2}\n",
            "'green.on_time'",
        ),
        (
            "version: 1\ngreen: {on_time: 0.9, satisfaction: 0.9, return_rate: 0.05}\n"
            "yellow: {on_time: 0.8, satisfaction: 0.7}\n",
            "'yellow.return_rate'",
        ),
        (
            "version: 1\ngreen: {on_time: 0.9, satisfaction: 0.9, return_rate: 0.05, x: 1}\n"
            "yellow: {on_time: 0.8, satisfaction: 0.7, return_rate: 0.2}\n",
            "'green.x'",
        ),
        (
            "version: 1\ngreen: {on_time: 0.9, satisfaction: 0.9, return_rate: 0.05}\n"
            "yellow: {on_time: 0.95, satisfaction: 0.7, return_rate: 0.2}\n",
            "'yellow.on_time': above green.on_time",
        ),
        (
            "version: 1\ngreen: {on_time: 0.9, satisfaction: 0.9, return_rate: 0.05}\n"
            "yellow: {on_time: 0.8, satisfaction: 0.7, return_rate: 0.01}\n",
            "'yellow.return_rate': below green.return_rate",
        ),
        ("green: [\n", "not YAML"),
    ],
)
def test_a_bad_thresholds_file_is_refused_naming_the_field(text: str, named: str) -> None:
    with pytest.raises(ThresholdsError, match=named.replace(".", r"\.")):
        parse_thresholds(text, "lights.yaml")


def figures_of(states: list[State], at: datetime) -> Counter[tuple[str, tuple[str, ...]]]:
    aggregate = Aggregate(appeal_figures, deadline_of)
    aggregate.rebuild(states, ())
    return share([aggregate], at)


def month_row(states: list[State], month: str, at: datetime = NOW) -> UnitMonth:
    rows = {u.unit: u for u in unit_months(figures_of(states, at), month)}
    assert set(rows) == set(units()), "every unit of the reference data has a light"
    return rows[UNIT]


def dispatched() -> State:
    return fold(apply_appeal, [sample(ev.AppealReceived), payload(ev.AppealDispatched, unit=UNIT)])


def test_resolutions_count_in_the_city_month_of_their_own_time() -> None:
    last_second = datetime(2019, 10, 31, 23, 59, 59, tzinfo=CITY)  # 15:59:59 UTC
    october = fold(
        apply_appeal,
        [payload(ev.AppealResolved, unit=UNIT, on_time=True, resolved_at=last_second)],
        dispatched(),
    )
    november = fold(
        apply_appeal,
        [
            payload(
                ev.AppealResolved,
                unit=UNIT,
                on_time=False,
                resolved_at=last_second + timedelta(seconds=1),
            )
        ],
        dispatched(),
    )
    row = month_row([october, november], "2019-10")
    assert (row.counts["resolved"], row.counts["on_time"]) == (1, 1)
    row = month_row([october, november], "2019-11")
    assert (row.counts["resolved"], row.counts["on_time"]) == (1, 0)


def test_open_work_past_its_deadline_counts_against_the_month_of_the_deadline() -> None:
    state = dispatched()
    month = DEADLINE.astimezone(CITY).strftime("%Y-%m")
    before = month_row([state], month, DEADLINE - timedelta(seconds=1))
    after = month_row([state], month, DEADLINE + timedelta(seconds=1))
    assert before.rates()[0] is None
    assert before.counts["overdue"] == 0
    assert after.counts["overdue"] == 1
    assert after.rates()[0] == 0.0


def test_ratings_judge_the_unit_that_resolved_and_returns_the_unit_that_returned() -> None:
    resolved = fold(
        apply_appeal,
        [
            payload(ev.AppealResolved, unit=UNIT, on_time=True, resolved_at=NOW),
            payload(ev.SatisfactionRecorded, rating="dissatisfied", recorded_at=NOW),
            payload(ev.AppealReopened),
            payload(ev.AppealDispatched, unit=UNIT),
            payload(ev.AppealReturned, unit=UNIT),
        ],
        dispatched(),
    )
    row = month_row([resolved], "2019-10")
    assert row.counts["dissatisfied"] == 1
    assert (row.counts["dispatched"], row.counts["returned"]) == (2, 1)
    assert row.rates() == (1.0, 0.0, 0.5)
    assert row.report(T)["light"] == "red"


def test_a_redelivered_event_counts_once() -> None:
    state = fold(apply_appeal, [payload(ev.AppealResolved, unit=UNIT, on_time=True)], dispatched())
    again = parsed(payload(ev.AppealResolved, unit=UNIT, on_time=True), state["sequence"])
    assert apply_appeal(state, again) is None
    assert month_row([state], "2019-10").counts["resolved"] == 1


def test_the_report_counts_units_per_light_and_a_quiet_unit_is_green() -> None:
    state = fold(
        apply_appeal,
        [payload(ev.AppealResolved, unit=UNIT, on_time=False, resolved_at=NOW)],
        dispatched(),
    )
    body = lights_report(figures_of([state], NOW), "2019-10", T, NOW.isoformat())
    assert body["units"] == len(units())
    assert body["lights"] == {"green": len(units()) - 1, "yellow": 0, "red": 1}
    mine = next(row for row in body["by_unit"] if row["unit"] == UNIT)
    assert (mine["light"], mine["on_time_rate"], mine["resolved"]) == ("red", 0.0, 1)
