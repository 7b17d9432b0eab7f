"""A random, valid history of appeals and projects, and the figures it must produce.

The generator tells each aggregate's story and writes down, as it goes, what every
metric and KPI must show; it never calls the counting code, so it is an independent
ground truth for the unit tests and for the integration test against the real broker.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, get_args
from zoneinfo import ZoneInfo

from prometheus_client import Metric

from minsheng.events import (
    AppealAccepted,
    AppealClosed,
    AppealDispatched,
    AppealEscalated,
    AppealExtended,
    AppealReceived,
    AppealReopened,
    AppealResolved,
    AppealReturned,
    CloudEvent,
    EventData,
    NotificationDelivered,
    NotificationFailed,
    ProjectClaimed,
    ProjectCompleted,
    ProjectFlagged,
    ProjectMilestone,
    ProjectProgressReported,
    ProjectVerified,
    SatisfactionRecorded,
    new_event,
)
from minsheng.events.appeals import Channel, EscalationLevel
from minsheng.events.projects import FlagKind, Level, MilestoneStatus, ProjectCategory
from minsheng.events.satisfaction import Rating, SubjectType
from minsheng.topics import APPEALS, NOTIFICATIONS, PROJECTS

DISTRICTS = ("洮北区", "大安市", "洮南市")
CATEGORIES = ("complaint", "consultation", "help")
CHANNELS: tuple[Channel, ...] = get_args(Channel)
ESCALATIONS: tuple[EscalationLevel, ...] = get_args(EscalationLevel)
RATINGS: tuple[Rating, ...] = get_args(Rating)
LEVELS: tuple[Level, ...] = get_args(Level)
PROJECT_CATEGORIES: tuple[ProjectCategory, ...] = get_args(ProjectCategory)
MILESTONES: tuple[MilestoneStatus, ...] = get_args(MilestoneStatus)
FLAGS: tuple[FlagKind, ...] = get_args(FlagKind)
UNIT = "市住建局"
CITY = ZoneInfo("Asia/Shanghai")
NOTIFY_CHANNELS = ("sms", "email", "webhook")
SOURCE = "minsheng/tests"
METRICS: dict[str, tuple[str, ...]] = {  # docs/contract.md's names and labels, in its order
    "minsheng_appeals_received_total": ("district", "category", "channel"),
    "minsheng_appeals_resolved_total": ("district", "category", "on_time"),
    "minsheng_appeals_returned_total": ("district",),
    "minsheng_appeals_escalated_total": ("district", "level"),
    "minsheng_appeals_open": ("district", "category"),
    "minsheng_appeals_overdue": ("district",),
    "minsheng_satisfaction_responses_total": ("district", "subject_type", "rating"),
    "minsheng_projects_claimed_total": ("district", "level", "category", "year"),
    "minsheng_projects_completed_total": ("district", "level", "year", "on_time"),
    "minsheng_projects_active": ("district", "level"),
    "minsheng_project_milestones_total": ("district", "status"),
    "minsheng_projects_flagged_total": ("district", "kind"),
}
Samples = dict[str, Counter[tuple[str, ...]]]


@dataclass
class AppealOutcome:
    """Where an appeal's story ended."""

    district: str
    received_at: datetime
    open: bool = True
    overdue: bool = False
    resolved_on_time: bool | None = None  # None: no resolution stands
    called_back: bool = False


@dataclass
class ProjectOutcome:
    district: str
    year: str
    level: str
    completed: bool = False


@dataclass
class Workload:
    """The events, in an order Kafka could deliver them, and what they must yield."""

    now: datetime
    events: list[CloudEvent] = field(default_factory=list)
    metrics: Samples = field(default_factory=lambda: {name: Counter() for name in METRICS})
    appeals: list[AppealOutcome] = field(default_factory=list)
    projects: list[ProjectOutcome] = field(default_factory=list)
    ratings: list[tuple[str, str, str]] = field(default_factory=list)  # district, type, rating
    notifications: list[tuple[str, str, int]] = field(
        default_factory=list
    )  # channel, outcome, attempts

    def count(self, metric: str, *labels: object) -> None:
        self.metrics[metric][tuple(str(label) for label in labels)] += 1

    def rate(
        self, rnd: random.Random, subject_type: SubjectType, subject_id: str, district: str
    ) -> SatisfactionRecorded:
        """A random rating of the subject, counted."""
        rating = rnd.choice(RATINGS)
        self.count("minsheng_satisfaction_responses_total", district, subject_type, rating)
        self.ratings.append((district, subject_type, rating))
        return SatisfactionRecorded(
            subject_type=subject_type,
            subject_id=subject_id,
            rating=rating,
            channel="callback" if subject_type == "appeal" else "interview",
            district=district,
            recorded_at=self.now,
        )


