"""A secretary project's life as a pure state machine: decide, then evolve.

Each action checks the state, *decides* the events (payloads from the catalogue) and
folds them through `FOLD.apply`, the one *evolve* function (`_start` and `_changes` over
`minsheng.aggregate.Fold`), so the state is by construction a replay of what it emitted
and every event gets the next gapless sequence (ProjectClaimed is 1). No I/O here: the
store's journal keeps it; the API, the intake consumer and `timing` (what the durable
timers mean) call in.

    claimed --progress | milestone (not missed)--> in_progress --complete--> completed
    completed --verify passed--> verified;  completed --verify failed--> in_progress
    claimed, in_progress, completed: flag (通报 once, 约谈 any number of times)
    completed, verified: evaluate (residents' 满意度)

Milestones (挂图作战) go pending -> reached | at_risk | missed | rescheduled; a reschedule
needs a reason and a supervisor's approval and moves the due date, after which the
milestone can be missed again against the new date. Progress is the larger of the latest
report and the milestones' roll-up (weighted share of reached milestones); a completed
project is at 100 until a failed verification sends it back.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal, get_args

from minsheng import aggregate
from minsheng.aggregate import CommandRejected as CommandRejected
from minsheng.aggregate import IllegalTransition as IllegalTransition
from minsheng.aggregate import LifecycleError as LifecycleError
from minsheng.aggregate import Sequenced, required
from minsheng.clock import local_day, require_aware
from minsheng.events import (
    EventData,
    ProjectClaimed,
    ProjectCompleted,
    ProjectFlagged,
    ProjectMilestone,
    ProjectProgressReported,
    ProjectVerified,
    SatisfactionRecorded,
)
from minsheng.events.projects import (
    FlagKind,
    MilestoneStatus,
    VerificationMethod,
    VerificationResult,
)
from minsheng.events.satisfaction import DissatisfactionReason, Rating, SatisfactionChannel

Status = Literal["claimed", "in_progress", "completed", "verified"]
Action = Literal["milestone", "progress", "complete", "verify", "evaluate", "flag"]
Phase = Literal["pending", "reached", "missed", "at_risk", "rescheduled"]
STATUSES: tuple[Status, ...] = get_args(Status)
ACTIONS: tuple[Action, ...] = get_args(Action)
OPEN: tuple[Status, ...] = ("claimed", "in_progress")  # not yet done: timers watch these

_BY_STATUS: dict[Status, tuple[Action, ...]] = {
    "claimed": ("milestone", "progress", "flag"),
    "in_progress": ("milestone", "progress", "complete", "flag"),
    "completed": ("verify", "evaluate", "flag"),
    "verified": ("evaluate",),
}
# What a milestone may become from each phase; reached is final.
_MILESTONE_MOVES: dict[Phase, tuple[MilestoneStatus, ...]] = {
    "pending": ("reached", "missed", "at_risk", "rescheduled"),
    "at_risk": ("reached", "missed", "rescheduled"),
    "rescheduled": ("reached", "missed", "at_risk", "rescheduled"),
    "missed": ("reached", "rescheduled"),
    "reached": (),
}


class Conflict(LifecycleError):
    """The state refuses this particular change, though it allows the action (409)."""


class MilestoneConflict(Conflict):
    """The milestone cannot take that status from the one it has (409)."""

    def __init__(self, milestone: MilestoneState, wanted: str) -> None:
        allowed = _MILESTONE_MOVES[milestone.status]
        super().__init__(
            f"milestone {milestone.milestone_id} is {milestone.status}, cannot become {wanted};"
            f" allowed: {', '.join(allowed) or 'none'}"
        )
        self.milestone, self.allowed = milestone, allowed


@dataclass(frozen=True)
class MilestoneState:
    milestone_id: str
    title: str
    due: date
    weight: float
    status: Phase = "pending"


@dataclass(frozen=True)
class ProjectState:
    """What the rules need to know about one project; rebuilt by replaying its events."""

    id: str
    district: str
    level: str
    year: int
    unit: str
    planned_start: date
    planned_end: date
    milestones: tuple[MilestoneState, ...] = ()
    status: Status = "claimed"
    sequence: int = 1
    reported: int | None = None  # the latest progress report, if any
    completed_on: date | None = None
    on_time: bool | None = None
    flags: tuple[FlagKind, ...] = ()
    verifications: tuple[VerificationResult, ...] = ()
    ratings: tuple[Rating, ...] = ()
    history: tuple[str, ...] = ("ProjectClaimed",)

    @property
    def progress(self) -> int:
        if self.status in ("completed", "verified"):
            return 100
        return max(self.reported or 0, rollup(self.milestones))

    def milestone(self, milestone_id: str) -> MilestoneState:
        for m in self.milestones:
            if m.milestone_id == milestone_id:
                return m
        valid = ", ".join(m.milestone_id for m in self.milestones) or "none"
        raise CommandRejected(f"no milestone {milestone_id}; valid: {valid}")


Outcome = tuple[ProjectState, list[Sequenced]]


def rollup(milestones: Iterable[MilestoneState]) -> int:
    """Weighted share of reached milestones, 0-100, rounded down: 100 only when all are."""
    items = list(milestones)
    total = sum(m.weight for m in items)
    if not items or total <= 0:
        return 0
    reached = sum(m.weight for m in items if m.status == "reached")
    return 100 if reached == total else min(99, math.floor(100 * reached / total))


# -- evolve ------------------------------------------------------------------------------


# What the claim fixes for the project's life, named in the state as in the event.
_CLAIMED = ("district", "level", "year", "unit", "planned_start", "planned_end")


def _start(data: ProjectClaimed) -> ProjectState:
    claimed = {name: getattr(data, name) for name in _CLAIMED}
    milestones = (MilestoneState(m.milestone_id, m.title, m.due, m.weight) for m in data.milestones)
    return ProjectState(id=data.project_id, milestones=tuple(milestones), **claimed)


def _started(state: ProjectState) -> Status:
    return "in_progress" if state.status == "claimed" else state.status


def _changes(state: ProjectState, data: EventData) -> dict[str, Any]:
    match data:
        case ProjectMilestone():
            milestones = tuple(
                replace(m, status=data.status, due=data.new_due or m.due)
                if m.milestone_id == data.milestone_id
                else m
                for m in state.milestones
            )
            status = state.status if data.status == "missed" else _started(state)
            return {"milestones": milestones, "status": status}
        case ProjectProgressReported():
            return {"reported": data.progress, "status": _started(state)}
        case ProjectCompleted():
            return {
                "status": "completed",
                "completed_on": data.completed_on,
                "on_time": data.on_time,
            }
        case ProjectVerified():
            verifications = (*state.verifications, data.result)
            if data.result == "passed":
                return {"status": "verified", "verifications": verifications}
            return {
                "status": "in_progress",
                "verifications": verifications,
                "completed_on": None,
                "on_time": None,
            }
        case ProjectFlagged():
            return {"flags": (*state.flags, data.kind)}
        case SatisfactionRecorded():
            return {"ratings": (*state.ratings, data.rating)}
    raise ValueError(f"{data.event_name} is not a project event")


FOLD = aggregate.Fold("project", ProjectClaimed, _start, _changes)
replay = FOLD.replay  # a project's state from its whole history, ProjectClaimed first


# -- what may happen ---------------------------------------------------------------------


def allowed_actions(state: ProjectState) -> list[Action]:
    """The actions the current state allows: the API names them in a 409."""
    return list(_BY_STATUS[state.status])


def _check(state: ProjectState, action: Action) -> None:
    FOLD.check(state, action, allowed_actions(state))


def _keys(state: ProjectState) -> dict[str, Any]:
    return {
        "project_id": state.id,
        "district": state.district,
        "level": state.level,
        "year": state.year,
    }


# -- decide: one function per action -----------------------------------------------------


def claim(claimed: ProjectClaimed) -> Outcome:
    """年初立账: the new project's state and its first event (sequence 1)."""
    if claimed.planned_end < claimed.planned_start:
        raise CommandRejected("planned_end is before planned_start")
    if not claimed.planned_start.year <= claimed.year <= claimed.planned_end.year:
        raise CommandRejected(f"a {claimed.year} project must run during {claimed.year}")
    ids = [m.milestone_id for m in claimed.milestones]
    if len(set(ids)) != len(ids):
        raise CommandRejected("milestone ids repeat")
    for m in claimed.milestones:
        if not claimed.planned_start <= m.due <= claimed.planned_end:
            raise CommandRejected(
                f"milestone {m.milestone_id} is due {m.due}, outside the planned"
                f" {claimed.planned_start} to {claimed.planned_end}"
            )
    return FOLD.open(claimed)


