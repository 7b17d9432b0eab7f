"""Sample events, subjects and a directory for the notifications tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from minsheng import events as ev
from minsheng.clock import CITY_TZ
from minsheng.events import CloudEvent, EventData, new_event
from notifications.directory import Directory, load_directory
from notifications.memory import Subject, evolve, subject_of
from notifications.messages import template_names
from notifications.rules import RuleSet, load_rules
from notifications.settings import DIRECTORY_FILE, RULES_FILE

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=CITY_TZ)  # a Tuesday, 10:00 city time
APPEAL = "BC20261201000042"
PROJECT = "P2026-0007"
DEADLINE = datetime(2026, 12, 8, 23, 59, 59, tzinfo=CITY_TZ)
UNIT = "市住建局"
PHONE_MASKED = "139****5678"
CONTACT = "c_0123456789abcdef"

RECEIVED = ev.AppealReceived(
    appeal_id=APPEAL,
    district="洮北区",
    category="complaint",
    title="小区路灯不亮",
    channel="hotline",
    contact_ref=CONTACT,
    phone_masked=PHONE_MASKED,
    received_at=T0,
)
# The same appeal, placed in a grid: its chiefs (网格长 ...) are reachable.
GRID_PATH = ("洮北区", "长庆街道", "百福社区", "百福社区第2网格")
IN_GRID = RECEIVED.model_copy(
    update={"street": GRID_PATH[1], "community": GRID_PATH[2], "grid": GRID_PATH[3]}
)
DISPATCHED = ev.AppealDispatched(
    appeal_id=APPEAL,
    district="洮北区",
    category="complaint",
    unit=UNIT,
    assisting_units=("长庆街道办事处",),
    deadline=DEADLINE,
    dispatched_by="router",
)
RETURNED = ev.AppealReturned(
    appeal_id=APPEAL, district="洮北区", category="complaint", unit=UNIT, reason="不属于本单位职责"
)
ESCALATED = {
    level: ev.AppealEscalated(
        appeal_id=APPEAL,
        district="洮北区",
        category="complaint",
        unit=UNIT,
        level=level,
        deadline=DEADLINE,
    )
    for level in ("reminder", "overdue", "criticism")
}
EXTENDED = ev.AppealExtended(
    appeal_id=APPEAL,
    district="洮北区",
    category="complaint",
    unit=UNIT,
    previous_deadline=DEADLINE,
    new_deadline=DEADLINE + timedelta(days=7),
    reason="需协调供电公司更换线路",
    approved_by="supervisor-wang",
)
RESOLVED = ev.AppealResolved(
    appeal_id=APPEAL,
    district="洮北区",
    category="complaint",
    unit=UNIT,
    resolution="已更换路灯线路，恢复照明",
    resolved_at=T0 + timedelta(days=3),
    on_time=True,
)
REOPENED = ev.AppealReopened(
    appeal_id=APPEAL, district="洮北区", category="complaint", reason="回访不满意", by="callback"
)
CLAIMED = ev.ProjectClaimed(
    project_id=PROJECT,
    district="洮北区",
    level="county",
    year=2026,
    secretary_name="李书记",
    secretary_organisation="洮北区委",
    title="老旧小区改造",
    category="city_management",
    unit=UNIT,
    planned_start=T0.date(),
    planned_end=T0.date() + timedelta(days=90),
)
MILESTONE = {
    status: ev.ProjectMilestone(
        project_id=PROJECT,
        district="洮北区",
        level="county",
        year=2026,
        milestone_id="m1",
        status=status,
        progress=30,
        reason="材料未到位",
    )
    for status in ("missed", "at_risk")
}
FLAGGED = {
    kind: ev.ProjectFlagged(
        project_id=PROJECT,
        district="洮北区",
        level="county",
        year=2026,
        kind=kind,
        reason="进度滞后",
    )
    for kind in ("notice", "formal_talk")
}
# One sample of every event a default rule answers, each with its history before it.
APPEAL_HISTORY: tuple[EventData, ...] = (RECEIVED, DISPATCHED)
SAMPLES: dict[str, EventData] = {
    "AppealDispatched": DISPATCHED,
    "AppealReturned": RETURNED,
    **{f"AppealEscalated/{k}": v for k, v in ESCALATED.items()},
    "AppealExtended": EXTENDED,
    "AppealResolved": RESOLVED,
    "AppealReopened": REOPENED,
    **{f"ProjectMilestone/{k}": v for k, v in MILESTONE.items()},
    **{f"ProjectFlagged/{k}": v for k, v in FLAGGED.items()},
}


def envelope(data: EventData, sequence: int = 1, time: datetime = T0) -> CloudEvent:
    found = subject_of(data)
    assert found is not None
    source = "minsheng/appeals" if found[0] == "appeal" else "minsheng/projects"
    return new_event(data, subject=found[1], sequence=sequence, source=source, time=time)


def remembered(data: EventData, received: EventData = RECEIVED) -> Subject:
    """What the consumer holds of the sample's subject when `data` arrives (after it),
    the appeal received as `received` (IN_GRID: in a grid)."""
    found = subject_of(data)
    assert found is not None
    held = Subject(*found)
    for earlier in (received, *APPEAL_HISTORY[1:], CLAIMED, data):
        if subject_of(earlier) == found:
            held = evolve(held, earlier)
    return held


@cache
def default_rules() -> RuleSet:
    return load_rules(RULES_FILE, template_names())


@cache
def directory() -> Directory:
    return load_directory(DIRECTORY_FILE)
