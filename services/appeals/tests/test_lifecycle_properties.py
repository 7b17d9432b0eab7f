"""Random action sequences: gapless sequences, and the state is always a replay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appeals import lifecycle as lc
from appeals.lifecycle import Action, Sequenced
from appeals.tests.test_lifecycle import RECEIVED, T0, act

# closing ends a run, so it is drawn less often, letting runs reach deeper states
WEIGHTED: tuple[Action, ...] = tuple(a for a in lc.ACTIONS for _ in range(1 if a == "close" else 4))
STEPS = st.lists(
    st.tuples(
        st.sampled_from(WEIGHTED),
        st.integers(min_value=0, max_value=24 * 60),  # minutes the clock moves on
        st.integers(min_value=0, max_value=11),  # which variant of the action's arguments
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_random_actions_keep_sequences_gapless_and_state_a_replay(
    steps: list[tuple[Action, int, int]],
) -> None:
    state, emitted = lc.open_appeal(RECEIVED)
    now = T0
    for action, minutes, choice in steps:
        now += timedelta(minutes=minutes)
        if action not in lc.allowed_actions(state):
            with pytest.raises(lc.IllegalTransition):
                act(state, action, now, choice)
            continue
        try:
            after, more = act(state, action, now, choice)
        except lc.CommandRejected:  # allowed here, but not with these arguments or now
            continue
        assert more, "a successful action emits at least one event"
        state, emitted = after, emitted + more
        check(state, emitted)
    check(state, emitted)


def check(state: lc.AppealState, emitted: list[Sequenced]) -> None:
    assert [e.sequence for e in emitted] == list(range(1, len(emitted) + 1))
    assert state.sequence == len(emitted)
    assert state == lc.replay(e.data for e in emitted)
    assert state.status in lc.STATUSES
    assert state.history == tuple(e.data.event_name for e in emitted)
