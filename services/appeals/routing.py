"""归口办理 as a pure function: which unit an appeal goes to, by category and place.

The most specific place wins (grid > community > street > district > the whole city);
for the same place, a rule naming the category beats `*`; nothing matching means the
table's default unit. `problems` checks a table against the other reference data, so a typo in
a YAML file fails a test instead of misrouting appeals.
"""

from __future__ import annotations

from appeals.lifecycle import AppealState
from minsheng.reference import Category, HandlingUnit, Places, RoutingRule, RoutingTable

ANY = "*"


def _place_of(
    district: str, street: str | None, community: str | None, grid: str | None
) -> tuple[str, ...]:
    """district[, street[, community[, grid]]]: each part counts only under the one above."""
    parts = [district]
    for part in (street, community, grid):
        if not part:
            break
        parts.append(part)
    return tuple(parts)


def _matches(rule: RoutingRule, category: str, place: tuple[str, ...]) -> bool:
    return rule.category in (ANY, category) and place[: len(rule.place)] == rule.place


def route(
    table: RoutingTable,
    *,
    category: str,
    district: str,
    street: str | None = None,
    community: str | None = None,
    grid: str | None = None,
) -> str:
    """The lead unit for an appeal of `category` at the place."""
    place = _place_of(district, street, community, grid)
    candidates = [rule for rule in table.rules if _matches(rule, category, place)]
    if not candidates:
        return table.default
    best = max(candidates, key=lambda rule: (len(rule.place), rule.category != ANY))
    return best.unit


def route_appeal(table: RoutingTable, appeal: AppealState) -> str:
    """The lead unit for the appeal, by its category and place."""
    return route(
        table,
        category=appeal.category,
        district=appeal.district,
        street=appeal.street,
        community=appeal.community,
        grid=appeal.grid,
    )


def problems(
    table: RoutingTable,
    units: dict[str, HandlingUnit],
    places: Places,
    categories: dict[str, Category],
) -> list[str]:
    """What is wrong with the table: unknown units, places or categories, ambiguous rules."""
    found = [] if table.default in units else [f"default: unknown unit {table.default}"]
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for rule in table.rules:
        where = "/".join(rule.place) or ANY
        if rule.unit not in units:
            found.append(f"{rule.category} @ {where}: unknown unit {rule.unit}")
        if rule.category != ANY and rule.category not in categories:
            found.append(f"{rule.category} @ {where}: unknown category")
        if rule.place and not places.knows(*rule.place):
            found.append(f"{rule.category} @ {where}: unknown place")
        if (rule.category, rule.place) in seen:
            found.append(f"{rule.category} @ {where}: two rules, no winner")
        seen.add((rule.category, rule.place))
    return found
