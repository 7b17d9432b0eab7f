"""A claim the projects tests share: a 2019 street-level project with a three-step
project book; and actions on a project with plausible arguments."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from minsheng.clock import CITY_TZ
from minsheng.events import Milestone, ProjectClaimed
from minsheng.events.projects import FlagKind, MilestoneStatus, VerificationResult
from projects import lifecycle as lc
from projects.lifecycle import Action, Outcome, ProjectState

UNIT = "明仁街道办事处"
OTHER_UNIT = "市住建局"
T0 = datetime(2019, 3, 1, 9, 0, tzinfo=CITY_TZ)
START, END = date(2019, 3, 1), date(2019, 9, 30)
MILESTONES = (
    Milestone(milestone_id="m1", title="方案设计", due=date(2019, 4, 30), weight=1),
    Milestone(milestone_id="m2", title="管网施工", due=date(2019, 7, 31), weight=2),
    Milestone(milestone_id="m3", title="验收交付", due=date(2019, 9, 15), weight=1),
)
CLAIM: dict[str, Any] = {
    "secretary": {"name": "王书记", "organisation": "明仁街道党工委", "level": "street"},
    "year": 2019,
    "title": "明仁社区老旧小区下水管网改造",
    "category": "basic_support",
    "district": "洮北区",
    "street": "明仁街道",
    "community": "明仁社区",
    "unit": UNIT,
    "planned_start": START.isoformat(),
    "planned_end": END.isoformat(),
    "milestones": [
        {
            "milestone_id": m.milestone_id,
            "title": m.title,
            "due": m.due.isoformat(),
            "weight": m.weight,
        }
        for m in MILESTONES
    ],
}


def claimed(
    project_id: str = "XM-2019-000001", milestones: tuple[Milestone, ...] = MILESTONES
) -> ProjectClaimed:
    return ProjectClaimed(
        project_id=project_id,
        district="洮北区",
        level="street",
        year=2019,
        secretary_name="王书记",
        secretary_organisation="明仁街道党工委",
        title="明仁社区老旧小区下水管网改造",
        category="basic_support",
        street="明仁街道",
        community="明仁社区",
        unit=UNIT,
        planned_start=START,
        planned_end=END,
        milestones=milestones,
    )


LATER = datetime(2019, 9, 20, 10, 0, tzinfo=CITY_TZ)  # after every milestone's due day


def act(state: ProjectState, action: Action, now: datetime = LATER, choice: int = 0) -> Outcome:
    """Runs an action with plausible arguments; `choice` picks among its variants."""
    match action:
        case "milestone":
            m = state.milestones[choice % len(state.milestones)]
            statuses: tuple[MilestoneStatus, ...] = ("reached", "at_risk", "missed", "rescheduled")
            status = statuses[choice // 3 % 4]
            extra: dict[str, Any] = {}
            if status == "rescheduled":
                extra = {
                    "new_due": max(m.due, now.date()) + timedelta(days=10),
                    "approved_by": "sv",
                }
            return lc.milestone(
                state, milestone_id=m.milestone_id, status=status, now=now, reason="原因", **extra
            )
        case "progress":
            return lc.report_progress(state, progress=(25 * choice) % 101, now=now)
        case "complete":
            return lc.complete(state, now=now)
        case "verify":
            result: VerificationResult = "passed" if choice % 2 else "failed"
            return lc.verify(state, method="on_site", inspector="督查组", result=result, now=now)
        case "evaluate":
            return lc.evaluate(state, rating="satisfied", now=now)
        case "flag":
            kind: FlagKind = "formal_talk" if choice % 2 or "notice" in state.flags else "notice"
            return lc.flag(state, kind=kind, reason="推进缓慢", now=now)
