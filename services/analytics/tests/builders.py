"""Events for the counting tests, built from the catalogue's sample payloads."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from analytics.aggregate import OVERDUE, Aggregate
from analytics.appeal_counting import appeal_figures, deadline_of
from analytics.counting import LabelKey, State
from analytics.project_counting import project_figures
from minsheng.events import CATALOGUE, EventData, ParsedEvent, new_event
from minsheng.tests.samples import NOW, SOURCE, sample, subject_of

E = TypeVar("E", bound=EventData)
Apply = Callable[[State | None, ParsedEvent], State | None]


def payload(model: type[E], **changes: Any) -> E:
    """The catalogue's sample of `model`, with some fields changed."""
    return sample(model).model_copy(update=changes)


def parsed(data: EventData, sequence: int) -> ParsedEvent:
    """The payload as a consumer sees it: enveloped, serialised and parsed again."""
    event = new_event(data, subject=subject_of(data), sequence=sequence, source=SOURCE, time=NOW)
    return CATALOGUE.parse(event.to_json())


def fold(apply: Apply, payloads: Iterable[EventData], state: State | None = None) -> State:
    """Applies the payloads in order, each with the next sequence after `state`'s."""
    for data in payloads:
        new = apply(state, parsed(data, (state or {}).get("sequence", 0) + 1))
        assert new is not None
        state = new
    assert state is not None
    return state


def samples(states: Iterable[State], family: str) -> Counter[LabelKey]:
    """The samples of one metric family (no `_total`) that the states add up to."""
    total: Counter[LabelKey] = Counter()
    for state in states:
        figures = project_figures(state) if "year" in state else appeal_figures(state)
        total.update({labels: v for (name, labels), v in figures.items() if name == family})
    return total


def overdue(states: Iterable[State], now: datetime) -> Counter[LabelKey]:
    """`minsheng_appeals_overdue` of the appeals at `now`."""
    aggregate = Aggregate(appeal_figures, deadline_of)
    aggregate.rebuild(states, ())
    return Counter(
        {labels: v for (name, labels), v in aggregate.overdue(now).items() if name == OVERDUE}
    )
