"""Appeals operations, for the dispatch and supervision staff: what is open and late, by
district and by handling unit (承办单位), the units' traffic lights this month,
escalations, returns and today's intake."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from minsheng.dashboards import promql as q
from minsheng.dashboards.panels import Look, Section, Shown, board, intake_per_hour, per_hour
from minsheng.dashboards.units import APPEALS, RATIO, UNITS

ESCALATED = "minsheng_appeals_escalated_total"
# Per-unit figures carry no district: a unit's name says where it is.
UNIT_OPEN = "minsheng_unit_appeals_open"
UNIT_OVERDUE = "minsheng_unit_appeals_overdue"
UNIT_RESOLVED = "minsheng_unit_appeals_resolved_total"
UNIT_RETURNED = "minsheng_unit_appeals_returned_total"
# One worker exports the lights, computed from the city's figures: no sum over workers.
UNIT_LIGHT = "minsheng_unit_light"
LIGHT = {colour: f'light="{colour}"' for colour in ("green", "yellow", "red")}
GREEN, YELLOW, RED = LIGHT.values()
ON_TIME = 'on_time="true"'
BY_DISTRICT = "{{district}}"
BY_UNIT = "{{unit}}"


def by_unit(metric: str, *matchers: str) -> str:
    selector = f"{metric}{{{', '.join(matchers)}}}" if matchers else metric
    return f"sum by (unit) ({selector})"


def units_lit(light: str) -> str:
    """How many units have `light` this month (each unit's gauge is 1 for its light)."""
    return f"sum({UNIT_LIGHT}{{{LIGHT[light]}}})"


def unit_on_time_rate() -> str:
    """Resolutions by the deadline over all of a unit's resolutions; 0 for a unit with
    none on time (rather than no bar at all)."""
    resolved = by_unit(UNIT_RESOLVED)
    on_time = f"({by_unit(UNIT_RESOLVED, ON_TIME)} or 0 * {resolved})"
    return f"sort({q.ratio(on_time, resolved)})"


SECTIONS = (
    Section(
        "Now",
        Look("figure", 6),
        (
            Shown(
                "Open (在办)",
                q.total(q.OPEN),
                APPEALS,
                "Appeals received and neither resolved nor closed, in the selected districts.",
            ),
            Shown(
                "Overdue (超期)",
                q.appeals_input("overdue"),
                APPEALS,
                "Open appeals past their current deadline at this moment.",
            ),
            Shown(
                "Escalations (督办)",
                q.total(ESCALATED),
                APPEALS,
                "Escalations sent since the platform started, every level.",
            ),
            Shown(
                "Returns (退单)",
                q.appeals_input("returned"),
                APPEALS,
                "Appeals a unit returned as not its business, since the platform started.",
            ),
        ),
    ),
    Section(
        "By district",
        Look("ranking", 8),
        (
            Shown(
                "Open by district",
                f"sort_desc({q.total(q.OPEN, by='district')})",
                APPEALS,
                "Open appeals per district, now.",
                BY_DISTRICT,
            ),
            Shown(
                "Overdue by district",
                f"sort_desc({q.appeals_input('overdue', 'district')})",
                APPEALS,
                "Open appeals past their deadline per district, now.",
                BY_DISTRICT,
            ),
            Shown(
                "Escalations by level",
                q.total(ESCALATED, by="level"),
                APPEALS,
                "Escalations since the platform started: reminder (催办), overdue (超期) "
                "and criticism (通报批评).",
                "{{level}}",
            ),
            per_hour(
                "Escalations per hour, by district and level",
                ESCALATED,
                APPEALS,
                "Escalations sent in each hour.",
                "district, level",
                12,
            ),
            Shown(
                "Return rate by district (退单率)",
                q.RETURN.by_district(),
                RATIO,
                "Returns over appeals received, per district: high means the routing "
                "rules send work to the wrong units.",
                BY_DISTRICT,
                look=Look("ranking", 12),
            ),
        ),
    ),
    Section(
        "Today",
        Look("trend", 24),
        (
            intake_per_hour(
                "Today's intake per hour",
                "Appeals received in each hour of today (Asia/Shanghai), by district.",
                Look("trend", 24, bars=True, stacked=True, since="now/d", interval="1h"),
            ),
        ),
    ),
    Section(
        "Traffic lights this month (绿灯率); every district",
        Look("figure", 6),
        (
            Shown(
                "Green rate (绿灯率)",
                q.ratio(units_lit("green"), f"count({UNIT_LIGHT}{{{GREEN}}})"),
                RATIO,
                "Share of the handling units on green this month, from their on-time, "
                "satisfaction and return rates against the thresholds of lights.yaml.",
            ),
            Shown(
                "Green units",
                units_lit("green"),
                UNITS,
                "Units meeting every green threshold this month (a unit with nothing "
                "to judge is green).",
            ),
            Shown(
                "Yellow units",
                units_lit("yellow"),
                UNITS,
                "Units short of a green threshold but meeting every yellow one.",
            ),
            Shown(
                "Red units",
                units_lit("red"),
                UNITS,
                "Units short of a yellow threshold this month: on-time or satisfaction "
                "too low, or returns too many.",
            ),
            Shown(
                "Units by light",
                f"sort_desc({by_unit(UNIT_LIGHT, RED)} * 2 + {by_unit(UNIT_LIGHT, YELLOW)})",
                "none",
                "Each unit's light as a number, worst first: 2 red, 1 yellow, 0 green.",
                BY_UNIT,
                look=Look("ranking", 24, height=12),
            ),
        ),
    ),
    Section(
        "Handling units (承办单位), ranked; every district",
        Look("ranking", 6, height=12),
        (
            Shown(
                "Open by unit",
                f"sort_desc({by_unit(UNIT_OPEN)})",
                APPEALS,
                "Open appeals each lead unit holds, most first.",
                BY_UNIT,
            ),
            Shown(
                "Overdue by unit",
                f"sort_desc({by_unit(UNIT_OVERDUE)})",
                APPEALS,
                "Open appeals past their deadline each lead unit holds, most first.",
                BY_UNIT,
            ),
            Shown(
                "Units ranked by on-time resolutions",
                unit_on_time_rate(),
                RATIO,
                "Share of each unit's resolutions made by the deadline, worst first.",
                BY_UNIT,
            ),
            Shown(
                "Returns by unit",
                f"sort_desc({by_unit(UNIT_RETURNED)})",
                APPEALS,
                "Appeals each unit returned since the platform started, most first.",
                BY_UNIT,
            ),
        ),
    ),
)


def dashboard() -> Dashboard:
    return board(
        "minsheng-appeals",
        "Minsheng: appeals operations",
        "What is open and what is late, by district and handling unit; escalations "
        "(督办), returns (退单) and today's intake.",
        SECTIONS,
    )
