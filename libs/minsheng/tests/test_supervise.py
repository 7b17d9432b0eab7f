"""make up's supervisor: a child that dies comes back, with a growing wait."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from minsheng.platform.process import answers_ok
from minsheng.platform.sinks.process import DevSinks
from minsheng.platform.supervise import Backoff, keep_running
from testkit.integration.helpers import eventually, free_port


def test_the_wait_doubles_up_to_the_cap() -> None:
    backoff = Backoff(first=1.0, cap=30.0)
    assert [backoff.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


@pytest.mark.integration
async def test_a_killed_child_is_restarted_and_each_failure_in_a_row_waits_longer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sinks = DevSinks(
        "dev-sinks",
        free_port(),
        smtp_port=free_port(),
        data_dir=tmp_path,
        log_file=tmp_path / "log",
    )
    await sinks.start()
    keeper = asyncio.create_task(keep_running(sinks, Backoff(first=0.2, cap=1.0)))
    caplog.set_level(logging.WARNING, "minsheng.platform")
    try:
        for failure in (1, 2):
            first = sinks.process.pid
            sinks.kill()
            await eventually(
                lambda: asyncio.sleep(0, caplog.text.count("dev-sinks restarted and ready")),
                lambda restarts, n=failure: restarts == n,  # type: ignore[misc]
                what=f"restart {failure}",
            )
            assert sinks.process.pid != first
            assert await answers_ok(f"{sinks.url}/readyz", timeout=5)
            wait = 0.2 * 2 ** (failure - 1)  # the second death in a row waits twice as long
            assert (
                f"dev-sinks exited with -9; restarting in {wait:.1f}s (failure {failure} in a row)"
                in caplog.text
            )
    finally:
        keeper.cancel()
        await asyncio.gather(keeper, return_exceptions=True)
        await sinks.stop()
