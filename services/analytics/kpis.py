"""The JSON of GET /v1/counters: city-wide and per-district KPIs, from summed figures.

The precise definitions are in services/analytics/README.md ("KPI definitions"); in short:
on-time rate = closed on time / (resolved + open and overdue), satisfaction rate =
(satisfied + basically satisfied) / responses, call-back rate = resolved appeals called
back since their resolution / resolved appeals. A rate is null when its denominator is 0.

Every input is a sum (`aggregate.py`), so the figures of several workers add up to the
city's before any rate is taken: a worker's share is never a rate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from analytics.aggregate import OVERDUE, Aggregate, share
from analytics.appeal_counting import appeal_figures, deadline_of
from analytics.counting import Figures, State
from analytics.notification_counting import notification_figures
from analytics.projects_topic import topic_deadlines, topic_figures
from analytics.windows import RECEIVED_HOUR, local_day
from analytics.workday_counting import (
    APPEALS_SOLVED,
    GOODS,
    ITEM_STATUSES,
    LIST_ITEMS,
    MISSED,
    SERVICES,
    VISITS,
)

SATISFIED = ("satisfied", "basically_satisfied")
SATISFACTION = "minsheng_satisfaction_responses"
UNIT_FIGURES = "minsheng_unit_"
APPEAL_FIGURES = ("received", "open", "resolved", "resolved_on_time", "called_back")
WORKDAY_FIGURES = {  # figure -> its name in GET /v1/counters
    VISITS: "visits",
    SERVICES: "services",
    APPEALS_SOLVED: "appeals_solved",
    GOODS: "goods_value_yuan",
    MISSED: "missed",
}
SERVICES_BY_KIND = "services_by_kind."


def rate(numerator: int, denominator: int) -> float | None:
    """A ratio, or None (JSON null) when there is nothing to divide by."""
    return numerator / denominator if denominator else None


class _Scope:
    """The running figures of the city or of one district."""

    def __init__(self) -> None:
        self.appeals: Counter[str] = Counter()
        self.satisfaction: dict[str, Counter[str]] = {
            "appeal": Counter(),
            "project": Counter(),
            "list_item": Counter(),
        }
        self.lists: dict[tuple[str, str], Counter[str]] = {}  # (year, kind) -> by status
        self.workdays: dict[str, Counter[str]] = {}  # month -> figure
        self.projects: dict[tuple[str, str], Counter[str]] = {}
        self.today: Counter[str] = Counter()  # by hour "00".."23"

    def add(self, name: str, labels: tuple[str, ...], value: int) -> None:
        if name in APPEAL_FIGURES:
            self.appeals[name] += value
        elif name == OVERDUE:
            self.appeals["overdue"] += value
        elif name == SATISFACTION:
            counts = self.satisfaction[labels[1]]
            counts["responses"] += value
            counts["satisfied"] += value if labels[2] in SATISFIED else 0
        elif name in ("claimed", "completed"):
            self.projects.setdefault((labels[1], labels[2]), Counter())[name] += value
        elif name == RECEIVED_HOUR:
            self.today[labels[1][-2:]] += value
        elif name == LIST_ITEMS:
            self.lists.setdefault((labels[1], labels[2]), Counter())[labels[3]] += value
        elif name in WORKDAY_FIGURES:
            month = self.workdays.setdefault(labels[1], Counter())
            month[WORKDAY_FIGURES[name]] += value
            if name == SERVICES:
                month[f"{SERVICES_BY_KIND}{labels[2]}"] += value

    def report(self, day: str) -> dict[str, Any]:
        a = self.appeals
        return {
            **{k: a[k] for k in ("received", "open", "overdue", "resolved", "resolved_on_time")},
            "resolution_rate": rate(a["resolved"], a["received"]),
            "on_time_rate": rate(a["resolved_on_time"], a["resolved"] + a["overdue"]),
            "satisfaction_responses": self.satisfaction["appeal"]["responses"],
            "satisfaction_rate": _satisfaction_rate(self.satisfaction["appeal"]),
            "called_back": a["called_back"],
            "callback_rate": rate(a["called_back"], a["resolved"]),
            "today": {
                "date": day,
                "received": sum(self.today.values()),
                "received_by_hour": dict(sorted(self.today.items())),
            },
            "projects": {
                "satisfaction_responses": self.satisfaction["project"]["responses"],
                "satisfaction_rate": _satisfaction_rate(self.satisfaction["project"]),
                "by_year": _by_year_and_level(self.projects),
            },
            "lists": {
                "items": sum(sum(c.values()) for c in self.lists.values()),
                "satisfaction_responses": self.satisfaction["list_item"]["responses"],
                "satisfaction_rate": _satisfaction_rate(self.satisfaction["list_item"]),
                "by_year": _lists_by_year(self.lists),
            },
            "workdays": _workdays(self.workdays),
        }


def report(figures: Figures, now: datetime) -> dict[str, Any]:
    """City-wide and per-district KPIs from the city's figures at `now` ("overdue" and
    "today" are as of `now`)."""
    day = local_day(now)
    city = _Scope()
    districts: dict[str, _Scope] = {}
    notifications: dict[str, Counter[str]] = {}
    for (name, labels), value in figures.items():
        if name in ("notifications", "notification_attempts"):
            outcome = labels[1] if name == "notifications" else "attempts"
            notifications.setdefault(labels[0], Counter())[outcome] += value
            continue
        if name == RECEIVED_HOUR and not labels[1].startswith(day):
            continue
        if name.startswith(UNIT_FIGURES):
            continue  # labelled by unit, not district
        district = districts.get(labels[0])
        if district is None:  # a scope is five counters: made once per district
            district = districts[labels[0]] = _Scope()
        city.add(name, labels, value)
        district.add(name, labels, value)
    return {
        "as_of": now.isoformat(),
        "city": city.report(day),
        "districts": {d: scope.report(day) for d, scope in sorted(districts.items())},
        "notifications": _notifications(notifications),
    }


def city_counters(
    appeals: Iterable[State],
    projects: Iterable[State],
    now: datetime,
    notifications: Iterable[State] = (),
) -> dict[str, Any]:
    """The report straight from states (tests, and the rebuild's comparison)."""
    return report(share(aggregates(appeals, projects, notifications), now), now)


def aggregates(
    appeals: Iterable[State], projects: Iterable[State], notifications: Iterable[State] = ()
) -> list[Aggregate]:
    """The three tables' aggregates over the given states."""
    tables = (
        (Aggregate(appeal_figures, deadline_of), appeals),
        (Aggregate(topic_figures, topic_deadlines), projects),
        (Aggregate(notification_figures), notifications),
    )
    for aggregate, states in tables:
        aggregate.rebuild(states, ())
    return [aggregate for aggregate, _ in tables]


def _notifications(by_channel: dict[str, Counter[str]]) -> dict[str, Any]:
    total = sum(by_channel.values(), Counter[str]())
    delivered, failed = total["delivered"], total["failed"]
    return {
        "delivered": delivered,
        "failed": failed,
        "delivery_rate": rate(delivered, delivered + failed),
        "attempts": total["attempts"],
        "by_channel": {
            channel: {k: c[k] for k in ("delivered", "failed", "attempts")}
            for channel, c in sorted(by_channel.items())
        },
    }


def _satisfaction_rate(counts: Counter[str]) -> float | None:
    return rate(counts["satisfied"], counts["responses"])


def _by_year_and_level(
    projects: dict[tuple[str, str], Counter[str]],
) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for (year, level), c in sorted(projects.items()):
        out.setdefault(year, {})[level] = {
            "claimed": c["claimed"],
            "completed": c["completed"],
            "completion_rate": rate(c["completed"], c["claimed"]),
        }
    return out


def _lists_by_year(lists: dict[tuple[str, str], Counter[str]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for (year, kind), by_status in sorted(lists.items()):
        counts = {status: by_status[status] for status in ITEM_STATUSES}
        out.setdefault(year, {})[kind] = {"items": sum(by_status.values()), **counts}
    return out


def _workdays(months: dict[str, Counter[str]]) -> dict[str, Any]:
    """The work-day figures, in all and by month, each month's services also by kind."""

    def figures(c: Counter[str]) -> dict[str, Any]:
        by_kind = {
            k.removeprefix(SERVICES_BY_KIND): n
            for k, n in sorted(c.items())
            if k.startswith(SERVICES_BY_KIND)
        }
        return {**{name: c[name] for name in WORKDAY_FIGURES.values()}, "services_by_kind": by_kind}

    return {
        **figures(sum(months.values(), Counter[str]())),
        "by_month": {month: figures(c) for month, c in sorted(months.items())},
    }
