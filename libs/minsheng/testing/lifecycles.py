"""Property-test scaffolding for a service's lifecycle (decide/evolve, `minsheng.aggregate`).

Appeals and projects test theirs alike: random actions at random later times, each
either refused as illegal (when the state does not allow it), rejected for its
arguments, or emitting events; after every step the state must be a replay of all
that was emitted, with gapless sequences. Only the actions and their arguments differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

import pytest
from hypothesis import strategies as st

from minsheng.aggregate import AggregateState, IllegalTransition, Sequenced
from minsheng.events import EventData

S = TypeVar("S", bound=AggregateState)
A = TypeVar("A", bound=str)


def action_steps(
    actions: Sequence[A], *, max_minutes: int, variants: int
) -> st.SearchStrategy[list[tuple[A, int, int]]]:
    """Up to 40 steps; an action listed several times is drawn that much more often."""
    return st.lists(
        st.tuples(
            st.sampled_from(actions),
            st.integers(min_value=0, max_value=max_minutes),
            st.integers(min_value=0, max_value=variants - 1),
        ),
        max_size=40,
    )


def walk(
    start: tuple[S, list[Sequenced]],
    steps: Iterable[tuple[A, int, int]],
    *,
    t0: datetime,
    allowed: Callable[[S], Sequence[A]],
    act: Callable[[S, A, datetime, int], tuple[S, list[Sequenced]]],
    rejected: tuple[type[Exception], ...],
) -> Iterator[tuple[S, list[Sequenced], list[Sequenced]]]:
    """Plays `steps` from `start`, yielding (state, all emitted, just emitted): first for
    the start, then after each action that went through. An action the state does not
    allow must raise `IllegalTransition`; one raising any of `rejected` is passed over."""
    state, emitted = start
    yield state, emitted, emitted
    now = t0
    for action, minutes, choice in steps:
        now += timedelta(minutes=minutes)
        if action not in allowed(state):
            with pytest.raises(IllegalTransition):
                act(state, action, now, choice)
            continue
        try:
            state, more = act(state, action, now, choice)
        except rejected:  # allowed here, but not with these arguments or now
            continue
        emitted = emitted + more
        yield state, emitted, more


def assert_replays(
    state: S,
    emitted: list[Sequenced],
    replay: Callable[[Iterable[EventData]], S],
    statuses: Sequence[str],
) -> None:
    """Gapless sequences from 1, and the state is exactly the replay of the events."""
    assert [e.sequence for e in emitted] == list(range(1, len(emitted) + 1))
    assert state.sequence == len(emitted)
    assert state == replay(e.data for e in emitted)
    assert state.status in statuses
    assert state.history == tuple(e.data.event_name for e in emitted)
