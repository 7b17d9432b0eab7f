"""City overview, for leaders: the published KPIs city-wide and by district, and the
secretary-project ledger by level and year."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from grafana_foundation_sdk.builders.dashboard import Dashboard

from minsheng.dashboards import promql as q
from minsheng.dashboards.panels import (
    APPEALS,
    PROJECTS,
    RATIO,
    Query,
    board,
    figure,
    ranking,
    row,
    trend,
)

BY_DISTRICT = "{{district}}"
BY_LEVEL_YEAR = "{{year}} {{level}}"


@dataclass(frozen=True)
class Kpi:
    """A published figure: shown city-wide (a stat) and by district (a ranking)."""

    title: str
    description: str
    unit: str
    expr: Callable[[str], str]  # grouping ("" or "district") -> PromQL


KPIS = (
    Kpi(
        "Received (受理量)",
        "Appeals received since the platform started.",
        APPEALS,
        lambda by: q.total(q.RECEIVED, by=by),
    ),
    Kpi(
        "Resolution rate (办结率)",
        "Resolutions over appeals received (a reopened appeal resolved again counts "
        "twice, as in /v1/counters).",
        RATIO,
        q.resolution_rate,
    ),
    Kpi(
        "On-time rate (按时办结率)",
        "Appeals resolved by their deadline over those resolved plus those open and past "
        "their deadline: late work still open counts against the rate.",
        RATIO,
        q.on_time_rate,
    ),
    Kpi(
        "Satisfaction rate (满意率)",
        "Call-back answers 'satisfied' or 'basically satisfied' over all answers.",
        RATIO,
        q.satisfaction_rate,
    ),
    Kpi(
        "Call-back rate (回访率)",
        "Call-back answers recorded over appeals resolved.",
        RATIO,
        q.callback_rate,
    ),
)
OVERDUE = Kpi(
    "Overdue now (超期数)",
    "Open appeals past their deadline at this moment.",
    APPEALS,
    lambda by: q.total(q.OVERDUE, by=by),
)
LEDGER = (
    Kpi(
        "Claimed by level and year",
        "Secretary projects claimed (认领), by the claiming secretary's level and the ledger year.",
        PROJECTS,
        lambda by: q.total(q.CLAIMED, by=by),
    ),
    Kpi(
        "Completed by level and year",
        "Secretary projects declared completed, by level and ledger year.",
        PROJECTS,
        lambda by: q.total(q.COMPLETED, by=by),
    ),
    Kpi(
        "Completion rate by level and year",
        "Completed over claimed, by level and ledger year.",
        RATIO,
        q.completion_rate,
    ),
)


def dashboard() -> Dashboard:
    built = board(
        "minsheng-city",
        "Minsheng: city overview",
        "Appeals (诉求) and secretary projects (书记项目) of the city, as leaders read them: "
        "the published KPIs city-wide and by district.",
    ).with_row(row("Appeals: the published KPIs, in the selected districts"))
    for kpi in (*KPIS, OVERDUE):
        built = built.with_panel(figure(kpi.title, kpi.description, kpi.unit, Query(kpi.expr(""))))
    built = built.with_row(row("Appeals by district"))
    for kpi in KPIS:
        query = Query(kpi.expr("district"), BY_DISTRICT)
        built = built.with_panel(
            ranking(f"{kpi.title}, by district", kpi.description, kpi.unit, query, width=8)
        )
    built = built.with_panel(
        trend(
            "Received per hour, by district",
            "Appeals received in each hour (by the time they reached the platform).",
            APPEALS,
            Query(q.per_interval(q.RECEIVED, "1h", by="district"), BY_DISTRICT),
            width=8,
            stacked=True,
        )
    )
    built = built.with_row(row("Secretary projects: the ledger (台账)")).with_panel(
        figure(
            "Ledger completion rate (完成率)",
            "Projects completed over projects claimed, every level and year.",
            RATIO,
            Query(q.completion_rate()),
            width=6,
        )
    )
    for kpi in LEDGER:
        query = Query(kpi.expr("level, year"), BY_LEVEL_YEAR)
        built = built.with_panel(ranking(kpi.title, kpi.description, kpi.unit, query, width=6))
    return built
