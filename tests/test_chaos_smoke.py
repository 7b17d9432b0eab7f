"""`make chaos`, short: every fault once (each service killed with -9, the broker and
PostgreSQL down a few seconds) under a small load, then every invariant at quiescence."""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit.chaos.report import render
from testkit.chaos.run import Options, run

pytestmark = pytest.mark.e2e


async def test_every_fault_under_load_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path,
) -> None:
    options = Options(
        tmp_path,
        calm=3.0,
        broker_outage=8.0,
        postgres_outage=2.0,
        speed=1800.0,
        rate=6.0,
        projects=4,
        recover_timeout=90.0,
        quiesce_timeout=90.0,
    )
    outcome = await run(options)
    text = render(outcome.table, outcome.findings)
    print(text)
    assert not outcome.findings.problems, text
    assert [row.fault for row in outcome.table] == [
        "kill -9 appeals",
        "kill -9 notifications",
        "kill -9 analytics",
        "kill -9 projects",
        "broker stopped 8s",
        "postgres restarted (2s down)",
    ]
    assert all(row.lost == 0 and row.duplicates == 0 for row in outcome.table), text
    assert all(row.recovery_seconds is not None for row in outcome.table), text
    broker = outcome.table[4]
    assert broker.accepted > 0, text  # the APIs answered throughout the outage
    assert broker.failed == 0, text
    posted = [r for r in outcome.requests if r.path == "/v1/appeals" and r.status == 201]
    assert len(posted) > 10
    assert len(set(outcome.created["/v1/appeals"])) == len(posted)  # each checked above
