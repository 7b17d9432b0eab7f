"""An appeal's analytics state, folded from its events, and the appeal gauges.

The state keeps only what the metrics and KPIs need: labels, whether the appeal is
open, its current deadline (for the overdue gauge), the resolution that stands, whether
that resolution was called back, and the tallies of the counters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from analytics.counting import LabelKey, State, admit, flag, record
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


def open_by_labels(states: Iterable[State]) -> Counter[LabelKey]:
    """`minsheng_appeals_open{district,category}`."""
    return Counter((s["district"], s["category"]) for s in states if is_open(s))


def overdue_by_district(states: Iterable[State], now: datetime) -> Counter[LabelKey]:
    """`minsheng_appeals_overdue{district}` at `now`: moves as deadlines pass."""
    return Counter((s["district"],) for s in states if is_overdue(s, now))


def _epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()
