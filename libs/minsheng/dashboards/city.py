"""City overview, for leaders: the published KPIs city-wide and by district, and the
secretary-project ledger by level and year."""

from __future__ import annotations

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
class Shown:
    """A published figure: over the selected districts (a stat) and by district (bars)."""

    title: str
    description: str
    unit: str
    selected: str
    by_district: str


def rate(title: str, description: str, kpi: q.Kpi) -> Shown:
    return Shown(title, description, RATIO, kpi.selected(), kpi.by_district())


FIGURES = (
    Shown(
        "Received (受理量)",
        "Appeals received since the platform started.",
        APPEALS,
        q.appeals_input("received"),
        q.appeals_input("received", "district"),
    ),
    rate(
        "Resolution rate (办结率)",
        "Appeals whose resolution stands (not reopened since) over appeals received.",
        q.RESOLUTION,
    ),
    rate(
        "On-time rate (按时办结率)",
        "Appeals resolved by their deadline over those resolved plus those open and past "
        "their deadline: late work still open counts against the rate.",
        q.ON_TIME,
    ),
    rate(
        "Satisfaction rate (满意率)",
        "Call-back answers 'satisfied' or 'basically satisfied' over all answers.",
        q.SATISFACTION,
    ),
    rate(
        "Call-back rate (回访率)",
        "Resolved appeals called back since their resolution over resolved appeals.",
        q.CALLBACK,
    ),
)
OVERDUE = Shown(
    "Overdue now (超期数)",
    "Open appeals past their deadline at this moment.",
    APPEALS,
    q.appeals_input("overdue"),
    q.appeals_input("overdue", "district"),
)
LEDGER = (
    (
        "Claimed by level and year",
        "Secretary projects claimed (认领), by the claiming secretary's level and the ledger year.",
        PROJECTS,
        q.ledger("claimed", "level, year"),
    ),
    (
        "Completed by level and year",
        "Secretary projects completed and not sent back, by level and ledger year.",
        PROJECTS,
        q.ledger("completed", "level, year"),
    ),
    (
        "Completion rate by level and year",
        "Completed over claimed, by level and ledger year.",
        RATIO,
        q.completion_rate("level, year"),
    ),
)


def dashboard() -> Dashboard:
    built = board(
        "minsheng-city",
        "Minsheng: city overview",
        "Appeals (诉求) and secretary projects (书记项目) of the city, as leaders read them: "
        "the published KPIs city-wide and by district.",
    ).with_row(row("Appeals: the published KPIs, in the selected districts"))
    for shown in (*FIGURES, OVERDUE):
        built = built.with_panel(
            figure(shown.title, shown.description, shown.unit, Query(shown.selected))
        )
    built = built.with_row(row("Appeals by district"))
    for shown in FIGURES:
        query = Query(shown.by_district, BY_DISTRICT)
        built = built.with_panel(
            ranking(f"{shown.title}, by district", shown.description, shown.unit, query, width=8)
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
            "Projects completed (and not sent back) over projects claimed, every level and year.",
            RATIO,
            Query(q.completion_rate()),
            width=6,
        )
    )
    for title, description, unit, expr in LEDGER:
        query = Query(expr, BY_LEVEL_YEAR)
        built = built.with_panel(ranking(title, description, unit, query, width=6))
    return built
