"""Schemathesis against a service's own OpenAPI document, over real HTTP: the app (its
lifespan already running, with its real database and broker) served on a free loopback
port in the test's event loop, and `st run` in a subprocess with a time budget.

The budget comes from `MINSHENG_FUZZ_SECONDS` (each service's run; `make fuzz` raises it),
the checks and their settings from schemathesis.toml at the repository's root.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from testkit.integration.apps import DEV_KEY
from testkit.integration.helpers import eventually, free_port

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "schemathesis.toml"
DEFAULT_SECONDS = 20.0  # per service in `make test`: the suite stays within minutes
ST = Path(sys.executable).with_name("st")


def budget() -> float:
    """Seconds of fuzzing for one service's run."""
    return float(os.environ.get("MINSHENG_FUZZ_SECONDS", DEFAULT_SECONDS))


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The app on a free loopback port of this event loop; yields its base URL. The app's
    lifespan is the caller's (a `service_client`), so the server runs none of its own."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        if task.done():
            task.result()  # raises what stopped it
        return server.started

    await eventually(started, bool, timeout=10, what="the server listening")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass(frozen=True)
class Run:
    """What `st run` answered: its exit code and everything it printed."""

    code: int
    output: str


async def fuzz(
    url: str, key: str | None = None, *, seconds: float | None = None, args: Sequence[str] = ()
) -> Run:
    """Runs schemathesis on `url`'s /openapi.json, every request with `key` if given, for
    about `seconds` (`budget()` by default); `args` adds options of `st run`."""
    process = await asyncio.create_subprocess_exec(
        str(ST),
        "--config-file",
        str(CONFIG),
        "run",
        f"{url}/openapi.json",
        *(["--header", f"Authorization: Bearer {key}"] if key else []),
        "--max-time",
        str(max(1, round(seconds or budget()))),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "120"},
    )
    output, _ = await process.communicate()
    return Run(await process.wait(), output.decode(errors="replace"))


async def fuzz_client(client: httpx.AsyncClient, *, seconds: float | None = None) -> Run:
    """`fuzz` on the app behind a `service_client`, with its operator key."""
    app: FastAPI = client.app  # type: ignore[attr-defined]
    async with served(app) as url:
        return await fuzz(url, DEV_KEY, seconds=seconds)
