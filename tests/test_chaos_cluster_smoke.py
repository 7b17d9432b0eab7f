"""`make chaos-cluster`, short: the platform on a three-node Kafka cluster, a small load,
and one `kill -9` of the broker leading the most appeals partitions. Producers and
consumers fail over to the other two: nothing is lost, nothing counted or sent twice,
and the APIs answer throughout."""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit.chaos.report import render
from testkit.chaos.run import Options, run

pytestmark = pytest.mark.e2e


async def test_a_kill_of_the_leading_broker_loses_nothing_and_counts_nothing_twice(
    tmp_path: Path,
) -> None:
    options = Options(
        tmp_path,
        calm=3.0,
        speed=1800.0,
        rate=6.0,
        projects=4,
        recover_timeout=120.0,
        quiesce_timeout=120.0,
        brokers=3,
        cluster_faults=("leader",),
    )
    outcome = await run(options)
    text = render(outcome.table, outcome.findings)
    print(text)
    assert not outcome.findings.problems, text
    [row] = outcome.table
    assert row.fault == "kill -9 leading broker"
    assert (row.lost, row.duplicates, row.failed) == (0, 0, 0), text
    assert row.accepted > 0, text
    assert row.failover_seconds is not None, text
    assert row.recovery_seconds is not None, text
    assert "caught up" in row.note, text  # the killed broker back and in sync
    posted = [r for r in outcome.requests if r.path == "/v1/appeals" and r.status == 201]
    assert len(posted) > 5
