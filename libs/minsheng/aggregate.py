"""The decide/evolve skeleton every event-sourced aggregate shares (appeals, projects).

A service's lifecycle gives a `Fold`: how its first event starts a state and what each
later event changes. The fold does the rest alike for every aggregate: it checks that an
event belongs to the aggregate, counts the sequence and the history, replays a history,
and commits decided events, so a state is by construction a replay of what it emitted
and each emitted event carries the next gapless per-aggregate sequence (the sequenced-events rule).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from minsheng.events import EventData, SatisfactionRecorded


class AggregateState(Protocol):
    """What the fold reads of a state: a frozen dataclass with these fields."""

    @property
    def id(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def district(self) -> str: ...

    @property
    def sequence(self) -> int: ...

    @property
    def history(self) -> tuple[str, ...]: ...


S = TypeVar("S", bound=AggregateState)
First = TypeVar("First", bound=EventData)


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


class CommandRejected(LifecycleError):
    """The action fits the state, but not with these arguments or at this time (422)."""


def required(value: str | None, what: str) -> str:
    """The text, refused if it is missing or blank."""
    if value is None or not value.strip():
        raise CommandRejected(f"{what} is required")
    return value


@dataclass(frozen=True)
class Sequenced:
    """An emitted payload with its per-aggregate sequence number, ready for the outbox."""

    sequence: int
    data: EventData


@dataclass(frozen=True)
class Fold(Generic[S, First]):
    """One aggregate's evolve function, from its two particular parts.

    `noun` names the aggregate ("appeal"): its events carry `<noun>_id`, and a
    SatisfactionRecorded belongs to it with `subject_type` `<noun>`. `start` builds the
    state from the `first` event; `changes` gives the fields a later event changes (and
    raises ValueError for an event that is not the aggregate's)."""

    noun: str
    first: type[First]
    start: Callable[[First], S]
    changes: Callable[[S, EventData], dict[str, Any]]

    @property
    def what(self) -> str:
        """The aggregate with its article, for messages: "an appeal", "a project"."""
        return f"{'an' if self.noun[0] in 'aeiou' else 'a'} {self.noun}"

    def apply(self, state: S | None, data: EventData) -> S:
        """Evolve: the state after one more event. Never refuses a valid history."""
        if state is None:
            if not isinstance(data, self.first):
                raise ValueError(
                    f"{self.what}'s history starts with {self.first.__name__}, not {data}"
                )
            return self.start(data)
        if isinstance(data, SatisfactionRecorded):
            subject = data.subject_id if data.subject_type == self.noun else None
        else:
            subject = getattr(data, f"{self.noun}_id", None)
        if subject != state.id or isinstance(data, self.first):
            raise ValueError(
                f"{data.event_name} for {subject} does not follow {self.noun} {state.id}"
            )
        changed: S = replace(
            state,  # type: ignore[type-var]  # a dataclass, as the protocol says
            sequence=state.sequence + 1,
            history=(*state.history, data.event_name),
            **self.changes(state, data),
        )
        return changed

    def open(self, first: First) -> tuple[S, list[Sequenced]]:
        """The state of a new aggregate and its first event (sequence 1)."""
        return self.apply(None, first), [Sequenced(1, first)]

    def replay(self, events: Iterable[EventData]) -> S:
        """The state from a whole history, its first event first."""
        state: S | None = None
        for data in events:
            state = self.apply(state, data)
        if state is None:
            raise ValueError("an empty history is no aggregate")
        return state

    def commit(self, state: S, events: list[EventData]) -> tuple[S, list[Sequenced]]:
        """Folds decided events into the state, numbering each with the sequence it led to."""
        emitted = []
        for data in events:
            state = self.apply(state, data)
            emitted.append(Sequenced(state.sequence, data))
        return state, emitted

    def satisfaction(self, state: S, now: datetime, **rated: Any) -> SatisfactionRecorded:
        """满意度 of the aggregate, recorded `now`; `rated`: rating, comment, channel and
        reason, as the action was given them."""
        return SatisfactionRecorded(
            subject_type=self.noun,
            subject_id=state.id,
            district=state.district,
            recorded_at=now,
            **rated,
        )

    def evaluate(
        self, state: S, allowed: Sequence[str], now: datetime, **rated: Any
    ) -> tuple[S, list[Sequenced]]:
        """The `evaluate` action of an aggregate residents rate (projects, list items):
        `rated` as for `satisfaction`; a reason only with a dissatisfied rating."""
        self.check(state, "evaluate", allowed)
        if rated.get("reason") is not None and rated["rating"] != "dissatisfied":
            raise CommandRejected("a reason is given only when the resident is dissatisfied")
        return self.commit(state, [self.satisfaction(state, now, **rated)])

    def check(self, state: S, action: str, allowed: Sequence[str]) -> None:
        """Refuses an action the state does not allow (`allowed`: the state's actions)."""
        if action not in allowed:
            raise IllegalTransition(self.what, state.status, action, allowed)
