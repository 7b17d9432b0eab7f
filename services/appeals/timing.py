"""督办 timing as pure functions: which timers an appeal wants, and what firing one means.

* **reminder** (催办): once `reminder_fraction` (80%) of the allowed time has passed,
  measured in working time from the start of the time limit to the deadline
  (`workdays.point_in_allowed_time`), and only while the deadline has not yet lapsed;
* **overdue** (超期): from the start of the first working day after the deadline's day;
* **criticism** (通报批评): `criticism_after` (5) more working days after that.

Levels are due only while the appeal is with a unit (dispatched or accepted), and each
once per deadline: an extension moves the deadline and clears what was sent, so the
three levels are measured again against the new deadline over the whole, longer time
limit (from its start, receipt or reopen, to the new deadline).

The store keeps one durable timer per level not yet sent (`timers`); the job fires each
when it falls due (`fire`): `lifecycle.escalate` if the level is still due then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from appeals import lifecycle
from appeals.lifecycle import LEVELS, AppealState, Outcome, allowed_actions
from minsheng.clock import local_day
from minsheng.events.appeals import EscalationLevel
from minsheng.timers import Timer
from minsheng.workdays import next_working_day, nth_working_day_after, start_of_day
from minsheng.workdays import point_in_allowed_time as point_in


@dataclass(frozen=True)
class SupervisionRules:
    """The supervision centre's published rule; configurable per city."""

    reminder_fraction: float = 0.8
    criticism_after: int = 5


DEFAULT_RULES = SupervisionRules()


def escalation_times(
    start: datetime, deadline: datetime, rules: SupervisionRules = DEFAULT_RULES
) -> dict[EscalationLevel, datetime]:
    """When each level falls due for a time limit running from `start` to `deadline`."""
    overdue = next_working_day(local_day(deadline))
    return {
        "reminder": point_in(start, deadline, rules.reminder_fraction),
        "overdue": start_of_day(overdue),
        "criticism": start_of_day(nth_working_day_after(overdue, rules.criticism_after)),
    }


def due_escalations(
    state: AppealState, now: datetime, rules: SupervisionRules = DEFAULT_RULES
) -> list[EscalationLevel]:
    """The levels due now and not yet sent for the current deadline, mildest first."""
    if "escalate" not in allowed_actions(state) or state.deadline is None:
        return []
    times = escalation_times(state.clock_start, state.deadline, rules)
    return [
        level
        for level in LEVELS
        if level not in state.escalations
        and times[level] <= now
        and (level != "reminder" or now <= state.deadline)
    ]


def live_deadline(state: AppealState) -> datetime | None:
    """The deadline its timers run against; None while no unit holds the appeal."""
    return state.deadline if "escalate" in allowed_actions(state) else None


def timers(state: AppealState, rules: SupervisionRules = DEFAULT_RULES) -> list[Timer]:
    """The unfired timers the state wants: each level not yet sent for its live
    deadline, (level, deadline) due when `escalation_times` says."""
    deadline = live_deadline(state)
    if deadline is None:
        return []
    return [
        Timer(state.id, (level, deadline), due)
        for level, due in escalation_times(state.clock_start, deadline, rules).items()
        if level not in state.escalations
    ]


def fire(state: AppealState, timer: Timer, now: datetime) -> Outcome | None:
    """AppealEscalated at the timer's level, or None when it is no longer due now (a
    reminder after the deadline, a level sent already, an appeal out of a unit's hands)."""
    level: EscalationLevel = timer.what[0]
    if level not in due_escalations(state, now):
        return None
    return lifecycle.escalate(state, level=level, now=now)
