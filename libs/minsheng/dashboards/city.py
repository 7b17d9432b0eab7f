"""City overview, for leaders: the published KPIs city-wide and by district, and the
secretary-project ledger by level and year."""

from __future__ import annotations

from dataclasses import dataclass

from grafana_foundation_sdk.builders.dashboard import Dashboard

from minsheng.dashboards import promql as q
from minsheng.dashboards.panels import Look, Section, Shown, board, intake_per_hour
from minsheng.dashboards.units import APPEALS, PROJECTS, RATIO

BY_DISTRICT = "{{district}}"
BY_LEVEL_YEAR = "{{year}} {{level}}"


@dataclass(frozen=True)
class Published:
    """A published figure: over the selected districts (a stat) and by district (bars)."""

    title: str
    description: str
    unit: str
    selected: str
    by_district: str


def rate(title: str, description: str, kpi: q.Kpi) -> Published:
    return Published(title, description, RATIO, kpi.selected(), kpi.by_district())


FIGURES = (
    Published(
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
OVERDUE = Published(
    "Overdue now (超期数)",
    "Open appeals past their deadline at this moment.",
    APPEALS,
    q.appeals_input("overdue"),
    q.appeals_input("overdue", "district"),
)
LEDGER = (
    Shown(
        "Claimed by level and year",
        q.ledger("claimed", "level, year"),
        PROJECTS,
        "Secretary projects claimed (认领), by the claiming secretary's level and the ledger year.",
        BY_LEVEL_YEAR,
    ),
    Shown(
        "Completed by level and year",
        q.ledger("completed", "level, year"),
        PROJECTS,
        "Secretary projects completed and not sent back, by level and ledger year.",
        BY_LEVEL_YEAR,
    ),
    Shown(
        "Completion rate by level and year",
        q.completion_rate("level, year"),
        RATIO,
        "Completed over claimed, by level and ledger year.",
        BY_LEVEL_YEAR,
    ),
)
SECTIONS = (
    Section(
        "Appeals: the published KPIs, in the selected districts",
        Look("figure", 4),
        tuple(Shown(f.title, f.selected, f.unit, f.description) for f in (*FIGURES, OVERDUE)),
    ),
    Section(
        "Appeals by district",
        Look("ranking", 8),
        (
            *(
                Shown(f"{f.title}, by district", f.by_district, f.unit, f.description, BY_DISTRICT)
                for f in FIGURES
            ),
            intake_per_hour(
                "Received per hour, by district",
                "Appeals received in each hour (by the time they reached the platform).",
                Look("trend", 8, stacked=True),
            ),
        ),
    ),
    Section(
        "Secretary projects: the ledger (台账)",
        Look("ranking", 6),
        (
            Shown(
                "Ledger completion rate (完成率)",
                q.completion_rate(),
                RATIO,
                "Projects completed (and not sent back) over projects claimed, every level and "
                "year.",
                look=Look("figure", 6),
            ),
            *LEDGER,
        ),
    ),
)


def dashboard() -> Dashboard:
    return board(
        "minsheng-city",
        "Minsheng: city overview",
        "Appeals (诉求) and secretary projects (书记项目) of the city, as leaders read them: "
        "the published KPIs city-wide and by district.",
        SECTIONS,
    )
