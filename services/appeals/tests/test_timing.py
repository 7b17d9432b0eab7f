"""督办 timing: reminder at 80% of working time, overdue next working day, criticism 5 later."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from appeals import lifecycle as lc
from appeals.lifecycle import Action, AppealState
from appeals.tests.test_lifecycle import RECEIVED, T0, act, run
from appeals.timing import SupervisionRules, due_escalations, escalation_times
from minsheng.clock import CITY_TZ
from minsheng.events.appeals import EscalationLevel
from minsheng.workdays import end_of_day, start_of_day

DEADLINE = end_of_day(date(2019, 10, 10))  # a help request received T0, 3 working days
REMINDER = datetime(2019, 10, 10, 6, 36, tzinfo=CITY_TZ)  # see test_workdays
OVERDUE = start_of_day(date(2019, 10, 11))
CRITICISM = start_of_day(date(2019, 10, 17))  # 10-12 (Saturday), 14, 15, 16, 17


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2019, 10, day, hour, tzinfo=CITY_TZ)


def escalated(state: AppealState, *levels: EscalationLevel) -> AppealState:
    for level in levels:
        state = lc.escalate(state, level=level, now=T0)[0]
    return state


def test_the_three_times_for_a_deadline() -> None:
    times = escalation_times(T0, DEADLINE)
    assert abs(times["reminder"] - REMINDER) < timedelta(seconds=1)
    assert (times["overdue"], times["criticism"]) == (OVERDUE, CRITICISM)


def test_overdue_on_an_adjusted_working_saturday() -> None:
    times = escalation_times(T0, end_of_day(date(2019, 10, 11)))  # a Friday deadline
    assert times["overdue"] == start_of_day(date(2019, 10, 12))
    assert times["criticism"] == start_of_day(date(2019, 10, 18))


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (at(8, 12), []),
        (at(10, 6), []),
        (at(10, 7), ["reminder"]),
        (DEADLINE, ["reminder"]),
        (at(11), ["overdue"]),  # a reminder after the deadline is pointless
        (at(16, 23), ["overdue"]),
        (at(17), ["overdue", "criticism"]),
    ],
)
@pytest.mark.parametrize("path", [("dispatch",), ("dispatch", "accept")])
def test_due_levels_over_time(path: tuple[Action, ...], now: datetime, due: list[str]) -> None:
    assert due_escalations(run(*path), now) == due


def test_each_level_is_due_once() -> None:
    state = run("dispatch")
    assert due_escalations(escalated(state, "reminder"), at(10, 7)) == []
    assert due_escalations(escalated(state, "overdue"), at(17)) == ["criticism"]
    assert due_escalations(escalated(state, "overdue", "criticism"), at(30)) == []


@pytest.mark.parametrize(
    "path",
    [(), ("dispatch", "return"), ("dispatch", "accept", "resolve"), ("close",)],
)
def test_nothing_is_due_unless_a_unit_has_it(path: tuple[Action, ...]) -> None:
    assert due_escalations(run(*path), at(30)) == []


def test_an_extension_measures_again_against_the_new_deadline() -> None:
    reminded = escalated(run("dispatch", "accept"), "reminder")
    extended, _ = lc.extend(reminded, days=5, reason="需协调", approved_by="sv", now=at(10, 7))
    assert extended.deadline == end_of_day(date(2019, 10, 16))
    # 15 h + 8 working days = 207 h; 80% = 165.6 h: 6.6 h into the 7th counted day, 10-15
    assert due_escalations(extended, at(15, 6)) == []
    assert due_escalations(extended, at(15, 7)) == ["reminder"]
    assert due_escalations(extended, at(17)) == ["overdue"]


def test_a_reopened_appeal_is_measured_from_its_new_time_limit() -> None:
    state = escalated(run("dispatch", "accept"), "reminder", "overdue")
    state = lc.resolve(state, resolution="已答复", now=at(11, 9))[0]
    state = lc.callback(state, rating="dissatisfied", reason="handling", now=at(11, 10))[0]
    state = act(state, "dispatch", now=at(11, 11))[0]
    assert state.deadline == end_of_day(date(2019, 10, 15))
    assert due_escalations(state, at(14, 12)) == []
    assert due_escalations(state, at(15, 12)) == ["reminder"]


def test_rules_are_configurable() -> None:
    rules = SupervisionRules(reminder_fraction=0.5, criticism_after=2)
    state = run("dispatch")
    # half of 87 h is 43.5 h: 4.5 h into 10-09; criticism two working days after 10-11
    assert due_escalations(state, at(9, 4), rules) == []
    assert due_escalations(state, at(9, 5), rules) == ["reminder"]
    assert due_escalations(state, at(14), rules) == ["overdue", "criticism"]


def test_an_emergency_on_a_holiday_is_reminded_in_elapsed_time() -> None:
    received = RECEIVED.model_copy(
        update={"category": "emergency", "received_at": at(1, 10), "appeal_id": "BC2"}
    )
    state = act(lc.open_appeal(received)[0], "dispatch", now=at(1, 10))[0]
    assert state.deadline == end_of_day(date(2019, 10, 1))
    assert due_escalations(state, at(1, 21)) == []
    assert due_escalations(state, at(1, 22)) == ["reminder"]  # 80% of 14 h is 21:12
    assert due_escalations(state, at(8)) == ["overdue"]