def report_progress(
    state: ProjectState, *, progress: int, now: datetime, note: str = ""
) -> Outcome:
    """随时查账: a report between milestones; it cannot undo milestones already reached."""
    _check(state, "progress")
    require_aware(now)
    floor = rollup(state.milestones)
    if progress < floor:
        raise CommandRejected(f"progress {progress} is below the {floor} its milestones reach")
    event = ProjectProgressReported(**_keys(state), progress=progress, note=note)
    return FOLD.commit(state, [event])


def milestone(
    state: ProjectState,
    *,
    milestone_id: str,
    status: MilestoneStatus,
    now: datetime,
    reason: str | None = None,
    new_due: date | None = None,
    approved_by: str | None = None,
) -> Outcome:
    """挂图作战: reached, at risk (why), missed (only after its due day), or rescheduled
    (why, to a later day not in the past, with the approving supervisor)."""
    _check(state, "milestone")
    current = state.milestone(milestone_id)
    if status not in _MILESTONE_MOVES[current.status]:
        raise MilestoneConflict(current, status)
    today = local_day(now)
    if (new_due is not None or approved_by is not None) != (status == "rescheduled"):
        raise CommandRejected("new_due and approved_by are given exactly for a reschedule")
    if status == "missed" and today <= current.due:
        raise CommandRejected(f"milestone {milestone_id} is due {current.due}; not missed yet")
    if status in ("at_risk", "missed", "rescheduled"):
        reason = required(reason, "reason")
    if status == "rescheduled":
        required(approved_by, "approved_by")
        if new_due is None:
            raise CommandRejected("new_due is required for a reschedule")
        if new_due <= current.due or new_due < today:
            raise CommandRejected(
                f"new_due {new_due} must be after {current.due} and not before today {today}"
            )
    after = tuple(
        replace(m, status=status) if m.milestone_id == milestone_id else m for m in state.milestones
    )
    event = ProjectMilestone(
        **_keys(state),
        milestone_id=milestone_id,
        status=status,
        progress=max(state.reported or 0, rollup(after)),
        new_due=new_due,
        reason=reason,
        approved_by=approved_by,
    )
    return FOLD.commit(state, [event])


