"""The compact states and the store by partition (pure: no broker; the bulk read against
the real broker is exercised by tests/test_analytics_exactness.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import aggregate, state_codec
from analytics.aggregate import Aggregate
from analytics.appeal_counting import appeal_figures, apply_appeal, deadline_of, figures_key
from analytics.counting import State
from analytics.parsing import parse
from analytics.state_codec import Codec
from analytics.state_store import States, apply_records
from minsheng.topics import APPEALS
from testkit.unit.workload import topic_of, workload


def appeal_states(appeals: int = 200) -> list[State]:
    """States as the fold leaves them, from a random valid workload."""
    w = workload(7, appeals, 1, datetime.now(UTC), 1)
    states: dict[str, State] = {}
    for event in w.events:
        if topic_of(event) == APPEALS:
            parsed = parse(APPEALS, event.to_json(), [])
            new = apply_appeal(states.get(parsed.envelope.subject), parsed)
            if new is not None:
                new["partition"] = 3
                states[parsed.envelope.subject] = new
    return list(states.values())


def test_a_state_comes_back_as_it_went_in_and_much_smaller_than_its_json() -> None:
    codec = Codec()
    states = appeal_states()
    odd: State = {"partition": 1, "offset": 7, "x": [], "y": [[1, 2]], "z": {"a": None}}
    for state in [*states, odd]:
        assert codec.decode(codec.encode(state)) == state
    encoded = sum(len(codec.encode(s)) for s in states)
    assert encoded * 5 < sum(len(json.dumps(s).encode()) for s in states)


def test_the_shapes_grow_with_the_labels_not_the_states() -> None:
    states = appeal_states()
    for state in states:
        Codec.encode(state)
    seen = len(state_codec.SHAPES)
    for state in states * 3:
        Codec.encode({**state, "sequence": state["sequence"] + 1, "received_at": 1.5})
    assert len(state_codec.SHAPES) == seen


def test_a_state_written_as_json_before_the_shapes_still_decodes() -> None:
    state = appeal_states()[0]
    assert Codec.decode(json.dumps(state).encode()) == state
    store = States()
    assert apply_records(store, 3, [Record(0, b'"A-1"', json.dumps(state).encode())], 9) == 1
    assert store["A-1"] == state


def test_a_compact_changelog_value_is_kept_as_read_after_its_shape() -> None:
    state, written = appeal_states()[1], set[int]()
    value, shape = Codec.encode_for(state, written)
    assert shape is not None
    assert written
    assert Codec.encode_for(state, written)[1] is None
    key, canonical = shape
    assert state_codec.is_shape_key(json.loads(key))
    assert state_codec.is_shape_value(canonical)
    state_codec.SHAPES.clear()
    state_codec._DIGESTS.clear()
    store = States()
    records = [Record(0, key, canonical), Record(1, b'"A-1"', value)]
    assert apply_records(store, 3, records, 9) == 2
    assert store.partitions[3]["A-1"] is value  # not decoded, not encoded again
    assert len(store) == 1
    assert store["A-1"] == state


def test_a_state_of_an_unknown_shape_is_an_error() -> None:
    value = Codec.encode({"partition": 1, "status": "never seen before"})
    state_codec.SHAPES.clear()
    state_codec._DIGESTS.clear()
    with pytest.raises(state_codec.UnknownShape):
        Codec.decode(value)


def test_states_live_by_partition_and_a_partition_is_forgotten_whole() -> None:
    store = States()
    store["A-1"] = {"partition": 0, "sequence": 1}
    store["A-2"] = {"partition": 1, "sequence": 2}
    store["#offset/1"] = {"partition": 1, "offset": 9}
    assert store["A-2"] == {"partition": 1, "sequence": 2}
    assert len(store) == 3
    assert "A-1" in store
    assert store.forget([1, 4]) == 2
    assert dict(store.items()) == {"A-1": {"partition": 0, "sequence": 1}}
    del store["A-1"]
    assert len(store) == 0
    assert "A-1" not in store


@dataclass
class Record:
    offset: int
    key: bytes
    value: bytes | None


def test_changelog_records_before_the_end_are_read_and_a_tombstone_deletes() -> None:
    store = States()
    records = [
        Record(0, b'"A-1"', b'{"sequence": 1}'),
        Record(1, b'"A-2"', b'{"sequence": 1}'),
        Record(2, b'"A-1"', b'{"sequence": 2}'),
        Record(3, b'"A-2"', None),
        Record(4, b'"A-3"', b'{"sequence": 1}'),  # at the end offset: left to Faust
    ]
    assert apply_records(store, 5, records, end=4) == 4
    assert dict(store.items()) == {"A-1": {"sequence": 2, "partition": 5}}


KEYS = st.sampled_from([f"A-{i}" for i in range(8)])
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), KEYS, st.integers(0, 2), st.integers(0, 99)),
        st.tuples(st.just("put"), KEYS, st.integers(0, 2), st.integers(0, 99)),
        st.tuples(st.just("drop"), KEYS, st.integers(0, 2), st.just(0)),
        st.tuples(st.just("del"), KEYS, st.just(0), st.just(0)),
        st.tuples(st.just("forget"), KEYS, st.integers(0, 2), st.just(0)),
    ),
    max_size=60,
)


@given(OPERATIONS, st.integers(1, 4))
@settings(max_examples=300, deadline=None)
def test_the_hot_states_and_the_encoded_ones_together_are_one_mapping(
    operations: list[tuple[str, str, int, int]], hot_size: int
) -> None:
    """Whatever the writes, reads, tombstones and forgotten partitions, the store answers as
    a plain dict would, and no key is both hot and encoded."""
    store, model = States(hot_size=hot_size), {}
    partition_of = {f"A-{i}": i % 3 for i in range(8)}  # a key lives in one partition
    for operation, key, _, value in operations:
        partition = partition_of[key]
        state: State = {"partition": partition, "sequence": value}
        if operation == "set":
            store[key] = model[key] = state
        elif operation == "put":
            store.put(partition, key, dict(state))
            model[key] = state
        elif operation == "drop":
            store.drop(partition, key)
            model.pop(key, None)
        elif operation == "del":
            assert (key in model) == (key in store)
            if key in model:
                del store[key], model[key]
        else:
            gone = {s["partition"] for k, s in model.items() if k == key}
            assert store.forget(gone) == sum(s["partition"] in gone for s in model.values())
            model = {k: s for k, s in model.items() if s["partition"] not in gone}
        assert len(store.hot) <= hot_size
        assert not set(store.hot) & {k for states in store.partitions.values() for k in states}
        assert dict(store.items()) == model
        assert len(store) == len(model)
        assert all(store.get(k) == model.get(k) for k in partition_of)


def test_a_state_read_back_soon_after_its_write_is_not_decoded_again() -> None:
    store = States(hot_size=2)
    first: State = {"partition": 0, "sequence": 1}
    store["A-1"] = first
    assert store["A-1"] is first  # hot: the very state written
    store["A-2"] = {"partition": 0, "sequence": 1}
    store["A-3"] = {"partition": 1, "sequence": 1}
    assert "A-1" in store.partitions[0]  # the oldest, encoded
    assert store["A-1"] == first
    assert store["A-1"] is not first


def test_the_re_sum_by_shape_gives_the_figures_state_by_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """However many states share a shape and an hour, and however small the memo, the
    re-sum from compact states has every figure and deadline of the one state by state."""
    monkeypatch.setattr(aggregate, "MEMO", 3)
    states = [
        {**s, "received_at": s["received_at"] + 1800 * i, "sequence": s["sequence"] + i}
        for i, s in enumerate(appeal_states() * 3)
        if "received_at" in s
    ]
    plain = Aggregate(appeal_figures, deadline_of)
    plain.rebuild(states, [3])
    shaped = Aggregate(appeal_figures, deadline_of, figures_key)
    resum = aggregate.Resum(shaped)
    resum.add_shaped(Codec.decode_shaped(Codec.encode(s)) for s in states)
    resum.add_shaped([(None, states[0])])
    resum.done([3])
    plain_resum = aggregate.Resum(plain)
    plain_resum.add([*states, states[0]])
    plain_resum.done([3])
    assert resum.states == plain_resum.states == len(states) + 1
    assert shaped.figures == plain.figures
    assert shaped.deadlines == plain.deadlines
