"""Counting rules: sequence-idempotent apply and the counters derived from states."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from analytics.counting import apply_appeal, city_counters, received_by_labels
from minsheng.events import CATALOGUE, ParsedEvent
from minsheng.testing.helpers import sample_appeal_event


def parsed(subject: str, sequence: int, district: str = "洮北区") -> ParsedEvent:
    return CATALOGUE.parse(sample_appeal_event(subject, sequence, district).to_json())


def test_an_event_not_newer_than_the_state_changes_nothing() -> None:
    state = apply_appeal(None, parsed("A1", 2))
    assert state is not None
    assert state["sequence"] == 2
    assert apply_appeal(state, parsed("A1", 2)) is None
    assert apply_appeal(state, parsed("A1", 1)) is None
    newer = apply_appeal(state, parsed("A1", 3))
    assert newer is not None
    assert newer["sequence"] == 3


@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(1, 4)), max_size=40))
def test_any_redelivery_order_counts_each_appeal_once(deliveries: list[tuple[str, int]]) -> None:
    states: dict[str, dict[str, object]] = {}
    for subject, sequence in deliveries:
        new = apply_appeal(states.get(subject), parsed(subject, sequence))
        if new is not None:
            states[subject] = new
    assert sum(received_by_labels(states.values()).values()) == len({s for s, _ in deliveries})
    for subject, state in states.items():
        assert state["sequence"] == max(q for s, q in deliveries if s == subject)


def test_counters_by_labels_and_by_district() -> None:
    states = [
        apply_appeal(None, parsed(f"A{i}", 1, district))
        for i, district in enumerate(["洮北区", "洮北区", "大安市"])
    ]
    present = [s for s in states if s is not None]
    assert received_by_labels(present) == Counter(
        {("洮北区", "complaint", "hotline"): 2, ("大安市", "complaint", "hotline"): 1}
    )
    assert city_counters(present) == {
        "city": {"received": 3},
        "districts": {"大安市": {"received": 1}, "洮北区": {"received": 2}},
    }
