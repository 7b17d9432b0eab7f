"""Random action sequences: gapless sequences, the state always a replay, progress in
range and never below what the milestones reached, timers only for open projects."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minsheng.aggregate import Sequenced
from projects import lifecycle as lc
from projects.lifecycle import Action
from projects.tests.samples import T0, claimed
from projects.tests.test_lifecycle import act

STEPS = st.lists(
    st.tuples(
        st.sampled_from(lc.ACTIONS),
        st.integers(min_value=0, max_value=20 * 24 * 60),  # minutes the clock moves on
        st.integers(min_value=0, max_value=23),  # which variant of the action's arguments
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_random_actions_keep_sequences_gapless_and_state_a_replay(
    steps: list[tuple[Action, int, int]],
) -> None:
    state, emitted = lc.claim(claimed())
    now = T0
    for action, minutes, choice in steps:
        now += timedelta(minutes=minutes)
        if action not in lc.allowed_actions(state):
            with pytest.raises(lc.IllegalTransition):
                act(state, action, now, choice)
            continue
        try:
            after, more = act(state, action, now, choice)
        except (lc.CommandRejected, lc.Conflict):  # allowed here, not with these arguments
            continue
        assert len(more) == 1, "every action emits exactly one event"
        state, emitted = after, emitted + more
        check(state, emitted)
    check(state, emitted)


def check(state: lc.ProjectState, emitted: list[Sequenced]) -> None:
    assert [e.sequence for e in emitted] == list(range(1, len(emitted) + 1))
    assert state.sequence == len(emitted)
    assert state == lc.replay(e.data for e in emitted)
    assert state.status in lc.STATUSES
    assert state.history == tuple(e.data.event_name for e in emitted)
    assert lc.rollup(state.milestones) <= state.progress <= 100
    assert state.flags.count("notice") <= 1
    if state.status in ("completed", "verified"):
        assert state.progress == 100
        assert lc.timers(state) == []
    else:
        assert [d.milestone_id for d in lc.timers(state) if d.kind == "milestone"] == [
            m.milestone_id for m in state.milestones if m.status not in ("reached", "missed")
        ]
