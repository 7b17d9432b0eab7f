"""A secretary project's analytics state, folded from its events, and its gauges.

A project is active from its claim until it is declared completed; a failed
verification sends it back to work ("verification decides whether it counts"). An
active project is past its planned end from the city's midnight after that day, kept in
the aggregate's deadline index like an appeal's deadline, so it moves without events.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from analytics.aggregate import Deadlines
from analytics.counting import Figures, Folding, State, flag, record, tallied
from analytics.windows import CITY
from minsheng import events as ev
from minsheng.events import EventData
from minsheng.events.projects import ProjectEvent

ACTIVE, COMPLETED = "active", "completed"
PAST_PLANNED_END = "minsheng_projects_past_planned_end"


def _evolve(new: State, data: EventData, at: datetime) -> None:
    """What each project event changes in its new state, beyond the labels (`Folding`)."""
    match data:
        case ev.ProjectClaimed():
            record(new, "claimed", data.district, data.level, data.category, data.year)
            new.update(status=ACTIVE, progress=0, planned_end=_after(data.planned_end))
        case ev.ProjectMilestone():
            record(new, "milestones", data.district, data.status)
            new["progress"] = data.progress
        case ev.ProjectProgressReported():
            new["progress"] = data.progress
        case ev.ProjectCompleted():
            record(new, "completed", data.district, data.level, data.year, flag(data.on_time))
            new.update(status=COMPLETED, progress=100)
        case ev.ProjectVerified() if data.result == "failed":
            new["status"] = ACTIVE
        case ev.ProjectFlagged():
            record(new, "flagged", data.district, data.kind)
        case ev.SatisfactionRecorded():
            record(new, "satisfaction", data.district, "project", data.rating)


apply_project = Folding(
    "project", ProjectEvent, "project_id", ("district", "level", "year"), _evolve
)


def is_claimed(state: State) -> bool:
    return "claimed" in state


def is_completed(state: State) -> bool:
    return is_claimed(state) and state.get("status") == COMPLETED


TALLIES = {
    "claimed": "minsheng_projects_claimed",
    "completed": "minsheng_projects_completed",
    "milestones": "minsheng_project_milestones",
    "flagged": "minsheng_projects_flagged",
    "satisfaction": "minsheng_satisfaction_responses",
}


def project_figures(state: State) -> Figures:
    """What one project adds to the counters, the active gauge and the ledger KPIs."""
    figures = tallied(state, TALLIES)
    if not is_claimed(state):
        return figures
    ledger = (state["district"], str(state["year"]), state["level"])
    figures["claimed", ledger] += 1
    status = COMPLETED if is_completed(state) else ACTIVE
    figures["minsheng_ledger_projects", (*ledger, status)] += 1
    if status == COMPLETED:
        figures["completed", ledger] += 1
    else:
        figures["minsheng_projects_active", (state["district"], state["level"])] += 1
    return figures


def planned_end_of(state: State) -> Deadlines:
    """An active project's past-planned-end figure, due at the end of its planned end."""
    end = state.get("planned_end")
    if end is None or not is_claimed(state) or is_completed(state):
        return ()
    return (((PAST_PLANNED_END, (state["district"], state["level"])), end),)


def _after(day: date) -> float:
    """The city's midnight ending `day`, as an epoch: later than that is past it."""
    return datetime.combine(day + timedelta(days=1), time(), CITY).timestamp()
