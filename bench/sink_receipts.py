"""The webhooks the dev sink accepted for the notifications benchmark, read from its file.

The sink appends each request it verified to `webhooks.jsonl` with its receipt time, so
the benchmark needs no clock of its own at the far end: it counts lines cheaply while a
phase runs and reads them once at the end.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from minsheng.platform.sinks.files import Tail
from testkit.integration.helpers import eventually

UNIT, RECIPIENT = "明仁街道办事处", "unit-mingren"  # in the directory, with a webhook
APPEAL_ID = re.compile(r"NB-[0-9a-f]{6}-[a-z]+-[0-9]+")


class Deliveries:
    """The sink's accepted webhooks to RECIPIENT, by appeal: first receipt time each."""

    def __init__(self, tail: Tail) -> None:
        self.tail = tail
        self.received: dict[str, float] = {}
        self.webhook_ids: dict[str, set[str]] = {}
        self.bodies: list[Any] = []
        self._counted_to = 0  # bytes of the file counted by `lines`
        self._lines = 0

    def lines(self) -> int:
        """The lines in the sink's file so far, counted without parsing them: polling this
        costs next to nothing, so the benchmark takes no CPU from what it measures."""
        path = self.tail.path
        if not path.exists():
            return 0
        with path.open("rb") as source:
            source.seek(self._counted_to)
            chunk = source.read()
        end = chunk.rfind(b"\n") + 1
        self._counted_to += end
        self._lines += chunk.count(b"\n", 0, end)
        return self._lines

    def read(self) -> int:
        for line in self.tail.new():
            if line["recipient"] != RECIPIENT or line["status"] != 200:
                continue
            found = APPEAL_ID.search(json.dumps(line["body"], ensure_ascii=False))
            if found is None:
                continue
            appeal = found.group(0)
            self.received.setdefault(appeal, float(line["received_at"]))
            self.webhook_ids.setdefault(appeal, set()).add(str(line["webhook-id"]))
            if len(self.bodies) < 1:
                self.bodies.append(line["body"])
        return len(self.received)

    async def wait_for(self, appeals: Sequence[str], timeout: float) -> None:
        wanted = set(appeals)

        async def probe() -> int:
            self.read()
            return len(wanted - self.received.keys())

        await eventually(
            probe, lambda missing: missing == 0, timeout=timeout, what="every webhook received"
        )
