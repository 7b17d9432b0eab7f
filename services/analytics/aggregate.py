"""The running sum of the figures of every state a worker holds, kept by deltas.

The per-aggregate state table stays the source of truth (idempotent apply by sequence).
The sum is updated by (new figures - old figures) whenever an event is actually applied,
so a scrape costs O(label sets), not O(aggregates); and it is rebuilt from the table
whenever Faust finishes recovering the worker's partitions (start, restart after a crash,
rebalance), so it can never drift from the states it sums.

Open appeals with a deadline are also indexed by deadline per overdue gauge sample (per
district, per unit), so the overdue gauges are read at any instant in O(log n): they
move as deadlines pass, without events. The deadlines are kept as arrays of doubles, 8
bytes each, not lists of float objects (32): with millions of open appeals that is a
tenth of a worker's memory.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, insort
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from typing import Any, TypeAlias

from analytics.counting import Figure, Figures, State

FiguresOf = Callable[[State], Figures]
Deadlines = tuple[tuple[Figure, float], ...]  # (overdue figure, deadline) of one state
Moments: TypeAlias = "array[float]"  # "d": the sorted deadlines of one overdue figure
DeadlineOf = Callable[[State], Deadlines]
# What of a state's numbers its figures read, beside its shape (state_codec.py)
FiguresKey = Callable[[State], Hashable]
MEMO = 20_000  # figures kept by (shape, key) in a re-sum at most, some 40 MB
OVERDUE = "minsheng_appeals_overdue"
UNIT_OVERDUE = "minsheng_unit_appeals_overdue"


def no_deadline(state: State) -> Deadlines:
    """For tables whose states have no deadline."""
    return ()


class Aggregate:
    """The figures of the states of one table on this worker's partitions."""

    def __init__(
        self,
        figures_of: FiguresOf,
        deadline_of: DeadlineOf = no_deadline,
        figures_key: FiguresKey | None = None,
    ) -> None:
        self.figures_of, self.deadline_of = figures_of, deadline_of
        self.figures_key = figures_key  # None: figures read any number of a state
        self.figures: Figures = Figures()
        self.deadlines: dict[Figure, Moments] = {}  # overdue figure -> sorted deadlines
        self.partitions: frozenset[int] = frozenset()

    def replace(self, old: State | None, new: State) -> None:
        """One state changed from `old` (None: new aggregate) to `new`."""
        if old is not None:
            self._add(self.figures_of(old), -1)
            self._index(old, remove=True)
        self._add(self.figures_of(new), 1)
        self._index(new, remove=False)

    def rebuild(self, states: Iterable[State], partitions: Iterable[int]) -> None:
        """Starts again from the states of the given partitions, e.g. after recovery."""
        resum = Resum(self)
        resum.add(states)
        resum.done(partitions)

    def overdue(self, now: datetime) -> Figures:
        """The overdue gauges (`minsheng_appeals_overdue{district}`,
        `minsheng_unit_appeals_overdue{unit}`) at `now`: deadlines strictly before it."""
        moment = now.timestamp()
        counts = ((f, bisect_left(deadlines, moment)) for f, deadlines in self.deadlines.items())
        return Figures({figure: n for figure, n in counts if n})

    def drop(self, expired: Callable[[Figure], bool]) -> None:
        """Forgets the figures `expired` says are out of date (old windows)."""
        for figure in [f for f in self.figures if expired(f)]:
            del self.figures[figure]

    def _add(self, figures: Figures, sign: int) -> None:
        mine = self.figures
        for figure, value in figures.items():
            total = mine.get(figure, 0) + sign * value
            if total:
                mine[figure] = total
            else:
                mine.pop(figure, None)

    def _index(self, state: State, *, remove: bool) -> None:
        for figure, deadline in self.deadline_of(state):
            deadlines = _moments(self.deadlines, figure)
            if not remove:
                insort(deadlines, deadline)
                continue
            deadlines.pop(bisect_left(deadlines, deadline))
            if not deadlines:
                del self.deadlines[figure]


class Resum:
    """An aggregate's sum taken again from states given in any number of parts (a worker
    yields to its event loop between parts), replacing the old one at `done`: the figures
    added up and the deadlines sorted once at the end, so millions of states take
    seconds (one `replace` each would insert every deadline in a sorted list)."""

    def __init__(self, aggregate: Aggregate) -> None:
        self.aggregate = aggregate
        self.figures: Figures = Figures()
        self.deadlines: dict[Figure, Moments] = {}
        self.states = 0
        self.memo: dict[Any, list[Any]] = {}  # (shape, key) -> [figures, states of them]

    def add_shaped(self, states: Iterable[tuple[int | None, State]]) -> None:
        """States with their shapes' digests (None: unknown). States of one shape and one
        `figures_key` have the same figures: those are computed once and counted, the
        deadlines still taken state by state. Without a `figures_key`, as `add`."""
        key_of = self.aggregate.figures_key
        if key_of is None:
            self.add(state for _, state in states)
            return
        memo, figures_of = self.memo, self.aggregate.figures_of
        deadline_of, deadlines = self.aggregate.deadline_of, self.deadlines
        count = 0
        for shape, state in states:
            count += 1
            if shape is None:
                self.add((state,))
                count -= 1
                continue
            key = (shape, key_of(state))
            entry = memo.get(key)
            if entry is None:
                if len(memo) >= MEMO:
                    self._fold_memo()
                entry = memo[key] = [figures_of(state), 0]
            entry[1] += 1
            for figure, deadline in deadline_of(state):
                _moments(deadlines, figure).append(deadline)
        self.states += count

    def _fold_memo(self) -> None:
        figures = self.figures
        for each, count in self.memo.values():
            for figure, value in each.items():
                figures[figure] += value * count
        self.memo.clear()

    def add(self, states: Iterable[State]) -> None:
        figures, deadlines = self.figures, self.deadlines
        figures_of, deadline_of = self.aggregate.figures_of, self.aggregate.deadline_of
        for state in states:
            self.states += 1
            for figure, value in figures_of(state).items():
                figures[figure] += value
            for figure, deadline in deadline_of(state):
                _moments(deadlines, figure).append(deadline)

    def done(self, partitions: Iterable[int]) -> None:
        self._fold_memo()
        for figure, moments in self.deadlines.items():
            self.deadlines[figure] = array("d", sorted(moments))  # one figure's at a time
        aggregate = self.aggregate
        aggregate.figures = Figures({figure: n for figure, n in self.figures.items() if n})
        aggregate.deadlines, aggregate.partitions = self.deadlines, frozenset(partitions)


def _moments(deadlines: dict[Figure, Moments], figure: Figure) -> Moments:
    found = deadlines.get(figure)
    if found is None:
        found = deadlines[figure] = array("d")
    return found


def share(aggregates: Iterable[Aggregate], now: datetime) -> Figures:
    """Everything this worker counts at `now`: its part of every city-wide figure."""
    total = Figures()
    for aggregate in aggregates:
        total.update(aggregate.figures)
        total.update(aggregate.overdue(now))
    return total
