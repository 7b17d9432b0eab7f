"""Projects ledger (书记项目台账): projects by level and district, milestones missed,
and the flags of the supervision: named (通报) and talked to (约谈)."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from minsheng.dashboards import promql as q
from minsheng.dashboards.panels import Look, Section, Shown, board, per_hour
from minsheng.dashboards.units import PROJECTS

ACTIVE = "minsheng_projects_active"
PAST_END = "minsheng_projects_past_planned_end"
MILESTONES = "minsheng_project_milestones_total"
FLAGGED = "minsheng_projects_flagged_total"
MISSED = 'status="missed"'
NOTICE = 'kind="notice"'
TALK = 'kind="formal_talk"'
REPORTS = "suffix: milestones"

SECTIONS = (
    Section(
        "The ledger",
        Look("figure", 4),
        (
            Shown(
                "Active",
                q.total(ACTIVE),
                PROJECTS,
                "Projects claimed and not completed, in the selected districts.",
            ),
            Shown(
                "Claimed (认领)",
                q.ledger("claimed"),
                PROJECTS,
                "Projects claimed, every year and level.",
            ),
            Shown(
                "Completed",
                q.ledger("completed"),
                PROJECTS,
                "Projects completed and not sent back by verification, every year and level.",
            ),
            Shown(
                "Milestones missed",
                q.total(MILESTONES, MISSED),
                REPORTS,
                "Milestone reports with status missed, since the platform started.",
            ),
            Shown(
                "Named (通报)",
                q.total(FLAGGED, NOTICE),
                PROJECTS,
                "Projects the supervision named in a notice.",
            ),
            Shown(
                "Talked to (约谈)",
                q.total(FLAGGED, TALK),
                PROJECTS,
                "Projects whose secretary was called to a formal talk.",
            ),
        ),
    ),
    Section(
        "By level and district",
        Look("ranking", 6),
        (
            Shown(
                "Active by level",
                q.total(ACTIVE, by="level"),
                PROJECTS,
                "Active projects by the claiming secretary's level.",
                "{{level}}",
            ),
            Shown(
                "Active by district",
                f"sort_desc({q.total(ACTIVE, by='district')})",
                PROJECTS,
                "Active projects per district, most first.",
                "{{district}}",
            ),
            Shown(
                "Claimed by district and level",
                q.ledger("claimed", "district, level"),
                PROJECTS,
                "Projects claimed per district and level, every year.",
                "{{district}} {{level}}",
            ),
            Shown(
                "Past their planned end, by district",
                f"sort_desc(sum by (district) ({q.selector(PAST_END)}))",
                PROJECTS,
                "Active projects whose planned end has passed (the city's calendar day), "
                "per district.",
                "{{district}}",
            ),
        ),
    ),
    Section(
        "Milestones and flags",
        Look("ranking", 8),
        (
            Shown(
                "Milestone reports by status",
                q.total(MILESTONES, by="status"),
                REPORTS,
                "Milestone reports since the platform started: reached, missed, at risk, "
                "rescheduled.",
                "{{status}}",
            ),
            Shown(
                "Milestones missed by district",
                f"sort_desc({q.total(MILESTONES, MISSED, by='district')})",
                REPORTS,
                "Missed milestone reports per district, most first.",
                "{{district}}",
            ),
            Shown(
                "Flags by district (通报/约谈)",
                q.total(FLAGGED, by="district, kind"),
                PROJECTS,
                "Notices (notice, 通报) and formal talks (formal_talk, 约谈) per district.",
                "{{district}} {{kind}}",
            ),
            per_hour(
                "Milestone reports per hour, by status",
                MILESTONES,
                REPORTS,
                "Milestone reports in each hour, by status.",
                "status",
                24,
            ),
        ),
    ),
)


def dashboard() -> Dashboard:
    return board(
        "minsheng-projects",
        "Minsheng: projects ledger",
        "Secretary projects (书记项目) by level and district, their milestones and the "
        "supervision's flags.",
        SECTIONS,
    )
