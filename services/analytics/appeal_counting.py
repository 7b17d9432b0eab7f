"""An appeal's analytics state, folded from its events, and the appeal gauges.

The state keeps only what the metrics and KPIs need: labels, whether the appeal is
open, its current deadline (for the overdue gauges), the unit it is dispatched to now,
the resolution that stands, whether that resolution was called back, and the tallies of
the counters. The per-unit monthly inputs of the traffic lights are a tally too
(`unit_month`: unit, the city's month of the event's own time, what happened), so they
are exact for the same reason. Units are kept as the events name them and labelled
(`unit_label`) only when figures are taken, so the states do not depend on the
reference data.
"""

from __future__ import annotations

from datetime import datetime

from analytics.aggregate import OVERDUE, UNIT_OVERDUE, Deadlines
from analytics.counting import (
    Figures,
    Folding,
    State,
    by_type,
    flag,
    record,
    tallied,
    unit_label,
)
from analytics.windows import RECEIVED_HOUR, hour_window, month_of
from minsheng import events as ev
from minsheng.events.appeals import AppealEvent

OPEN, RESOLVED, CLOSED = "open", "resolved", "closed"
# A unit's monthly inputs: figures (unit, month, measure), and the overdue ones by the
# month of their deadline (unit, month), kept in the deadline index.
UNIT_MONTH_TALLY = "unit_month"
UNIT_MONTH = "minsheng_unit_month"
UNIT_MONTH_OVERDUE = "minsheng_unit_month_overdue"
DISPATCHED, RETURNED, ON_TIME = "dispatched", "returned", "on_time"


def _received(new: State, data: ev.AppealReceived, at: datetime) -> None:
    record(new, "received", data.district, data.category, data.channel)
    new.update(status=OPEN, deadline=_epoch(data.deadline), resolution=None)
    new["received_at"] = data.received_at.timestamp()


def _dispatched(new: State, data: ev.AppealDispatched, at: datetime) -> None:
    new.update(status=OPEN, deadline=_epoch(data.deadline), unit=data.unit)
    record(new, UNIT_MONTH_TALLY, data.unit, month_of(at.timestamp()), DISPATCHED)


def _returned(new: State, data: ev.AppealReturned, at: datetime) -> None:
    record(new, "returned", data.district)
    record(new, "unit_returned", data.unit)
    record(new, UNIT_MONTH_TALLY, data.unit, month_of(at.timestamp()), RETURNED)
    new["unit"] = None  # nobody's until the next dispatch


def _extended(new: State, data: ev.AppealExtended, at: datetime) -> None:
    new["deadline"] = _epoch(data.new_deadline)


def _escalated(new: State, data: ev.AppealEscalated, at: datetime) -> None:
    record(new, "escalated", data.district, data.level)


def _resolved(new: State, data: ev.AppealResolved, at: datetime) -> None:
    record(new, "resolved", data.district, data.category, flag(data.on_time))
    record(new, "unit_resolved", data.unit, flag(data.on_time))
    month = month_of(data.resolved_at.timestamp())
    record(new, UNIT_MONTH_TALLY, data.unit, month, RESOLVED)
    if data.on_time:
        record(new, UNIT_MONTH_TALLY, data.unit, month, ON_TIME)
    new.update(status=RESOLVED, resolution=data.on_time, called_back=False)
    new["resolved_by"] = data.unit  # whose work a later rating judges


def _rated(new: State, data: ev.SatisfactionRecorded, at: datetime) -> None:
    record(new, "satisfaction", data.district, "appeal", data.rating)
    if new.get("resolution") is not None:
        new["called_back"] = True
    if new.get("resolved_by"):
        month = month_of(data.recorded_at.timestamp())
        record(new, UNIT_MONTH_TALLY, new["resolved_by"], month, data.rating)


def _reopened(new: State, data: ev.AppealReopened, at: datetime) -> None:
    # back to work; the next dispatch sets the new time limit
    new.update(status=OPEN, deadline=None, resolution=None, called_back=False, unit=None)


def _closed(new: State, data: ev.AppealClosed, at: datetime) -> None:
    new["status"] = CLOSED


# What each appeal event changes in its new state, beyond the labels (`Folding`); an
# acceptance changes nothing but the labels and the sequence
_evolve = by_type(
    (ev.AppealReceived, _received),
    (ev.AppealDispatched, _dispatched),
    (ev.AppealReturned, _returned),
    (ev.AppealExtended, _extended),
    (ev.AppealEscalated, _escalated),
    (ev.AppealResolved, _resolved),
    (ev.SatisfactionRecorded, _rated),
    (ev.AppealReopened, _reopened),
    (ev.AppealClosed, _closed),
)


apply_appeal = Folding("appeal", AppealEvent, "appeal_id", ("district", "category"), _evolve)


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
UNIT_TALLIES = {  # tallies whose first label is a unit
    "unit_resolved": "minsheng_unit_appeals_resolved",
    "unit_returned": "minsheng_unit_appeals_returned",
}


def appeal_figures(state: State) -> Figures:
    """What one appeal adds to the counters, the open gauge, the KPIs and the received
    windows; the overdue gauges depend on the clock and are kept apart (`deadline_of`)."""
    figures = tallied(state, TALLIES)
    for tally, metric in UNIT_TALLIES.items():
        for unit, *labels in state.get(tally, ()):
            figures[metric, (unit_label(unit), *labels)] += 1
    for unit, month, measure in state.get(UNIT_MONTH_TALLY, ()):
        figures[UNIT_MONTH, (unit_label(unit), month, measure)] += 1
    if not is_received(state):
        return figures
    district = (state["district"],)
    figures["received", district] += 1
    if is_open(state):
        figures["minsheng_appeals_open", (state["district"], state["category"])] += 1
        figures["open", district] += 1
        if state.get("unit"):
            figures["minsheng_unit_appeals_open", (unit_label(state["unit"]),)] += 1
    resolution = state.get("resolution")
    if resolution is not None:
        figures["resolved", district] += 1
        figures["minsheng_appeals_resolved_standing", (*district, flag(resolution))] += 1
        if resolution:
            figures["resolved_on_time", district] += 1
        if state.get("called_back"):
            figures["called_back", district] += 1
            figures["minsheng_appeals_called_back", district] += 1
    received_at = state.get("received_at")
    if received_at is not None:
        figures[RECEIVED_HOUR, (state["district"], hour_window(received_at))] += 1
    return figures


def figures_key(state: State) -> int | None:
    """What `appeal_figures` reads of a state's numbers: the hour it was received in (its
    window). The rest it reads are labels, flags and tallies, the state's shape
    (state_codec.py): states of one shape and one key have the same figures."""
    received_at = state.get("received_at")
    return None if received_at is None else int(received_at // 3600)


def deadline_of(state: State) -> Deadlines:
    """The overdue figures of an open appeal with a deadline (its district's, and its
    unit's when dispatched, also by the month of the deadline), with that deadline: it
    is overdue once the clock passes the deadline, with no event needed."""
    deadline = state.get("deadline")
    if deadline is None or not is_open(state):
        return ()
    district = ((OVERDUE, (state["district"],)), deadline)
    unit = state.get("unit")
    if not unit:
        return (district,)
    label = unit_label(unit)
    return (
        district,
        ((UNIT_OVERDUE, (label,)), deadline),
        ((UNIT_MONTH_OVERDUE, (label, month_of(deadline))), deadline),
    )


def _epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()