def workload(
    seed: int, appeals: int, projects: int, now: datetime, notifications: int = 0
) -> Workload:
    """`appeals` appeal stories, `projects` project stories and `notifications` delivery
    stories, interleaved at random."""
    rnd = random.Random(seed)
    w = Workload(now)
    stories = [_appeal_story(rnd, w, f"A{seed}-{i}") for i in range(appeals)]
    stories += [_project_story(rnd, w, f"P{seed}-{i}") for i in range(projects)]
    stories += [_notification_story(rnd, w, f"N{seed}-{i}") for i in range(notifications)]
    for subject, data, sequence in _interleave(rnd, stories):
        w.events.append(
            new_event(data, subject=subject, sequence=sequence, source=SOURCE, time=now)
        )
    return w


def is_project(event: CloudEvent) -> bool:
    """Whether the event goes to the projects topic (else to the appeals topic)."""
    return "project_id" in event.data or event.data.get("subject_type") == "project"


def topic_of(event: CloudEvent) -> str:
    """The domain topic the event belongs on."""
    if "notification_id" in event.data:
        return NOTIFICATIONS
    return PROJECTS if is_project(event) else APPEALS


def with_redeliveries(rnd: random.Random, events: list[CloudEvent], p: float) -> list[CloudEvent]:
    """The events with replays mixed in, as Kafka redelivers them: after any event, with
    probability `p`, a run of its aggregate's earlier events comes again, in order."""
    seen: dict[str, list[CloudEvent]] = defaultdict(list)
    out: list[CloudEvent] = []
    for event in events:
        out.append(event)
        earlier = seen[event.subject]
        earlier.append(event)
        if rnd.random() < p:
            start = rnd.randrange(len(earlier))
            out.extend(earlier[start : rnd.randint(start + 1, len(earlier))])
    return out


def metric_samples(families: Iterable[Metric]) -> Samples:
    """The samples of docs/contract.md's analytics metrics, by name and label values (a sample
    without one of the metric's labels, or with another, fails here)."""
    found: Samples = {name: Counter() for name in METRICS}
    for family in families:
        for sample in family.samples:
            labels = METRICS.get(sample.name)
            if labels is not None and sample.value:
                assert set(sample.labels) == set(labels), sample
                found[sample.name][tuple(sample.labels[k] for k in labels)] = int(sample.value)
    return found


def expected_counters(w: Workload) -> dict[str, Any]:
    """What GET /v1/counters must answer (without `as_of`), from the stories' outcomes."""
    districts = sorted({a.district for a in w.appeals} | {p.district for p in w.projects})
    return {
        "city": _figures(w, None),
        "districts": {d: _figures(w, d) for d in districts},
        "notifications": _notification_figures(w),
    }


def _notification_figures(w: Workload) -> dict[str, Any]:
    def figures(channel: str | None) -> dict[str, int]:
        mine = [n for n in w.notifications if channel in (None, n[0])]
        return {
            "delivered": sum(outcome == "delivered" for _, outcome, _ in mine),
            "failed": sum(outcome == "failed" for _, outcome, _ in mine),
            "attempts": sum(attempts for _, _, attempts in mine),
        }

    total = figures(None)
    sent = total["delivered"] + total["failed"]
    return {
        **{k: total[k] for k in ("delivered", "failed")},
        "delivery_rate": total["delivered"] / sent if sent else None,
        "attempts": total["attempts"],
        "by_channel": {c: figures(c) for c in sorted({n[0] for n in w.notifications})},
    }


def _today(w: Workload, appeals: list[AppealOutcome]) -> dict[str, Any]:
    """Appeals received on the city's calendar day of `w.now`, by local hour."""
    day = w.now.astimezone(CITY).date()
    hours = Counter(
        f"{local.hour:02d}"
        for local in (a.received_at.astimezone(CITY) for a in appeals)
        if local.date() == day
    )
    return {
        "date": day.isoformat(),
        "received": sum(hours.values()),
        "received_by_hour": dict(sorted(hours.items())),
    }


