"""Prometheus view of the tables: values are read from state on each scrape, so they
never reset on restart, and the overdue gauge moves as deadlines pass without events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from analytics.appeal_counting import open_by_labels, overdue_by_district
from analytics.counting import LabelKey, State, tally
from analytics.project_counting import active_by_labels

States = Callable[[], list[State]]
Family = TypeVar("Family", CounterMetricFamily, GaugeMetricFamily)


@dataclass(frozen=True)
class CounterSpec:
    """A counter family: the sum of one tally over the states of `tables`."""

    name: str
    doc: str
    labels: tuple[str, ...]
    tally: str
    tables: tuple[str, ...] = ("appeals",)


PROJECTS = ("projects",)
COUNTERS = (
    CounterSpec(
        "minsheng_appeals_received",
        "Appeals received.",
        ("district", "category", "channel"),
        "received",
    ),
    CounterSpec(
        "minsheng_appeals_resolved",
        "Appeal resolutions (办结), by whether they met the deadline.",
        ("district", "category", "on_time"),
        "resolved",
    ),
    CounterSpec("minsheng_appeals_returned", "Appeals returned (退单).", ("district",), "returned"),
    CounterSpec(
        "minsheng_appeals_escalated", "Escalations (督办).", ("district", "level"), "escalated"
    ),
    CounterSpec(
        "minsheng_satisfaction_responses",
        "Satisfaction responses (满意度) for appeals and projects.",
        ("district", "subject_type", "rating"),
        "satisfaction",
        ("appeals", "projects"),
    ),
    CounterSpec(
        "minsheng_projects_claimed",
        "Secretary projects claimed (书记项目).",
        ("district", "level", "category", "year"),
        "claimed",
        PROJECTS,
    ),
    CounterSpec(
        "minsheng_projects_completed",
        "Secretary projects declared completed, by whether by the planned end.",
        ("district", "level", "year", "on_time"),
        "completed",
        PROJECTS,
    ),
    CounterSpec(
        "minsheng_project_milestones",
        "Milestone reports.",
        ("district", "status"),
        "milestones",
        PROJECTS,
    ),
    CounterSpec(
        "minsheng_projects_flagged",
        "Projects named (通报) or talked to (约谈).",
        ("district", "kind"),
        "flagged",
        PROJECTS,
    ),
)


class TableCollector(Collector):
    """Every analytics metric of DESIGN.md, computed from the states at scrape time."""

    def __init__(self, appeals: States, projects: States, clock: Callable[[], datetime]) -> None:
        self.appeals, self.projects, self.clock = appeals, projects, clock

    def collect(self) -> Iterator[Metric]:
        tables = {"appeals": self.appeals(), "projects": self.projects()}
        appeals, projects = tables["appeals"], tables["projects"]
        for spec in COUNTERS:
            states = [s for table in spec.tables for s in tables[table]]
            family = CounterMetricFamily(spec.name, spec.doc, labels=spec.labels)
            yield _filled(family, tally(states, spec.tally))
        gauges: Iterable[tuple[str, str, tuple[str, ...], Counter[LabelKey]]] = (
            (
                "minsheng_appeals_open",
                "Appeals received and neither resolved nor closed.",
                ("district", "category"),
                open_by_labels(appeals),
            ),
            (
                "minsheng_appeals_overdue",
                "Open appeals past their current deadline.",
                ("district",),
                overdue_by_district(appeals, self.clock()),
            ),
            (
                "minsheng_projects_active",
                "Projects claimed and not (or no longer) completed.",
                ("district", "level"),
                active_by_labels(projects),
            ),
        )
        for name, doc, labels, values in gauges:
            yield _filled(GaugeMetricFamily(name, doc, labels=labels), values)


def _filled(family: Family, values: Counter[LabelKey]) -> Family:
    for labels, value in sorted(values.items()):
        family.add_metric(list(labels), value)
    return family
