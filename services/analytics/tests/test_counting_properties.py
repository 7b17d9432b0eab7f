"""Whatever Kafka redelivers, the metrics and KPIs equal the workload's ground truth."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.appeal_counting import apply_appeal
from analytics.collector import TableCollector
from analytics.counting import State
from analytics.kpis import city_counters
from analytics.project_counting import apply_project
from minsheng.events import CATALOGUE, CloudEvent
from minsheng.tests.samples import NOW

from .workload import (
    Workload,
    expected_counters,
    is_project,
    metric_samples,
    with_redeliveries,
    workload,
)


def consume(events: list[CloudEvent]) -> tuple[list[State], list[State]]:
    """What the two agents do with their topics, without Kafka: apply by subject."""
    tables: dict[bool, dict[str, State]] = {True: {}, False: {}}
    for event in events:
        project = is_project(event)
        table = tables[project]
        apply = apply_project if project else apply_appeal
        new = apply(table.get(event.subject), CATALOGUE.parse(event.to_json()))
        if new is not None:
            table[event.subject] = new
    return list(tables[False].values()), list(tables[True].values())


def observed(w: Workload, events: list[CloudEvent]) -> tuple[Any, dict[str, Any]]:
    appeals, projects = consume(events)
    collector = TableCollector(lambda: appeals, lambda: projects, clock=lambda: w.now)
    counters = city_counters(appeals, projects, w.now)
    del counters["as_of"]
    return metric_samples(collector.collect()), counters


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    appeals=st.integers(0, 25),
    projects=st.integers(0, 15),
    redelivery=st.floats(0, 0.5),
    rnd=st.randoms(use_true_random=False),
)
def test_redeliveries_and_replays_yield_the_ground_truth(
    seed: int, appeals: int, projects: int, redelivery: float, rnd: random.Random
) -> None:
    w = workload(seed, appeals, projects, NOW)
    once = observed(w, w.events)
    assert once == (w.metrics, expected_counters(w))
    assert observed(w, with_redeliveries(rnd, w.events, redelivery)) == once


def test_a_whole_replay_after_the_history_changes_nothing() -> None:
    w = workload(1, 40, 20, NOW)
    assert observed(w, w.events + w.events) == observed(w, w.events)
