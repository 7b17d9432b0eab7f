"""Pure counting rules shared by every table: sequence guard, tallies and figures.

Every counter and gauge is a function of the per-aggregate states, and each state
carries the sequence it has applied. A redelivered or replayed event is not newer, so it
changes nothing; a restart restores the states from the changelog, so nothing resets.
This is why we need no distributed transaction between the counters and the offsets.

Counters of occurrences (resolutions, returns, milestones, ...) are *tallies* kept inside
the aggregate's own state: one entry per event, holding the metric labels the event had
then. A counter's value is the sum of the tallies, so it never goes down, and it is
exact for the same reason the states are.

A state's *figures* are what it adds to every counter, gauge and KPI: the sum of the
figures of all states is the whole answer (see `aggregate.py`), and since it is a sum,
one changed state changes it by (new figures - old figures).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from minsheng.events import EventData, InvalidEvent, ParsedEvent, SatisfactionRecorded
from minsheng.reference import units

State = dict[str, Any]
LabelKey = tuple[str, ...]
Figure = tuple[str, LabelKey]  # a metric family name (no `_total`) or a KPI name, labels
Figures = Counter[Figure]
Evolve = Callable[[State, EventData, datetime], None]
AGGREGATE_KIND = "aggregate"  # a state's kind, on a topic of several (`Shared`)
OTHER_UNIT = "other"  # the `unit` label of a unit the reference data does not list


@dataclass(frozen=True)
class Folding:
    """How one kind of aggregate's events fold into its state: which events are its own
    (`admit`), the labels every one of them carries into the state, and `evolve`, what
    each event changes beyond that (on a new state, in place), given the event's time
    (the envelope's `time`, for payloads that carry no instant of their own). Called, it
    is the table's fold: the new state, or None when the event is not newer than what is
    held; it raises InvalidEvent("rejected") for an event that has no place on the topic."""

    kind: str
    model: type[EventData]
    key: str
    labels: tuple[str, ...]
    evolve: Evolve

    def __call__(self, state: State | None, event: ParsedEvent) -> State | None:
        new = admit(state, event, self.kind, self.model, self.key)
        if new is None:
            return None
        data = event.data
        if self.model in type(data).__mro__:  # `isinstance`, cheaper (`by_type`)
            fields = data.__dict__
            for label in self.labels:
                new[label] = fields[label]
        self.evolve(new, data, event.envelope.time)
        return new


def admit(
    state: State | None, event: ParsedEvent, kind: str, model: type[EventData], key: str
) -> State | None:
    """`advance`, for an event of this aggregate only: a `model` event whose `key` field is
    the subject, or a satisfaction rating of this `kind` of subject; anything else on the
    topic is rejected (dead-lettered), so it can never corrupt another aggregate's state."""
    data, bases = event.data, type(event.data).__mro__  # `isinstance`, cheaper (`by_type`)
    fields = data.__dict__  # a model's fields, as getattr reads them
    if SatisfactionRecorded in bases:
        owner = fields["subject_id"] if fields["subject_type"] == kind else None
    else:
        owner = fields[key] if model in bases else None
    if owner != event.envelope.subject:
        raise reject(event, f"not an event of this {kind}")
    return advance(state, event)


def by_type(*steps: tuple[type[EventData], Callable[[State, Any, datetime], None]]) -> Evolve:
    """An `evolve` that runs the step of the event's type, if it has one: what a `match`
    on the types does, without asking each type in turn. pydantic's model classes have a
    metaclass of their own, so `isinstance` (and a class pattern) asks it each time the
    type is not the very class; the rules here look the model up in the event type's
    bases instead, or, the catalogue's event types being final, take the type itself."""
    table = dict(steps)

    def evolve(new: State, data: EventData, at: datetime) -> None:
        step = table.get(type(data))
        if step is not None:
            step(new, data, at)

    return evolve


def advance(state: State | None, event: ParsedEvent) -> State | None:
    """A copy of `state` at the event's sequence, or None when the event is not newer."""
    sequence = event.envelope.sequence
    if sequence is None:  # parsing requires one on a domain topic
        raise InvalidEvent("bad_envelope", "sequence: required on a domain topic")
    if state is not None and sequence <= state["sequence"]:
        return None
    new: State = dict(state or {})
    new["sequence"] = sequence
    return new


def record(state: State, tally: str, *labels: object) -> None:
    """Adds one occurrence to a tally of a *new* state (the old one is left untouched)."""
    state[tally] = [*state.get(tally, ()), list(map(str, labels))]


def tallied(state: State, metrics: Mapping[str, str]) -> Figures:
    """The counter figures of a state: one per occurrence in each tally named in
    `metrics` (tally -> metric family), with the labels the event had."""
    figures: Figures = Counter()
    for name, metric in metrics.items():
        for labels in state.get(name, ()):
            figures[metric, tuple(labels)] += 1
    return figures


def flag(value: bool) -> str:
    """The `on_time` label value."""
    return "true" if value else "false"


def unit_label(unit: str) -> str:
    """The `unit` label: a handling unit of the reference data (units.yaml), else `other`,
    so a misspelt or outside unit in an event cannot grow the series without bound."""
    return unit if unit in units() else OTHER_UNIT


def reject(event: ParsedEvent, why: str) -> InvalidEvent:
    """An event that parses but does not belong on the topic it came from."""
    return InvalidEvent("rejected", f"{event.envelope.type} {event.envelope.subject}: {why}")


@dataclass(frozen=True)
class Shared:
    """Several kinds of aggregate on one topic, folded into one table: each event goes to
    the `Folding` of its kind (by its model, or a rating's `subject_type`), and a state
    remembers its kind, so its figures are its kind's (`figures`). A state without one
    is of the first kind (states written before the topic had others). An event whose
    subject holds a state of another kind is rejected."""

    foldings: tuple[Folding, ...]
    figures: Mapping[str, Callable[[State], Figures]]

    def kind_of(self, state: State) -> str:
        return str(state.get(AGGREGATE_KIND, self.foldings[0].kind))

    def fold(self, state: State | None, event: ParsedEvent) -> State | None:
        data, bases = event.data, type(event.data).__mro__  # `isinstance`, cheaper
        rating = SatisfactionRecorded in bases
        for folding in self.foldings:
            if rating:
                mine = data.__dict__["subject_type"] == folding.kind
            else:
                mine = folding.model in bases
            if mine:
                break
        else:
            raise reject(event, "not an event of any aggregate of this topic")
        if state is not None and self.kind_of(state) != folding.kind:
            raise reject(event, f"its subject is a {self.kind_of(state)}, not a {folding.kind}")
        new = folding(state, event)
        if new is not None:
            new[AGGREGATE_KIND] = folding.kind
        return new

    def figures_of(self, state: State) -> Figures:
        return self.figures[self.kind_of(state)](state)