def complete(state: ProjectState, *, now: datetime, completed_on: date | None = None) -> Outcome:
    """The unit declares it done, today or on an earlier day it names (a paper ledger
    carried over); on time means no later than the planned end."""
    _check(state, "complete")
    today = local_day(now)
    day = completed_on or today
    if day > today:
        raise CommandRejected(f"completed_on {day} is in the future (today is {today})")
    if day < state.planned_start:
        raise CommandRejected(f"completed_on {day} is before the planned start")
    event = ProjectCompleted(**_keys(state), completed_on=day, on_time=day <= state.planned_end)
    return FOLD.commit(state, [event])


def verify(
    state: ProjectState,
    *,
    method: VerificationMethod,
    inspector: str,
    result: VerificationResult,
    now: datetime,
    notes: str = "",
) -> Outcome:
    """动态调度+实地查看+座谈访谈: passed verifies; failed sends the project back to work."""
    _check(state, "verify")
    require_aware(now)
    event = ProjectVerified(
        **_keys(state),
        method=method,
        inspector=required(inspector, "inspector"),
        result=result,
        notes=notes,
    )
    return FOLD.commit(state, [event])


def evaluate(
    state: ProjectState,
    *,
    rating: Rating,
    now: datetime,
    comment: str = "",
    channel: SatisfactionChannel = "interview",
    reason: DissatisfactionReason | None = None,
) -> Outcome:
    """满意度: one resident's rating of a completed project; any number may rate it."""
    return FOLD.evaluate(
        state,
        allowed_actions(state),
        now,
        rating=rating,
        comment=comment,
        channel=channel,
        reason=reason,
    )


def flag(state: ProjectState, *, kind: FlagKind, reason: str, now: datetime) -> Outcome:
    """Accountability: 通报 names the project once; 约谈 may be held more than once."""
    _check(state, "flag")
    require_aware(now)
    if kind == "notice" and "notice" in state.flags:
        raise Conflict(f"project {state.id} has already been named (通报)")
    event = ProjectFlagged(**_keys(state), kind=kind, reason=required(reason, "reason"))
    return FOLD.commit(state, [event])
