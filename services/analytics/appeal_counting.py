"""An appeal's analytics state, folded from its events, and the appeal gauges.

The state keeps only what the metrics and KPIs need: labels, whether the appeal is
open, its current deadline (for the overdue gauge), the resolution that stands, whether
that resolution was called back, and the tallies of the counters.
"""

from __future__ import annotations

from datetime import datetime

from analytics.counting import Figures, State, admit, flag, record, tallied
from analytics.windows import RECEIVED_HOUR, hour_window
from minsheng.events import (
    AppealClosed,
    AppealDispatched,
    AppealEscalated,
    AppealExtended,
    AppealReceived,
    AppealReopened,
    AppealResolved,
    AppealReturned,
    ParsedEvent,
    SatisfactionRecorded,
)
from minsheng.events.appeals import AppealEvent

OPEN, RESOLVED, CLOSED = "open", "resolved", "closed"


def apply_appeal(state: State | None, event: ParsedEvent) -> State | None:
    """The appeal's new state, or None when the event is not newer than what is held.

    Raises InvalidEvent("rejected") for an event that has no place on the appeals topic.
    """
    new = admit(state, event, "appeal", AppealEvent, "appeal_id")
    if new is None:
        return None
    data = event.data
    if isinstance(data, AppealEvent):
        new.update(district=data.district, category=data.category)
    match data:
        case AppealReceived():
            record(new, "received", data.district, data.category, data.channel)
            new.update(status=OPEN, deadline=_epoch(data.deadline), resolution=None)
            new["received_at"] = data.received_at.timestamp()
        case AppealDispatched():
            new.update(status=OPEN, deadline=_epoch(data.deadline))
        case AppealReturned():
            record(new, "returned", data.district)
        case AppealExtended():
            new["deadline"] = _epoch(data.new_deadline)
        case AppealEscalated():
            record(new, "escalated", data.district, data.level)
        case AppealResolved():
            record(new, "resolved", data.district, data.category, flag(data.on_time))
            new.update(status=RESOLVED, resolution=data.on_time, called_back=False)
        case SatisfactionRecorded():
            record(new, "satisfaction", data.district, "appeal", data.rating)
            if new.get("resolution") is not None:
                new["called_back"] = True
        case AppealReopened():
            # back to work; the next dispatch sets the new time limit
            new.update(status=OPEN, deadline=None, resolution=None, called_back=False)
        case AppealClosed():
            new["status"] = CLOSED
    return new


def is_received(state: State) -> bool:
    return "received" in state


def is_open(state: State) -> bool:
    return is_received(state) and state.get("status") == OPEN


def is_overdue(state: State, now: datetime) -> bool:
    """Open and past its current deadline at `now`; no deadline yet is not overdue."""
    deadline = state.get("deadline")
    return is_open(state) and deadline is not None and deadline < now.timestamp()


TALLIES = {
    "received": "minsheng_appeals_received",
    "resolved": "minsheng_appeals_resolved",
    "returned": "minsheng_appeals_returned",
    "escalated": "minsheng_appeals_escalated",
    "satisfaction": "minsheng_satisfaction_responses",
}


def appeal_figures(state: State) -> Figures:
    """What one appeal adds to the counters, the open gauge, the KPIs and the received
    windows; the overdue gauge depends on the clock and is kept apart (`deadline_of`)."""
    figures = tallied(state, TALLIES)
    if not is_received(state):
        return figures
    district = (state["district"],)
    figures["received", district] += 1
    if is_open(state):
        figures["minsheng_appeals_open", (state["district"], state["category"])] += 1
        figures["open", district] += 1
    resolution = state.get("resolution")
    if resolution is not None:
        figures["resolved", district] += 1
        if resolution:
            figures["resolved_on_time", district] += 1
        if state.get("called_back"):
            figures["called_back", district] += 1
    received_at = state.get("received_at")
    if received_at is not None:
        figures[RECEIVED_HOUR, (state["district"], hour_window(received_at))] += 1
    return figures


def deadline_of(state: State) -> tuple[str, float] | None:
    """(district, deadline) of an open appeal with a deadline: it is overdue once the
    clock passes the deadline, with no event needed."""
    deadline = state.get("deadline")
    if deadline is None or not is_open(state):
        return None
    return state["district"], deadline


def _epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()
