"""What the analytics metrics and `GET /v1/counters` must show for a workload, from
the outcomes its stories wrote down (never from the counting code)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from prometheus_client import Metric

if TYPE_CHECKING:
    from testkit.unit.workload import AppealOutcome, Workload

CITY = ZoneInfo("Asia/Shanghai")
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
    "minsheng_list_items": ("district", "year", "kind", "status"),
    "minsheng_workday_visits_total": ("district", "month"),
    "minsheng_workday_services_total": ("district", "month", "kind"),
    "minsheng_workday_appeals_solved_total": ("district", "month"),
    "minsheng_workday_goods_value_yuan_total": ("district", "month"),
    "minsheng_workday_visits_missed_total": ("district", "month"),
    # the KPIs' inputs, and the per-unit figures
    "minsheng_appeals_resolved_standing": ("district", "on_time"),
    "minsheng_appeals_called_back": ("district",),
    "minsheng_ledger_projects": ("district", "year", "level", "status"),
    "minsheng_projects_past_planned_end": ("district", "level"),
    "minsheng_unit_appeals_open": ("unit",),
    "minsheng_unit_appeals_overdue": ("unit",),
    "minsheng_unit_appeals_resolved_total": ("unit", "on_time"),
    "minsheng_unit_appeals_returned_total": ("unit",),
    "minsheng_unit_light": ("unit", "light"),
}
Samples = dict[str, Counter[tuple[str, ...]]]
# The workloads have no list items or work-day visits: GET /v1/counters shows them empty
_NO_WORKDAYS = {"visits": 0, "services": 0, "appeals_solved": 0, "goods_value_yuan": 0, "missed": 0}
NO_LISTS_OR_WORKDAYS: dict[str, Any] = {
    "lists": {
        "items": 0,
        "satisfaction_responses": 0,
        "satisfaction_rate": None,
        "by_year": {},
    },
    "workdays": {**_NO_WORKDAYS, "services_by_kind": {}, "by_month": {}},
}


def metric_samples(families: Iterable[Metric]) -> Samples:
    """The samples of docs/contract.md's analytics metrics, by name and label values (a
    sample without one of the metric's labels, or with another, fails here)."""
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
        **NO_LISTS_OR_WORKDAYS,
    }
