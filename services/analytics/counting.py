"""Pure counting rules: per-aggregate state, applied idempotently by sequence.

Every counter is a function of the per-aggregate states, and each state carries the
sequence it has applied. A redelivered or replayed event is not newer, so it changes
nothing; a restart restores the states from the changelog, so nothing resets. This is
why we need no distributed transaction between the counters and the consumer offsets.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from minsheng.events import AppealReceived, ParsedEvent

AppealState = dict[str, Any]
LabelKey = tuple[str, ...]


def apply_appeal(state: AppealState | None, event: ParsedEvent) -> AppealState | None:
    """The appeal's new state, or None when the event is not newer than what is held."""
    sequence = event.envelope.sequence
    if state is not None and sequence <= state["sequence"]:
        return None
    new: AppealState = dict(state or {})
    new["sequence"] = sequence
    data = event.data
    if isinstance(data, AppealReceived):
        new.update(
            district=data.district,
            category=data.category,
            channel=data.channel,
            status="received",
            received_at=data.received_at.isoformat(),
        )
    return new


def received_by_labels(states: Iterable[AppealState]) -> Counter[LabelKey]:
    """`minsheng_appeals_received_total{district,category,channel}`."""
    counts: Counter[LabelKey] = Counter()
    for s in states:
        if "district" in s:
            counts[(s["district"], s["category"], s["channel"])] += 1
    return counts


def city_counters(states: Iterable[AppealState]) -> dict[str, Any]:
    """The JSON of GET /v1/counters: city-wide and per-district figures."""
    city: Counter[str] = Counter()
    districts: dict[str, Counter[str]] = {}
    for s in states:
        if "district" not in s:
            continue
        for bucket in (city, districts.setdefault(s["district"], Counter())):
            bucket["received"] += 1
    return {
        "city": {"received": city["received"]},
        "districts": {d: {"received": c["received"]} for d, c in sorted(districts.items())},
    }
