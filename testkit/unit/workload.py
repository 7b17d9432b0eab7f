"""A random, valid history of appeals, projects and notifications, and the figures it
must produce (counters.py turns those into what the metrics and /v1/counters show).

The generator tells each aggregate's story and writes down, as it goes, what every
metric and KPI must show; it never calls the counting code, so it is an independent
ground truth for the unit tests and for the integration test against the real broker.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo

import yaml

from minsheng import events as ev
from minsheng.events import CloudEvent, EventData
from minsheng.events.appeals import Channel, EscalationLevel
from minsheng.events.projects import FlagKind, Level, MilestoneStatus, ProjectCategory
from minsheng.events.satisfaction import Rating, SubjectType
from minsheng.reference import units
from testkit.unit.counters import METRICS, Samples
from testkit.unit.events import domain_event, home_topic

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
# units appeals go to; the last is not in units.yaml, so it is labelled `other`
UNITS = ("市住建局", "洮北区人民政府", "某某物业公司")


def unit_label(unit: str) -> str:
    return "other" if unit == UNITS[-1] else unit


CITY = ZoneInfo("Asia/Shanghai")
NOTIFY_CHANNELS = ("sms", "email", "webhook")
LIGHTS_FILE = Path(__file__).resolve().parents[2] / "services" / "analytics" / "lights.yaml"


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
    # this month's traffic-light inputs of each unit of units.yaml (every event is `now`)
    unit_month: dict[str, Counter[str]] = field(
        default_factory=lambda: {unit: Counter() for unit in units()}
    )

    def count(self, metric: str, *labels: object) -> None:
        self.metrics[metric][tuple(str(label) for label in labels)] += 1

    def unit_did(self, unit: str | None, what: str) -> None:
        """One of this month's light inputs of `unit` (nothing for a unit not listed)."""
        if unit in self.unit_month:
            self.unit_month[unit][what] += 1

    def judge_units(self) -> None:
        """`minsheng_unit_light` of every unit, by the rule of docs/domain.md, worked out
        here from the thresholds file alone."""
        bounds = yaml.safe_load(LIGHTS_FILE.read_text(encoding="utf-8"))
        for unit, c in self.unit_month.items():
            rates = (
                _ratio(c["on_time"], c["resolved"] + c["overdue"]),
                _ratio(c["satisfied"], c["rated"]),
                _ratio(c["returned"], c["dispatched"]),
            )
            light = next(
                (colour for colour in ("green", "yellow") if _meets(rates, bounds[colour])),
                "red",
            )
            self.count("minsheng_unit_light", unit, light)

    def rate(
        self, rnd: random.Random, subject_type: SubjectType, subject_id: str, district: str
    ) -> ev.SatisfactionRecorded:
        """A random rating of the subject, counted."""
        rating = rnd.choice(RATINGS)
        self.count("minsheng_satisfaction_responses_total", district, subject_type, rating)
        self.ratings.append((district, subject_type, rating))
        return ev.SatisfactionRecorded(
            subject_type=subject_type,
            subject_id=subject_id,
            rating=rating,
            channel="callback" if subject_type == "appeal" else "interview",
            district=district,
            recorded_at=self.now,
        )


