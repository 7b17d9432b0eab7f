"""Whatever Kafka redelivers, the metrics and KPIs equal the workload's ground truth,
and the aggregates kept by deltas equal those summed again from the final states."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.aggregate import Aggregate, no_deadline, share
from analytics.appeal_counting import appeal_figures, apply_appeal, deadline_of
from analytics.collector import FiguresCollector
from analytics.counting import State
from analytics.kpis import aggregates, report
from analytics.notification_counting import apply_notification, notification_figures
from analytics.project_counting import apply_project, planned_end_of, project_figures
from minsheng.events import CATALOGUE, CloudEvent
from minsheng.tests.samples import NOW
from minsheng.topics import APPEALS, NOTIFICATIONS, PROJECTS

from .workload import (
    Workload,
    expected_counters,
    metric_samples,
    topic_of,
    with_redeliveries,
    workload,
)

FOLDS = {
    APPEALS: (apply_appeal, appeal_figures, deadline_of),
    PROJECTS: (apply_project, project_figures, planned_end_of),
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


def observed(w: Workload, events: list[CloudEvent]) -> tuple[Any, dict[str, Any]]:
    states, running = consume(events)
    figures = share(aggregates(states[APPEALS], states[PROJECTS], states[NOTIFICATIONS]), w.now)
    assert share(running, w.now) == figures  # deltas never drift from a full re-sum
    counters = report(figures, w.now)
    del counters["as_of"]
    return metric_samples(FiguresCollector(lambda: figures).collect()), counters


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    appeals=st.integers(0, 25),
    projects=st.integers(0, 15),
    notifications=st.integers(0, 10),
    redelivery=st.floats(0, 0.5),
    rnd=st.randoms(use_true_random=False),
)
def test_redeliveries_and_replays_yield_the_ground_truth(
    seed: int,
    appeals: int,
    projects: int,
    notifications: int,
    redelivery: float,
    rnd: random.Random,
) -> None:
    w = workload(seed, appeals, projects, NOW, notifications)
    once = observed(w, w.events)
    assert once == (w.metrics, expected_counters(w))
    assert observed(w, with_redeliveries(rnd, w.events, redelivery)) == once


def test_a_whole_replay_after_the_history_changes_nothing() -> None:
    w = workload(1, 40, 20, NOW, 10)
    assert observed(w, w.events + w.events) == observed(w, w.events)
