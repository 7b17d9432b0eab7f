"""Events for the counting tests, built from the catalogue's sample payloads."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from analytics.aggregate import OVERDUE, Aggregate, DeadlineOf, FiguresOf, no_deadline
from analytics.appeal_counting import appeal_figures, apply_appeal, deadline_of
from analytics.counting import LabelKey, State
from analytics.notification_counting import apply_notification, notification_figures
from analytics.projects_topic import apply_projects_topic, topic_deadlines, topic_figures
from minsheng.events import CATALOGUE, CloudEvent, EventData, ParsedEvent
from minsheng.topics import APPEALS, NOTIFICATIONS, PROJECTS
from testkit.unit.events import NOW, domain_event, sample
from testkit.unit.workload import topic_of

E = TypeVar("E", bound=EventData)
Apply = Callable[[State | None, ParsedEvent], State | None]


def payload(model: type[E], **changes: Any) -> E:
    """The catalogue's sample of `model`, with some fields changed."""
    return sample(model).model_copy(update=changes)


def parsed(data: EventData, sequence: int) -> ParsedEvent:
    """The payload as a consumer sees it: enveloped, serialised and parsed again."""
    event = domain_event(data, sequence=sequence, time=NOW)
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
        projects_topic = "aggregate" in state or "year" in state
        figures = topic_figures(state) if projects_topic else appeal_figures(state)
        total.update({labels: v for (name, labels), v in figures.items() if name == family})
    return total


def overdue(states: Iterable[State], now: datetime) -> Counter[LabelKey]:
    """`minsheng_appeals_overdue` of the appeals at `now`."""
    aggregate = Aggregate(appeal_figures, deadline_of)
    aggregate.rebuild(states, ())
    return Counter(
        {labels: v for (name, labels), v in aggregate.overdue(now).items() if name == OVERDUE}
    )


FOLDS: dict[str, tuple[Apply, FiguresOf, DeadlineOf]] = {
    APPEALS: (apply_appeal, appeal_figures, deadline_of),
    PROJECTS: (apply_projects_topic, topic_figures, topic_deadlines),
    NOTIFICATIONS: (apply_notification, notification_figures, no_deadline),
}


def consume(events: list[CloudEvent]) -> tuple[dict[str, list[State]], list[Aggregate]]:
    """What the agents do with their topics, without Kafka: apply by subject, and move
    the aggregates by each applied event's delta."""
    tables: dict[str, dict[str, State]] = {topic: {} for topic in FOLDS}
    running = {
        topic: Aggregate(figures, deadline) for topic, (_, figures, deadline) in FOLDS.items()
    }
    for event in events:
        topic = topic_of(event)
        table = tables[topic]
        held = table.get(event.subject)
        new = FOLDS[topic][0](held, CATALOGUE.parse(event.to_json()))
        if new is not None:
            table[event.subject] = new
            running[topic].replace(held, new)
    return {topic: list(t.values()) for topic, t in tables.items()}, list(running.values())