def _month(moment: datetime) -> tuple[int, int]:
    """The city's calendar month of the instant."""
    local = moment.astimezone(CITY)
    return local.year, local.month


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _meets(rates: tuple[float | None, ...], bound: dict[str, float]) -> bool:
    on_time, satisfaction, returns = rates
    return (
        (on_time is None or on_time >= bound["on_time"])
        and (satisfaction is None or satisfaction >= bound["satisfaction"])
        and (returns is None or returns <= bound["return_rate"])
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
        w.events.append(domain_event(data, subject=subject, sequence=sequence, time=now))
    w.judge_units()
    return w


def topic_of(event: CloudEvent) -> str:
    """The domain topic the event belongs on."""
    return home_topic(event.data)


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
        ev.AppealReceived(
            **keys, title="路灯不亮", channel=channel, received_at=received_at, deadline=deadline
        )
    ]
    w.count("minsheng_appeals_received_total", district, category, channel)
    outcome = AppealOutcome(district, received_at)
    unit: str | None = None  # the unit it is dispatched to now
    for _ in range(rnd.randint(1, 3)):
        deadline = _deadline(rnd, w.now)
        while True:
            unit = rnd.choice(UNITS)
            events.append(
                ev.AppealDispatched(**keys, unit=unit, deadline=deadline, dispatched_by="router")
            )
            w.unit_did(unit, "dispatched")
            if rnd.random() >= 0.3:
                break
            events.append(ev.AppealReturned(**keys, unit=unit, reason="不属本单位"))
            w.unit_did(unit, "returned")
            w.count("minsheng_appeals_returned_total", district)
            w.count("minsheng_unit_appeals_returned_total", unit_label(unit))
        if rnd.random() < 0.7:
            events.append(ev.AppealAccepted(**keys, unit=unit))
        if rnd.random() < 0.3:
            extended = _deadline(rnd, w.now)
            events.append(
                ev.AppealExtended(
                    **keys,
                    unit=unit,
                    previous_deadline=deadline,
                    new_deadline=extended,
                    reason="待施工",
                    approved_by="sup",
                )
            )
            deadline = extended
        if rnd.random() < 0.3:
            level = rnd.choice(ESCALATIONS)
            events.append(ev.AppealEscalated(**keys, unit=unit, level=level, deadline=deadline))
            w.count("minsheng_appeals_escalated_total", district, level)
        roll = rnd.random()
        if roll < 0.25:
            break  # stays open
        if roll < 0.35:
            events.append(ev.AppealClosed(**keys, outcome=rnd.choice(("duplicate", "withdrawn"))))
            outcome.open = False
            break
        on_time = rnd.random() < 0.6
        events.append(
            ev.AppealResolved(
                **keys, unit=unit, resolution="已修复", resolved_at=w.now, on_time=on_time
            )
        )
        w.count("minsheng_appeals_resolved_total", district, category, str(on_time).lower())
        w.count("minsheng_unit_appeals_resolved_total", unit_label(unit), str(on_time).lower())
        w.unit_did(unit, "resolved")
        if on_time:
            w.unit_did(unit, "on_time")
        outcome.open, outcome.resolved_on_time, outcome.called_back = False, on_time, False
        if rnd.random() < 0.7:
            callback = w.rate(rnd, "appeal", appeal_id, district)
            events.append(callback)
            w.unit_did(unit, "rated")  # the rating judges the unit that resolved
            if callback.rating != "dissatisfied":
                w.unit_did(unit, "satisfied")
            outcome.called_back = True
            if callback.rating == "dissatisfied" and rnd.random() < 0.6:
                events.append(ev.AppealReopened(**keys, reason="不满意", by="callback"))
                outcome.open, outcome.resolved_on_time, outcome.called_back = True, None, False
                deadline = unit = None  # until the next dispatch
                continue
        if rnd.random() < 0.5:
            events.append(ev.AppealClosed(**keys, outcome="resolved"))
        break
    if outcome.open:
        outcome.overdue = deadline is not None and deadline < w.now
        w.count("minsheng_appeals_open", district, category)
        if unit is not None:
            w.count("minsheng_unit_appeals_open", unit_label(unit))
        if outcome.overdue:
            w.count("minsheng_appeals_overdue", district)
            if unit is not None:
                w.count("minsheng_unit_appeals_overdue", unit_label(unit))
            if deadline is not None and _month(deadline) == _month(w.now):
                w.unit_did(unit, "overdue")  # late work counts in its deadline's month
    elif outcome.resolved_on_time is not None:
        w.count(
            "minsheng_appeals_resolved_standing", district, str(outcome.resolved_on_time).lower()
        )
        if outcome.called_back:
            w.count("minsheng_appeals_called_back", district)
    w.appeals.append(outcome)
    return appeal_id, events


def _project_story(rnd: random.Random, w: Workload, project_id: str) -> tuple[str, list[EventData]]:
    district, level, year = rnd.choice(DISTRICTS), rnd.choice(LEVELS), rnd.choice((2019, 2020))
    keys: dict[str, Any] = {"project_id": project_id, "district": district, "level": level}
    keys["year"] = year
    category = rnd.choice(PROJECT_CATEGORIES)
    events: list[EventData] = [
        ev.ProjectClaimed(
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
            ev.ProjectMilestone(**keys, milestone_id=f"m{i}", status=status, progress=20 * i)
        )
        w.count("minsheng_project_milestones_total", district, status)
    if rnd.random() < 0.5:
        events.append(ev.ProjectProgressReported(**keys, progress=70))
    for _ in range(rnd.randint(0, 2)):
        on_time = rnd.random() < 0.5
        events.append(ev.ProjectCompleted(**keys, completed_on=date(year, 9, 1), on_time=on_time))
        w.count("minsheng_projects_completed_total", district, level, year, str(on_time).lower())
        outcome.completed = True
        if rnd.random() < 0.5:
            break
        result = rnd.choice(("passed", "failed"))
        events.append(ev.ProjectVerified(**keys, method="on_site", inspector="t3", result=result))
        if result == "passed":
            break
        outcome.completed = False
    if not outcome.completed:
        w.count("minsheng_projects_active", district, level)
        if date(year, 9, 30) < w.now.astimezone(CITY).date():  # the planned end
            w.count("minsheng_projects_past_planned_end", district, level)
    standing = "completed" if outcome.completed else "active"
    w.count("minsheng_ledger_projects", district, year, level, standing)
    if rnd.random() < 0.2:
        kind = rnd.choice(FLAGS)
        events.append(ev.ProjectFlagged(**keys, kind=kind, reason="未按期推进"))
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
        events.append(ev.NotificationFailed(**keys, attempts=attempts, error="timeout"))
        if rnd.random() < 0.5:
            attempts += 1
            events.append(ev.NotificationDelivered(**keys, attempts=attempts))
    else:
        events.append(ev.NotificationDelivered(**keys, attempts=attempts))
    outcome = "delivered" if isinstance(events[-1], ev.NotificationDelivered) else "failed"
    w.notifications.append((keys["channel"], outcome, attempts))
    return notification_id, events
