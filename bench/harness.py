"""What every benchmark run does around its measurements: a private PostgreSQL and
stack in a temporary folder, a progress line every second, the machine's facts."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import asyncpg

from minsheng.platform.postgres import PostgresServer
from testkit.e2e.stack import Stack
from testkit.integration.helpers import free_port

S = TypeVar("S", bound=Stack)


@contextlib.asynccontextmanager
async def every_second(line: Callable[[], str]) -> AsyncIterator[None]:
    """Prints `line()` every second while the block runs, and once more at its end; on a
    terminal the line is rewritten in place."""
    tty = sys.stdout.isatty()

    async def loop() -> None:
        while True:
            await asyncio.sleep(1.0)  # pacing of the display, not a wait for a result
            print("\r" + line() if tty else line(), end="" if tty else "\n", flush=True)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        print(("\r" if tty else "") + line(), flush=True)


async def postgres_facts(url: str) -> dict[str, str]:
    conn = await asyncpg.connect(url)
    try:
        names = ("server_version", "fsync", "synchronous_commit", "full_page_writes")
        return {name: str(await conn.fetchval(f"SHOW {name}")) for name in names}
    finally:
        await conn.close()


@dataclass
class Run(Generic[S]):
    """A started PostgreSQL (durability on) and stack, and when and how it ran."""

    folder: Path
    postgres: PostgresServer
    stack: S
    pg: dict[str, str]
    load_before: tuple[float, float, float]
    started_at: datetime

    def environment(self, **extra: Any) -> dict[str, Any]:
        return {
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in self.load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "platform": platform.platform(),
            "postgres": self.pg,
            **extra,
        }


@contextlib.asynccontextmanager
async def running_stack(
    prefix: str, make_stack: Callable[[Path, str], S], *, keep: bool = False
) -> AsyncIterator[Run[S]]:
    """Starts PostgreSQL and `make_stack(folder, url)` in a new temporary folder, waits
    until the services are ready, and stops and removes everything afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    load_before, started_at = os.getloadavg(), datetime.now(UTC)
    postgres = PostgresServer(
        folder / "postgres", port=free_port(), fsync=True, log_file=folder / "postgres.log"
    )
    stack = make_stack(folder, postgres.url)
    try:
        print(f"working in {folder} (logs: *.log)", flush=True)
        await postgres.start()
        pg = await postgres_facts(postgres.url)
        print(
            f"PostgreSQL {pg['server_version']} on {postgres.url}: fsync={pg['fsync']}, "
            f"synchronous_commit={pg['synchronous_commit']}, "
            f"full_page_writes={pg['full_page_writes']}",
            flush=True,
        )
        await stack.start()
        await stack.wait_ready()
        yield Run(folder, postgres, stack, pg, load_before, started_at)
    finally:
        with contextlib.suppress(Exception):
            await stack.stop()
        with contextlib.suppress(Exception):
            await postgres.stop()
        if keep:
            print(f"kept {folder}", flush=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)
