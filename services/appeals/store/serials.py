"""Appeal serial numbers (the tail of `BC20250101000123`), taken from a block held in memory.

Every number still comes from the `appeal_number` sequence, so numbers stay unique across
worker processes and instances; but a process reserves `block` of them in one round trip
and hands them out from memory, instead of asking the sequence on every group commit.
The price: numbers are no longer in order of receipt across processes, and a process
that stops leaves the rest of its block unused (a gap). Neither matters: appeals are
ordered by `received_at`, and a sequence never promised gaplessness (a rolled-back
transaction leaves a gap too).
"""

from __future__ import annotations

from collections import deque

from appeals import store
from minsheng.db import Conn


class SerialBlocks:
    """Serial numbers for one database; one instance per process and database."""

    def __init__(self, block: int = 256) -> None:
        if block < 1:
            raise ValueError("block must be at least 1")
        self.block = block
        self._spare: deque[int] = deque()

    @property
    def spare(self) -> int:
        """Numbers reserved and not yet handed out."""
        return len(self._spare)

    async def take(self, conn: Conn, n: int) -> list[int]:
        """`n` numbers nobody else gets; reserves a block (or `n`, if more) when short.

        No lock is needed between concurrent callers of one process: the numbers are
        popped without an await between the check and the pop, and a reservation only
        ever adds numbers that the sequence gave this process alone."""
        if len(self._spare) < n:
            self._spare.extend(await store.next_serials(conn, max(self.block, n)))
        if len(self._spare) < n:  # others took what arrived meanwhile: top it up again
            return await self.take(conn, n)
        return [self._spare.popleft() for _ in range(n)]
