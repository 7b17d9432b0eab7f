"""Appeals operations, for the dispatch and supervision staff: what is open and late, by
district and by handling unit (承办单位), escalations, returns and today's intake."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from minsheng.dashboards import promql as q
from minsheng.dashboards.panels import (
    APPEALS,
    RATIO,
    Query,
    board,
    figure,
    ranking,
    row,
    trend,
)

ESCALATED = "minsheng_appeals_escalated_total"
# Per-unit figures carry no district: a unit's name says where it is.
UNIT_OPEN = "minsheng_unit_appeals_open"
UNIT_OVERDUE = "minsheng_unit_appeals_overdue"
UNIT_RESOLVED = "minsheng_unit_appeals_resolved_total"
UNIT_RETURNED = "minsheng_unit_appeals_returned_total"
ON_TIME = 'on_time="true"'
BY_DISTRICT = "{{district}}"
BY_UNIT = "{{unit}}"


def by_unit(metric: str, *matchers: str) -> str:
    selector = f"{metric}{{{', '.join(matchers)}}}" if matchers else metric
    return f"sum by (unit) ({selector})"


def unit_on_time_rate() -> str:
    """Resolutions by the deadline over all of a unit's resolutions; 0 for a unit with
    none on time (rather than no bar at all)."""
    resolved = by_unit(UNIT_RESOLVED)
    on_time = f"({by_unit(UNIT_RESOLVED, ON_TIME)} or 0 * {resolved})"
    return f"sort({q.ratio(on_time, resolved)})"


def dashboard() -> Dashboard:
    return (
        board(
            "minsheng-appeals",
            "Minsheng: appeals operations",
            "What is open and what is late, by district and handling unit; escalations "
            "(督办), returns (退单) and today's intake.",
        )
        .with_row(row("Now"))
        .with_panel(
            figure(
                "Open (在办)",
                "Appeals received and neither resolved nor closed, in the selected districts.",
                APPEALS,
                Query(q.total(q.OPEN)),
                width=6,
            )
        )
        .with_panel(
            figure(
                "Overdue (超期)",
                "Open appeals past their current deadline at this moment.",
                APPEALS,
                Query(q.appeals_input("overdue")),
                width=6,
            )
        )
        .with_panel(
            figure(
                "Escalations (督办)",
                "Escalations sent since the platform started, every level.",
                APPEALS,
                Query(q.total(ESCALATED)),
                width=6,
            )
        )
        .with_panel(
            figure(
                "Returns (退单)",
                "Appeals a unit returned as not its business, since the platform started.",
                APPEALS,
                Query(q.appeals_input("returned")),
                width=6,
            )
        )
        .with_row(row("By district"))
        .with_panel(
            ranking(
                "Open by district",
                "Open appeals per district, now.",
                APPEALS,
                Query(f"sort_desc({q.total(q.OPEN, by='district')})", BY_DISTRICT),
                width=8,
            )
        )
        .with_panel(
            ranking(
                "Overdue by district",
                "Open appeals past their deadline per district, now.",
                APPEALS,
                Query(f"sort_desc({q.appeals_input('overdue', 'district')})", BY_DISTRICT),
                width=8,
            )
        )
        .with_panel(
            ranking(
                "Escalations by level",
                "Escalations since the platform started: reminder (催办), overdue (超期) "
                "and criticism (通报批评).",
                APPEALS,
                Query(q.total(ESCALATED, by="level"), "{{level}}"),
                width=8,
            )
        )
        .with_panel(
            trend(
                "Escalations per hour, by district and level",
                "Escalations sent in each hour.",
                APPEALS,
                Query(
                    q.per_interval(ESCALATED, "1h", by="district, level"),
                    "{{district}} {{level}}",
                ),
                bars=True,
                stacked=True,
            )
        )
        .with_panel(
            ranking(
                "Return rate by district (退单率)",
                "Returns over appeals received, per district: high means the routing "
                "rules send work to the wrong units.",
                RATIO,
                Query(q.RETURN.by_district(), BY_DISTRICT),
            )
        )
        .with_row(row("Today"))
        .with_panel(
            trend(
                "Today's intake per hour",
                "Appeals received in each hour of today (Asia/Shanghai), by district.",
                APPEALS,
                Query(q.per_interval(q.RECEIVED, "1h", by="district"), BY_DISTRICT),
                width=24,
                bars=True,
                stacked=True,
            )
            .time_from("now/d")
            .interval("1h")
        )
        .with_row(row("Handling units (承办单位), ranked; every district"))
        .with_panel(
            ranking(
                "Open by unit",
                "Open appeals each lead unit holds, most first.",
                APPEALS,
                Query(f"sort_desc({by_unit(UNIT_OPEN)})", BY_UNIT),
                width=6,
                height=12,
            )
        )
        .with_panel(
            ranking(
                "Overdue by unit",
                "Open appeals past their deadline each lead unit holds, most first.",
                APPEALS,
                Query(f"sort_desc({by_unit(UNIT_OVERDUE)})", BY_UNIT),
                width=6,
                height=12,
            )
        )
        .with_panel(
            ranking(
                "Units ranked by on-time resolutions",
                "Share of each unit's resolutions made by the deadline, worst first.",
                RATIO,
                Query(unit_on_time_rate(), BY_UNIT),
                width=6,
                height=12,
            )
        )
        .with_panel(
            ranking(
                "Returns by unit",
                "Appeals each unit returned since the platform started, most first.",
                APPEALS,
                Query(f"sort_desc({by_unit(UNIT_RETURNED)})", BY_UNIT),
                width=6,
                height=12,
            )
        )
    )
