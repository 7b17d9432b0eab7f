"""Random action sequences: gapless sequences, the state always a replay, progress in
range and never below what the milestones reached, timers only for open projects."""

from __future__ import annotations

from hypothesis import given, settings

from minsheng.aggregate import Sequenced
from minsheng.testing.lifecycles import action_steps, assert_replays, walk
from projects import lifecycle as lc
from projects import timing
from projects.lifecycle import Action
from projects.tests.samples import T0, claimed
from projects.tests.test_lifecycle import act

STEPS = action_steps(lc.ACTIONS, max_minutes=20 * 24 * 60, variants=24)


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_random_actions_keep_sequences_gapless_and_state_a_replay(
    steps: list[tuple[Action, int, int]],
) -> None:
    start = lc.claim(claimed())
    rejected = (lc.CommandRejected, lc.Conflict)  # allowed here, not with these arguments
    for state, emitted, more in walk(
        start, steps, t0=T0, allowed=lc.allowed_actions, act=act, rejected=rejected
    ):
        assert len(more) == 1, "every action emits exactly one event"
        check(state, emitted)


def check(state: lc.ProjectState, emitted: list[Sequenced]) -> None:
    assert_replays(state, emitted, lc.replay, lc.STATUSES)
    assert lc.rollup(state.milestones) <= state.progress <= 100
    assert state.flags.count("notice") <= 1
    if state.status in ("completed", "verified"):
        assert state.progress == 100
        assert timing.timers(state) == []
    else:
        assert [d.milestone_id for d in timing.timers(state) if d.kind == "milestone"] == [
            m.milestone_id for m in state.milestones if m.status not in ("reached", "missed")
        ]