def _figures(w: Workload, district: str | None) -> dict[str, Any]:
    appeals = [a for a in w.appeals if district in (None, a.district)]
    projects = [p for p in w.projects if district in (None, p.district)]
    resolved = [a for a in appeals if a.resolved_on_time is not None]
    on_time = sum(a.resolved_on_time is True for a in resolved)
    overdue = sum(a.overdue for a in appeals)
    called_back = sum(a.called_back for a in resolved)

    def satisfaction(subject_type: str) -> tuple[int, float | None]:
        ratings = [r for d, t, r in w.ratings if t == subject_type and district in (None, d)]
        good = sum(r != "dissatisfied" for r in ratings)
        return len(ratings), (good / len(ratings) if ratings else None)

    appeal_responses, appeal_rate = satisfaction("appeal")
    project_responses, project_rate = satisfaction("project")
    by_year: dict[str, dict[str, dict[str, Any]]] = {}
    for year, level in sorted({(p.year, p.level) for p in projects}):
        group = [p for p in projects if (p.year, p.level) == (year, level)]
        done = sum(p.completed for p in group)
        by_year.setdefault(year, {})[level] = {
            "claimed": len(group),
            "completed": done,
            "completion_rate": done / len(group),
        }
    return {
        "received": len(appeals),
        "open": sum(a.open for a in appeals),
        "overdue": overdue,
        "resolved": len(resolved),
        "resolved_on_time": on_time,
        "resolution_rate": len(resolved) / len(appeals) if appeals else None,
        "on_time_rate": on_time / (len(resolved) + overdue) if resolved or overdue else None,
        "satisfaction_responses": appeal_responses,
        "satisfaction_rate": appeal_rate,
        "called_back": called_back,
        "callback_rate": called_back / len(resolved) if resolved else None,
        "today": _today(w, appeals),
        "projects": {
            "satisfaction_responses": project_responses,
            "satisfaction_rate": project_rate,
            "by_year": by_year,
        },
    }


def _interleave(
    rnd: random.Random, stories: list[tuple[str, list[EventData]]]
) -> Iterator[tuple[str, EventData, int]]:
    """Merges the stories at random, keeping each one's order; numbers them 1, 2, 3, ..."""
    pending = [(subject, list(reversed(events)), 0) for subject, events in stories]
    while pending:
        i = rnd.randrange(len(pending))
        subject, events, done = pending[i]
        yield subject, events.pop(), done + 1
        pending[i] = (subject, events, done + 1)
        if not events:
            pending.pop(i)


def _deadline(rnd: random.Random, now: datetime) -> datetime:
    """Days before or after `now`, so a few seconds of test time never change the answer."""
    return now + timedelta(days=rnd.choice((-1, 1)) * rnd.randint(1, 10))


def _appeal_story(rnd: random.Random, w: Workload, appeal_id: str) -> tuple[str, list[EventData]]:
    district, category = rnd.choice(DISTRICTS), rnd.choice(CATEGORIES)
    keys: dict[str, Any] = {"appeal_id": appeal_id, "district": district, "category": category}
    channel = rnd.choice(CHANNELS)
    deadline: datetime | None = _deadline(rnd, w.now)
    received_at = w.now - timedelta(minutes=rnd.randint(0, 30 * 60))  # today or yesterday
    events: list[EventData] = [
        AppealReceived(
            **keys, title="路灯不亮", channel=channel, received_at=received_at, deadline=deadline
        )
    ]
    w.count("minsheng_appeals_received_total", district, category, channel)
    outcome = AppealOutcome(district, received_at)
    for _ in range(rnd.randint(1, 3)):
        deadline = _deadline(rnd, w.now)
        dispatch = AppealDispatched(**keys, unit=UNIT, deadline=deadline, dispatched_by="router")
        events.append(dispatch)
        while rnd.random() < 0.3:
            events += [AppealReturned(**keys, unit=UNIT, reason="不属本单位"), dispatch]
            w.count("minsheng_appeals_returned_total", district)
        if rnd.random() < 0.7:
            events.append(AppealAccepted(**keys, unit=UNIT))
        if rnd.random() < 0.3:
            extended = _deadline(rnd, w.now)
            events.append(
                AppealExtended(
                    **keys,
                    unit=UNIT,
                    previous_deadline=deadline,
                    new_deadline=extended,
                    reason="待施工",
                    approved_by="sup",
                )
            )
            deadline = extended
        if rnd.random() < 0.3:
            level = rnd.choice(ESCALATIONS)
            events.append(AppealEscalated(**keys, unit=UNIT, level=level, deadline=deadline))
            w.count("minsheng_appeals_escalated_total", district, level)
        roll = rnd.random()
        if roll < 0.25:
            break  # stays open
        if roll < 0.35:
            events.append(AppealClosed(**keys, outcome=rnd.choice(("duplicate", "withdrawn"))))
            outcome.open = False
            break
        on_time = rnd.random() < 0.6
        events.append(
            AppealResolved(
                **keys, unit=UNIT, resolution="已修复", resolved_at=w.now, on_time=on_time
            )
        )
        w.count("minsheng_appeals_resolved_total", district, category, str(on_time).lower())
        outcome.open, outcome.resolved_on_time, outcome.called_back = False, on_time, False
        if rnd.random() < 0.7:
            callback = w.rate(rnd, "appeal", appeal_id, district)
            events.append(callback)
            outcome.called_back = True
            if callback.rating == "dissatisfied" and rnd.random() < 0.6:
                events.append(AppealReopened(**keys, reason="不满意", by="callback"))
                outcome.open, outcome.resolved_on_time, outcome.called_back = True, None, False
                deadline = None  # until the next dispatch
                continue
        if rnd.random() < 0.5:
            events.append(AppealClosed(**keys, outcome="resolved"))
        break
    if outcome.open:
        outcome.overdue = deadline is not None and deadline < w.now
        w.count("minsheng_appeals_open", district, category)
        if outcome.overdue:
            w.count("minsheng_appeals_overdue", district)
    w.appeals.append(outcome)
    return appeal_id, events


