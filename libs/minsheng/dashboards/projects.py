"""Projects ledger (书记项目台账): projects by level and district, milestones missed,
and the flags of the supervision: named (通报) and talked to (约谈)."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from minsheng.dashboards import promql as q
from minsheng.dashboards.panels import PROJECTS, Query, board, figure, ranking, row, trend

ACTIVE = "minsheng_projects_active"
PAST_END = "minsheng_projects_past_planned_end"
MILESTONES = "minsheng_project_milestones_total"
FLAGGED = "minsheng_projects_flagged_total"
MISSED = 'status="missed"'
NOTICE = 'kind="notice"'
TALK = 'kind="formal_talk"'


def dashboard() -> Dashboard:
    return (
        board(
            "minsheng-projects",
            "Minsheng: projects ledger",
            "Secretary projects (书记项目) by level and district, their milestones and the "
            "supervision's flags.",
        )
        .with_row(row("The ledger"))
        .with_panel(
            figure(
                "Active",
                "Projects claimed and not completed, in the selected districts.",
                PROJECTS,
                Query(q.total(ACTIVE)),
            )
        )
        .with_panel(
            figure(
                "Claimed (认领)",
                "Projects claimed, every year and level.",
                PROJECTS,
                Query(q.ledger("claimed")),
            )
        )
        .with_panel(
            figure(
                "Completed",
                "Projects completed and not sent back by verification, every year and level.",
                PROJECTS,
                Query(q.ledger("completed")),
            )
        )
        .with_panel(
            figure(
                "Milestones missed",
                "Milestone reports with status missed, since the platform started.",
                "suffix: milestones",
                Query(q.total(MILESTONES, MISSED)),
            )
        )
        .with_panel(
            figure(
                "Named (通报)",
                "Projects the supervision named in a notice.",
                PROJECTS,
                Query(q.total(FLAGGED, NOTICE)),
            )
        )
        .with_panel(
            figure(
                "Talked to (约谈)",
                "Projects whose secretary was called to a formal talk.",
                PROJECTS,
                Query(q.total(FLAGGED, TALK)),
            )
        )
        .with_row(row("By level and district"))
        .with_panel(
            ranking(
                "Active by level",
                "Active projects by the claiming secretary's level.",
                PROJECTS,
                Query(q.total(ACTIVE, by="level"), "{{level}}"),
                width=6,
            )
        )
        .with_panel(
            ranking(
                "Active by district",
                "Active projects per district, most first.",
                PROJECTS,
                Query(f"sort_desc({q.total(ACTIVE, by='district')})", "{{district}}"),
                width=6,
            )
        )
        .with_panel(
            ranking(
                "Claimed by district and level",
                "Projects claimed per district and level, every year.",
                PROJECTS,
                Query(q.ledger("claimed", "district, level"), "{{district}} {{level}}"),
                width=6,
            )
        )
        .with_panel(
            ranking(
                "Past their planned end, by district",
                "Active projects whose planned end has passed (the city's calendar day), "
                "per district.",
                PROJECTS,
                Query(f"sort_desc(sum by (district) ({q.selector(PAST_END)}))", "{{district}}"),
                width=6,
            )
        )
        .with_row(row("Milestones and flags"))
        .with_panel(
            ranking(
                "Milestone reports by status",
                "Milestone reports since the platform started: reached, missed, at risk, "
                "rescheduled.",
                "suffix: milestones",
                Query(q.total(MILESTONES, by="status"), "{{status}}"),
                width=8,
            )
        )
        .with_panel(
            ranking(
                "Milestones missed by district",
                "Missed milestone reports per district, most first.",
                "suffix: milestones",
                Query(f"sort_desc({q.total(MILESTONES, MISSED, by='district')})", "{{district}}"),
                width=8,
            )
        )
        .with_panel(
            ranking(
                "Flags by district (通报/约谈)",
                "Notices (notice, 通报) and formal talks (formal_talk, 约谈) per district.",
                PROJECTS,
                Query(q.total(FLAGGED, by="district, kind"), "{{district}} {{kind}}"),
                width=8,
            )
        )
        .with_panel(
            trend(
                "Milestone reports per hour, by status",
                "Milestone reports in each hour, by status.",
                "suffix: milestones",
                Query(q.per_interval(MILESTONES, "1h", by="status"), "{{status}}"),
                width=24,
                bars=True,
                stacked=True,
            )
        )
    )
