"""The KPIs of GET /v1/counters on small, hand-checked histories."""

from __future__ import annotations

from datetime import timedelta

from analytics.appeal_counting import apply_appeal
from analytics.counting import State
from analytics.kpis import city_counters, rate
from analytics.project_counting import apply_project
from minsheng.events import (
    AppealClosed,
    AppealDispatched,
    AppealReceived,
    AppealResolved,
    EventData,
    ProjectClaimed,
    ProjectCompleted,
    SatisfactionRecorded,
)
from testkit.unit.analytics import fold, payload
from testkit.unit.events import DEADLINE, sample

LATER = DEADLINE + timedelta(days=1)


def appeal(n: int, *events: EventData, district: str = "洮北区") -> State:
    """Appeal `A<n>`: received, dispatched (deadline DEADLINE), then `events`."""
    history = [sample(AppealReceived), sample(AppealDispatched), *events]
    return fold(apply_appeal, [_of(e, f"A{n}", district=district) for e in history])


def project(n: int, *events: EventData, level: str = "community") -> State:
    """Project `P<n>`: claimed, then `events`."""
    history = [sample(ProjectClaimed), *events]
    return fold(apply_project, [_of(e, f"P{n}", level=level) for e in history])


def _of(data: EventData, subject: str, **labels: str) -> EventData:
    key = "appeal_id" if hasattr(data, "appeal_id") else "project_id"
    key = "subject_id" if isinstance(data, SatisfactionRecorded) else key
    return data.model_copy(update={key: subject, **labels})


def test_every_rate_is_null_when_its_denominator_is_zero() -> None:
    assert rate(0, 0) is None
    city = city_counters([], [], LATER)["city"]
    assert city["received"] == 0
    for key in ("resolution_rate", "on_time_rate", "satisfaction_rate", "callback_rate"):
        assert city[key] is None
    assert city["projects"] == {
        "satisfaction_responses": 0,
        "satisfaction_rate": None,
        "by_year": {},
    }


def test_appeal_kpis_city_wide_and_per_district() -> None:
    satisfied = payload(SatisfactionRecorded, rating="satisfied", reason=None)
    appeals = [
        appeal(1, payload(AppealResolved, on_time=True), satisfied),  # on time, called back
        appeal(2, payload(AppealResolved, on_time=False)),  # late
        appeal(3),  # open and overdue at LATER
        appeal(4, payload(AppealClosed, outcome="duplicate")),  # neither open nor resolved
        appeal(5, sample(SatisfactionRecorded), district="大安市"),  # open, overdue, rated
    ]
    counters = city_counters(appeals, [], LATER)
    city = counters["city"]
    assert {k: city[k] for k in ("received", "open", "overdue", "resolved")} == {
        "received": 5,
        "open": 2,
        "overdue": 2,
        "resolved": 2,
    }
    assert city["resolution_rate"] == 2 / 5
    assert city["on_time_rate"] == 1 / (2 + 2)  # closed on time / (closed + open and overdue)
    assert city["satisfaction_rate"] == 1 / 2
    assert city["callback_rate"] == 1 / 2  # a rating before any resolution is no call-back
    daan = counters["districts"]["大安市"]
    assert (daan["received"], daan["on_time_rate"], daan["callback_rate"]) == (1, 0.0, None)
    earlier = city_counters(appeals, [], DEADLINE - timedelta(days=1))["city"]
    assert (earlier["overdue"], earlier["on_time_rate"]) == (0, 1 / 2)


def test_project_completion_per_year_and_level() -> None:
    projects = [
        project(1, sample(ProjectCompleted)),
        project(2),
        project(3, sample(ProjectCompleted), level="city"),
    ]
    by_year = city_counters([], projects, LATER)["city"]["projects"]["by_year"]
    assert by_year == {
        "2019": {
            "city": {"claimed": 1, "completed": 1, "completion_rate": 1.0},
            "community": {"claimed": 2, "completed": 1, "completion_rate": 0.5},
        }
    }