def _project_story(rnd: random.Random, w: Workload, project_id: str) -> tuple[str, list[EventData]]:
    district, level, year = rnd.choice(DISTRICTS), rnd.choice(LEVELS), rnd.choice((2019, 2020))
    keys: dict[str, Any] = {"project_id": project_id, "district": district, "level": level}
    keys["year"] = year
    category = rnd.choice(PROJECT_CATEGORIES)
    events: list[EventData] = [
        ProjectClaimed(
            **keys,
            secretary_name="张书记",
            secretary_organisation="社区党委",
            title="社区读书中心",
            category=category,
            unit=UNIT,
            planned_start=date(year, 3, 1),
            planned_end=date(year, 9, 30),
        )
    ]
    w.count("minsheng_projects_claimed_total", district, level, category, year)
    outcome = ProjectOutcome(district, str(year), level)
    for i in range(rnd.randint(0, 3)):
        status = rnd.choice(MILESTONES)
        events.append(
            ProjectMilestone(**keys, milestone_id=f"m{i}", status=status, progress=20 * i)
        )
        w.count("minsheng_project_milestones_total", district, status)
    if rnd.random() < 0.5:
        events.append(ProjectProgressReported(**keys, progress=70))
    for _ in range(rnd.randint(0, 2)):
        on_time = rnd.random() < 0.5
        events.append(ProjectCompleted(**keys, completed_on=date(year, 9, 1), on_time=on_time))
        w.count("minsheng_projects_completed_total", district, level, year, str(on_time).lower())
        outcome.completed = True
        if rnd.random() < 0.5:
            break
        result = rnd.choice(("passed", "failed"))
        events.append(ProjectVerified(**keys, method="on_site", inspector="t3", result=result))
        if result == "passed":
            break
        outcome.completed = False
    if not outcome.completed:
        w.count("minsheng_projects_active", district, level)
    if rnd.random() < 0.2:
        kind = rnd.choice(FLAGS)
        events.append(ProjectFlagged(**keys, kind=kind, reason="未按期推进"))
        w.count("minsheng_projects_flagged_total", district, kind)
    if rnd.random() < 0.4:
        events.append(w.rate(rnd, "project", project_id, district))
    w.projects.append(outcome)
    return project_id, events


def _notification_story(
    rnd: random.Random, w: Workload, notification_id: str
) -> tuple[str, list[EventData]]:
    """Delivered or given up; now and then given up, then delivered by a resend."""
    keys: dict[str, Any] = {
        "notification_id": notification_id,
        "channel": rnd.choice(NOTIFY_CHANNELS),
        "recipient": "oncall:primary",
        "rule": "appeal-overdue",
    }
    attempts = rnd.randint(1, 3)
    events: list[EventData] = []
    if rnd.random() < 0.4:
        events.append(NotificationFailed(**keys, attempts=attempts, error="timeout"))
        if rnd.random() < 0.5:
            attempts += 1
            events.append(NotificationDelivered(**keys, attempts=attempts))
    else:
        events.append(NotificationDelivered(**keys, attempts=attempts))
    outcome = "delivered" if isinstance(events[-1], NotificationDelivered) else "failed"
    w.notifications.append((keys["channel"], outcome, attempts))
    return notification_id, events
