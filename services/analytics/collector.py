"""Prometheus view of this worker's share of the figures: the values come from the
changelog-backed tables (through their aggregates), so they never reset on restart, and
the overdue gauge moves as deadlines pass without events.

With several workers each exports the figures of its own partitions, so
`sum without(instance)` of any of these series is the city's figure (see the README and
deploy/prometheus/recording/analytics.yml).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from analytics.counting import Figures, LabelKey
from analytics.lights import LIGHTS, Thresholds, UnitMonth, light


@dataclass(frozen=True)
class Family:
    """A metric family of docs/contract.md: its figures are named `name`."""

    name: str
    doc: str
    labels: tuple[str, ...]
    gauge: bool = False


FAMILIES = (
    Family("minsheng_appeals_received", "Appeals received.", ("district", "category", "channel")),
    Family(
        "minsheng_appeals_resolved",
        "Appeal resolutions (办结), by whether they met the deadline.",
        ("district", "category", "on_time"),
    ),
    Family("minsheng_appeals_returned", "Appeals returned (退单).", ("district",)),
    Family("minsheng_appeals_escalated", "Escalations (督办).", ("district", "level")),
    Family(
        "minsheng_appeals_open",
        "Appeals received and neither resolved nor closed.",
        ("district", "category"),
        gauge=True,
    ),
    Family(
        "minsheng_appeals_overdue",
        "Open appeals past their current deadline.",
        ("district",),
        gauge=True,
    ),
    Family(
        "minsheng_satisfaction_responses",
        "Satisfaction responses (满意度) for appeals and projects.",
        ("district", "subject_type", "rating"),
    ),
    Family(
        "minsheng_projects_claimed",
        "Secretary projects claimed (书记项目).",
        ("district", "level", "category", "year"),
    ),
    Family(
        "minsheng_projects_completed",
        "Secretary projects declared completed, by whether by the planned end.",
        ("district", "level", "year", "on_time"),
    ),
    Family(
        "minsheng_projects_active",
        "Projects claimed and not (or no longer) completed.",
        ("district", "level"),
        gauge=True,
    ),
    Family(
        "minsheng_projects_past_planned_end",
        "Active projects whose planned end (a day in the city's time zone) has passed.",
        ("district", "level"),
        gauge=True,
    ),
    Family("minsheng_project_milestones", "Milestone reports.", ("district", "status")),
    Family(
        "minsheng_projects_flagged",
        "Projects named (通报) or talked to (约谈).",
        ("district", "kind"),
    ),
    # The inputs of the KPIs of GET /v1/counters, so recording rules compute the same rates.
    Family(
        "minsheng_appeals_resolved_standing",
        "Appeals whose latest resolution stands (no reopen since), by its on_time.",
        ("district", "on_time"),
        gauge=True,
    ),
    Family(
        "minsheng_appeals_called_back",
        "Appeals with a satisfaction response since their standing resolution (回访).",
        ("district",),
        gauge=True,
    ),
    Family(
        "minsheng_ledger_projects",
        "Claimed projects by standing status: completed (not sent back), or active.",
        ("district", "year", "level", "status"),
        gauge=True,
    ),
    # The four lists (四项清单) and community work days (社区工作日), by district and month
    Family(
        "minsheng_list_items",
        "Items of the four lists, by their standing status.",
        ("district", "year", "kind", "status"),
        gauge=True,
    ),
    Family(
        "minsheng_workday_visits",
        "Community work-day visits of units to their paired communities.",
        ("district", "month"),
    ),
    Family(
        "minsheng_workday_services",
        "Services delivered on community work days, by kind.",
        ("district", "month", "kind"),
    ),
    Family(
        "minsheng_workday_appeals_solved",
        "Appeals solved on the spot on community work days.",
        ("district", "month"),
    ),
    Family(
        "minsheng_workday_goods_value_yuan",
        "Value of goods given on community work days, in yuan.",
        ("district", "month"),
    ),
    Family(
        "minsheng_workday_visits_missed",
        "Months in which a paired unit recorded no visit (reported once each).",
        ("district", "month"),
    ),
    # Per handling unit (承办单位); `unit` is a unit of units.yaml, or `other`.
    Family(
        "minsheng_unit_appeals_open",
        "Open appeals dispatched to the unit (not returned since).",
        ("unit",),
        gauge=True,
    ),
    Family(
        "minsheng_unit_appeals_overdue",
        "Open appeals dispatched to the unit, past their current deadline.",
        ("unit",),
        gauge=True,
    ),
    Family(
        "minsheng_unit_appeals_resolved",
        "Resolutions (办结) reported by the unit, by whether they met the deadline.",
        ("unit", "on_time"),
    ),
    Family("minsheng_unit_appeals_returned", "Appeals the unit returned (退单).", ("unit",)),
)


class FiguresCollector(Collector):
    """Every analytics metric of docs/contract.md, from the worker's figures at scrape time."""

    def __init__(self, figures: Callable[[], Figures]) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Metric]:
        by_name: dict[str, list[tuple[LabelKey, int]]] = defaultdict(list)
        for (name, labels), value in self.figures().items():
            by_name[name].append((labels, value))
        for family in FAMILIES:
            kind = GaugeMetricFamily if family.gauge else CounterMetricFamily
            metric = kind(family.name, family.doc, labels=family.labels)
            for labels, value in sorted(by_name[family.name]):
                metric.add_metric(list(labels), value)
            yield metric


class LightsCollector(Collector):
    """`minsheng_unit_light{unit,light}`: 1 for each unit's light this month, 0 for the
    other two, so `sum by (light)` counts the units of each light."""

    def __init__(self, months: Iterable[UnitMonth], thresholds: Thresholds) -> None:
        self.months, self.thresholds = list(months), thresholds

    def collect(self) -> Iterator[Metric]:
        metric = GaugeMetricFamily(
            "minsheng_unit_light",
            "The unit's traffic light this month (绿灯率): 1 for its light, 0 for the others.",
            labels=("unit", "light"),
        )
        for month in sorted(self.months, key=lambda m: m.unit):
            shown = light(*month.rates(), self.thresholds)
            for colour in LIGHTS:
                metric.add_metric([month.unit, colour], 1 if colour == shown else 0)
        yield metric


class StatesCollector(Collector):
    """`minsheng_analytics_states{table}`: the aggregates' states this worker holds in
    memory, which after a rebalance are those of its own partitions only."""

    def __init__(self, held: Callable[[], Mapping[str, int]]) -> None:
        self.held = held

    def collect(self) -> Iterator[Metric]:
        metric = GaugeMetricFamily(
            "minsheng_analytics_states",
            "Per-aggregate states held in this worker's memory, by table.",
            labels=("table",),
        )
        for table, count in sorted(self.held().items()):
            metric.add_metric([table], count)
        yield metric
