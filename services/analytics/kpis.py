"""The JSON of GET /v1/counters: city-wide and per-district KPIs, from the states.

The precise definitions are in services/analytics/README.md ("KPI definitions"); in short:
on-time rate = closed on time / (resolved + open and overdue), satisfaction rate =
(satisfied + basically satisfied) / responses, call-back rate = resolved appeals called
back since their resolution / resolved appeals. A rate is null when its denominator is 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from analytics.appeal_counting import is_open, is_overdue, is_received
from analytics.counting import State
from analytics.project_counting import is_claimed, is_completed

SATISFIED = ("satisfied", "basically_satisfied")


def rate(numerator: int, denominator: int) -> float | None:
    """A ratio, or None (JSON null) when there is nothing to divide by."""
    return numerator / denominator if denominator else None


class _Scope:
    """The running figures of the city or of one district."""

    def __init__(self) -> None:
        self.appeals: Counter[str] = Counter()
        self.satisfaction: dict[str, Counter[str]] = {"appeal": Counter(), "project": Counter()}
        self.projects: dict[tuple[str, str], Counter[str]] = {}

    def report(self) -> dict[str, Any]:
        a = self.appeals
        return {
            **{k: a[k] for k in ("received", "open", "overdue", "resolved", "resolved_on_time")},
            "resolution_rate": rate(a["resolved"], a["received"]),
            "on_time_rate": rate(a["resolved_on_time"], a["resolved"] + a["overdue"]),
            "satisfaction_responses": self.satisfaction["appeal"]["responses"],
            "satisfaction_rate": _satisfaction_rate(self.satisfaction["appeal"]),
            "called_back": a["called_back"],
            "callback_rate": rate(a["called_back"], a["resolved"]),
            "projects": {
                "satisfaction_responses": self.satisfaction["project"]["responses"],
                "satisfaction_rate": _satisfaction_rate(self.satisfaction["project"]),
                "by_year": _by_year_and_level(self.projects),
            },
        }


def city_counters(
    appeals: Iterable[State], projects: Iterable[State], now: datetime
) -> dict[str, Any]:
    """City-wide and per-district KPIs at `now` (which decides what is overdue)."""
    city = _Scope()
    districts: dict[str, _Scope] = {}

    def scopes(district: str) -> tuple[_Scope, _Scope]:
        return city, districts.setdefault(district, _Scope())

    def count_satisfaction(s: State) -> None:
        for district, subject_type, rating in s.get("satisfaction", ()):
            for scope in scopes(district):
                scope.satisfaction[subject_type].update(
                    responses=1, satisfied=int(rating in SATISFIED)
                )

    for s in appeals:
        facts = _appeal_facts(s, now)
        for scope in scopes(s["district"]):
            scope.appeals.update(facts)
        count_satisfaction(s)
    for s in projects:
        if is_claimed(s):
            facts = Counter({"claimed": 1, "completed": int(is_completed(s))})
            for scope in scopes(s["district"]):
                scope.projects.setdefault((str(s["year"]), s["level"]), Counter()).update(facts)
        count_satisfaction(s)
    return {
        "as_of": now.isoformat(),
        "city": city.report(),
        "districts": {d: scope.report() for d, scope in sorted(districts.items())},
    }


def _appeal_facts(s: State, now: datetime) -> Counter[str]:
    resolution = s.get("resolution")
    return Counter(
        {
            "received": int(is_received(s)),
            "open": int(is_open(s)),
            "overdue": int(is_overdue(s, now)),
            "resolved": int(resolution is not None),
            "resolved_on_time": int(resolution is True),
            "called_back": int(resolution is not None and bool(s.get("called_back"))),
        }
    )


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
