"""When a project's timers fall due, as pure functions: which timers a state wants, and
what firing one means.

* a **milestone** timer for each milestone neither reached nor missed, on its due day:
  it fires on the city's day after (past due means the whole day has gone) and marks
  the milestone missed;
* the **notice** timer (通报) on the planned end while the project is open and has not
  been named: it fires on the day after and names the project.

The store keeps one durable row per timer the state wants (`store.timers`); the job
fires each when it falls due (`jobs`). A timer the state no longer wants by then
(reached, rescheduled, completed, already named) fires nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from minsheng.clock import CITY_TZ, local_day
from minsheng.timers import Timer
from projects import lifecycle
from projects.lifecycle import OPEN, Outcome, ProjectState

TimerKind = Literal["milestone", "notice"]


@dataclass(frozen=True)
class Due:
    """A timer the state wants: `milestone_id` is '' for the project's notice.

    It fires on the city's day after `due_on`: past due means the whole day has gone."""

    kind: TimerKind
    milestone_id: str
    due_on: date

    @property
    def fires_on(self) -> date:
        return self.due_on + timedelta(days=1)

    @property
    def fires_at(self) -> datetime:
        """The start of the city's day after the due day."""
        return datetime.combine(self.fires_on, time.min, CITY_TZ)


def timers(state: ProjectState) -> list[Due]:
    """The timers an open project needs: each unreached, unmissed milestone's due date,
    and its planned end while it has not been named."""
    if state.status not in OPEN:
        return []
    wanted = [
        Due("milestone", m.milestone_id, m.due)
        for m in state.milestones
        if m.status not in ("reached", "missed")
    ]
    if "notice" not in state.flags:
        wanted.append(Due("notice", "", state.planned_end))
    return wanted


def fire(state: ProjectState, due: Due, now: datetime) -> Outcome | None:
    """The events a timer emits now, or None if the state no longer wants it (done in
    the meantime, reached, rescheduled, already named) or it is not yet due."""
    if due not in timers(state) or local_day(now) < due.fires_on:
        return None
    if due.kind == "milestone":
        return lifecycle.milestone(
            state,
            milestone_id=due.milestone_id,
            status="missed",
            now=now,
            reason=f"未按期完成：应于 {due.due_on.isoformat()} 前完成",
        )
    return lifecycle.flag(
        state,
        kind="notice",
        reason=f"通报：超过计划完成日期 {due.due_on.isoformat()} 仍未完成",
        now=now,
    )


def rows(state: ProjectState) -> list[Timer]:
    """`timers` as the rows of the timer table: (kind, milestone id, due day), due at
    the start of the day it fires."""
    return [Timer(state.id, (d.kind, d.milestone_id, d.due_on), d.fires_at) for d in timers(state)]


def fire_row(state: ProjectState, timer: Timer, now: datetime) -> Outcome | None:
    """`fire` for a row of the timer table, as the job claims it."""
    kind, milestone_id, due_on = timer.what
    return fire(state, Due(kind, milestone_id, due_on), now)
