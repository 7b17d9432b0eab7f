"""Random action sequences: gapless sequences, and the state is always a replay."""

from __future__ import annotations

from hypothesis import given, settings

from appeals import lifecycle as lc
from appeals.lifecycle import Action
from testkit.unit.appeals import RECEIVED, T0, act
from testkit.unit.lifecycles import action_steps, assert_replays, walk

# closing ends a run, so it is drawn less often, letting runs reach deeper states
WEIGHTED: tuple[Action, ...] = tuple(a for a in lc.ACTIONS for _ in range(1 if a == "close" else 4))
STEPS = action_steps(WEIGHTED, max_minutes=24 * 60, variants=12)


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_random_actions_keep_sequences_gapless_and_state_a_replay(
    steps: list[tuple[Action, int, int]],
) -> None:
    start = lc.open_appeal(RECEIVED)
    for state, emitted, more in walk(
        start, steps, t0=T0, allowed=lc.allowed_actions, act=act, rejected=(lc.CommandRejected,)
    ):
        assert more, "a successful action emits at least one event"
        assert_replays(state, emitted, lc.replay, lc.STATUSES)
