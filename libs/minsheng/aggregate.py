"""The decide/evolve skeleton every event-sourced aggregate shares (appeals, projects).

A service's lifecycle supplies `apply` (evolve: the state after one more event); these
fold events through it so a state is by construction a replay of what it emitted and
each emitted event carries the next gapless per-aggregate sequence (the sequenced-events rule).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from minsheng.events import EventData


class HasSequence(Protocol):
    @property
    def sequence(self) -> int: ...


S = TypeVar("S", bound=HasSequence)


class LifecycleError(Exception):
    """Base of a lifecycle's refusals; the API answers them with problem+json."""


class IllegalTransition(LifecycleError):
    """The action is not possible in the aggregate's current state (409)."""

    def __init__(self, what: str, status: str, action: str, allowed: Sequence[str]) -> None:
        """`what` names the aggregate in the message: "an appeal", "a project"."""
        super().__init__(
            f"cannot {action} {what} that is {status}; allowed: {', '.join(allowed) or 'none'}"
        )
        self.status, self.action, self.allowed = status, action, list(allowed)


@dataclass(frozen=True)
class Sequenced:
    """An emitted payload with its per-aggregate sequence number, ready for the outbox."""

    sequence: int
    data: EventData


def replay(apply: Callable[[S | None, EventData], S], events: Iterable[EventData]) -> S:
    """The state from a whole history, its first event first."""
    state: S | None = None
    for data in events:
        state = apply(state, data)
    if state is None:
        raise ValueError("an empty history is no aggregate")
    return state


def commit(
    apply: Callable[[S | None, EventData], S], state: S, events: list[EventData]
) -> tuple[S, list[Sequenced]]:
    """Folds decided events into the state, numbering each with the sequence it led to."""
    emitted = []
    for data in events:
        state = apply(state, data)
        emitted.append(Sequenced(state.sequence, data))
    return state, emitted
