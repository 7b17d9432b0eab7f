"""The analytics worker's lag: the highwater Faust saw minus the next offset its fold
admits, for the partitions it holds and has fetched from."""

from __future__ import annotations

from faust.types import TP

from analytics.lag import lags
from analytics.offsets import Gate


class FakeConsumer:
    """Faust's consumer, as far as `lags` reads it."""

    def __init__(self, highwaters: dict[TP, int | None]) -> None:
        self.highwaters = highwaters

    def assignment(self) -> set[TP]:
        return set(self.highwaters)

    def highwater(self, tp: TP) -> int | None:
        return self.highwaters[tp]


def test_lag_is_the_highwater_minus_the_gates_next_offset() -> None:
    gate = Gate()
    gate.reset([0, 1, 2, 3], {0: 10, 1: 4})  # 2 and 3 start from offset 0
    consumer = FakeConsumer({TP("t", 0): 15, TP("t", 1): 4, TP("t", 2): None})
    assert lags(consumer, {"t": gate}) == {("t", 0): 5, ("t", 1): 0}


def test_a_revoked_partition_has_no_lag_here() -> None:
    gate = Gate()
    gate.reset([0], {})
    assert lags(FakeConsumer({TP("t", 0): 3}), {"t": gate}) == {("t", 0): 3}
    gate.close()
    assert lags(FakeConsumer({TP("t", 0): 3}), {"t": gate}) == {}
