"""The analytics state of the four lists' items and the community work-day pairings, both
aggregates of the projects topic, and their figures.

A pairing's visits are kept in its state, each with what it delivered (cadres, services
by kind, appeals solved on the spot, goods value) and the labels it had (district,
month); the work-day counters are their sums, so each is exact for the reason every
tally is (`counting.py`). A list item is a gauge by its standing status.
"""

from __future__ import annotations

from datetime import datetime

from analytics.counting import Figures, Folding, State, record, tallied
from minsheng import events as ev
from minsheng.events import EventData
from minsheng.events.lists import ListItemEvent, WorkDayEvent

VISITS = "minsheng_workday_visits"
SERVICES = "minsheng_workday_services"
APPEALS_SOLVED = "minsheng_workday_appeals_solved"
GOODS = "minsheng_workday_goods_value_yuan"
MISSED = "minsheng_workday_visits_missed"
LIST_ITEMS = "minsheng_list_items"
SATISFACTION = "minsheng_satisfaction_responses"
ITEM_STATUSES = ("posted", "matched", "completed", "withdrawn")  # as the events leave it


def _evolve_pairing(new: State, data: EventData, at: datetime) -> None:
    match data:
        case ev.WorkDayVisitRecorded():
            visit = {
                "district": data.district,
                "month": data.month,
                "services": dict(data.services),
                "appeals_solved": data.appeals_solved,
                "goods_value_yuan": data.goods_value_yuan,
            }
            new["visits"] = [*new.get("visits", ()), visit]
        case ev.WorkDayVisitMissed():
            record(new, "missed", data.district, data.month)


def _evolve_item(new: State, data: EventData, at: datetime) -> None:
    match data:
        case ev.ListItemPosted():
            new["status"] = "posted"
        case ev.ListItemMatched():
            new["status"] = "matched"
        case ev.ListItemCompleted():
            new["status"] = "completed"
        case ev.ListItemWithdrawn():
            new["status"] = "withdrawn"
        case ev.SatisfactionRecorded():
            record(new, "satisfaction", data.district, "list_item", data.rating)


apply_pairing = Folding(
    "pairing", WorkDayEvent, "pairing_id", ("district", "unit"), _evolve_pairing
)
apply_item = Folding(
    "list_item", ListItemEvent, "list_item_id", ("district", "year", "kind"), _evolve_item
)


def pairing_figures(state: State) -> Figures:
    """What one pairing adds to the work-day counters, by district and month."""
    figures = tallied(state, {"missed": MISSED})
    for visit in state.get("visits", ()):
        at = (visit["district"], visit["month"])
        figures[VISITS, at] += 1
        figures[APPEALS_SOLVED, at] += visit["appeals_solved"]
        figures[GOODS, at] += visit["goods_value_yuan"]
        for kind, n in visit["services"].items():
            figures[SERVICES, (*at, kind)] += n
    return +figures  # no zero sums: a visit without goods adds no goods sample


def item_figures(state: State) -> Figures:
    """What one list item adds: the gauge of items by standing status, and its ratings."""
    figures = tallied(state, {"satisfaction": SATISFACTION})
    if "status" in state:
        labels = (state["district"], str(state["year"]), state["kind"], state["status"])
        figures[LIST_ITEMS, labels] += 1
    return figures
