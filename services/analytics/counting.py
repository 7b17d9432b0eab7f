"""Pure counting rules shared by appeals and projects: sequence guard and tallies.

Every counter and gauge is a function of the per-aggregate states, and each state
carries the sequence it has applied. A redelivered or replayed event is not newer, so it
changes nothing; a restart restores the states from the changelog, so nothing resets.
This is why we need no distributed transaction between the counters and the offsets.

Counters of occurrences (resolutions, returns, milestones, ...) are *tallies* kept inside
the aggregate's own state: one entry per event, holding the metric labels the event had
then. A counter's value is the sum of the tallies, so it never goes down, and it is
exact for the same reason the states are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from minsheng.events import EventData, InvalidEvent, ParsedEvent, SatisfactionRecorded

State = dict[str, Any]
LabelKey = tuple[str, ...]


def admit(
    state: State | None, event: ParsedEvent, kind: str, model: type[EventData], key: str
) -> State | None:
    """`advance`, for an event of this aggregate only: a `model` event whose `key` field is
    the subject, or a satisfaction rating of this `kind` of subject; anything else on the
    topic is rejected (dead-lettered), so it can never corrupt another aggregate's state."""
    data = event.data
    if isinstance(data, SatisfactionRecorded):
        owner = data.subject_id if data.subject_type == kind else None
    else:
        owner = getattr(data, key) if isinstance(data, model) else None
    if owner != event.envelope.subject:
        raise reject(event, f"not an event of this {kind}")
    return advance(state, event)


def advance(state: State | None, event: ParsedEvent) -> State | None:
    """A copy of `state` at the event's sequence, or None when the event is not newer."""
    sequence = event.envelope.sequence
    if state is not None and sequence <= state["sequence"]:
        return None
    new: State = dict(state or {})
    new["sequence"] = sequence
    return new


def record(state: State, tally: str, *labels: object) -> None:
    """Adds one occurrence to a tally of a *new* state (the old one is left untouched)."""
    state[tally] = [*state.get(tally, ()), [str(label) for label in labels]]


def tally(states: Iterable[State], name: str) -> Counter[LabelKey]:
    """A counter's samples: the occurrences of one tally over all states, by labels."""
    counts: Counter[LabelKey] = Counter()
    for state in states:
        for labels in state.get(name, ()):
            counts[tuple(labels)] += 1
    return counts


def flag(value: bool) -> str:
    """The `on_time` label value."""
    return "true" if value else "false"


def reject(event: ParsedEvent, why: str) -> InvalidEvent:
    """An event that parses but does not belong on the topic it came from."""
    return InvalidEvent("rejected", f"{event.envelope.type} {event.envelope.subject}: {why}")
