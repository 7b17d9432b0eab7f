"""A child process whose output is prefixed and forwarded, and which stops cleanly.

Used for the Kafka broker, PostgreSQL and the services, both by `make up` and by the
test fixtures, so that what the tests start is what a developer runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

import httpx

COLOURS = ("\x1b[36m", "\x1b[33m", "\x1b[35m", "\x1b[32m", "\x1b[34m", "\x1b[31m")
RESET = "\x1b[0m"


class ProcessFailed(RuntimeError):
    """A child exited, or never became ready, before its deadline."""


class PortInUse(ProcessFailed):
    """Something else already listens where the child should: say so rather than talk to it."""


def _die_with_parent() -> None:
    """Runs in the child before exec: the kernel sends SIGTERM if the supervisor dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


PR_SET_PDEATHSIG = 1


class ManagedProcess:
    """One child process: prefixed output, a readiness probe, graceful stop."""

    _count = 0

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stop_signal: signal.Signals = signal.SIGTERM,
        stop_timeout: float = 30.0,
        user: str | None = None,
        output: TextIO | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.stop_signal = stop_signal
        self.stop_timeout = stop_timeout
        self.user = user
        self.output = output if output is not None else sys.stdout
        self.log_file = log_file
        self.proc: asyncio.subprocess.Process | None = None
        self._pump: asyncio.Task[None] | None = None
        colour = COLOURS[ManagedProcess._count % len(COLOURS)]
        ManagedProcess._count += 1
        tty = getattr(self.output, "isatty", lambda: False)()
        self._prefix = f"{colour}{name:>13} |{RESET} " if tty else f"{name:>13} | "

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} is not started"
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            user=self.user,
            # Ctrl-C reaches the supervisor only; it stops the children in order
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        self._pump = asyncio.create_task(self._forward(), name=f"{self.name}-output")

    async def _forward(self) -> None:
        assert self.proc is not None
        assert self.proc.stdout is not None
        sink = self.log_file.open("ab") if self.log_file else None
        try:
            while line := await self.proc.stdout.readline():
                if sink is not None:
                    sink.write(line)
                    sink.flush()
                else:
                    text = line.decode(errors="replace").rstrip()
                    self.output.write(f"{self._prefix}{text}\n")
                    self.output.flush()
        finally:
            if sink is not None:
                sink.close()

    async def wait_ready(
        self, probe: Callable[[], Awaitable[bool]], *, timeout: float, interval: float = 0.2
    ) -> None:
        """Polls `probe` until it answers True; fails fast if the child exits meanwhile."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if not self.running:
                raise ProcessFailed(f"{self.name} exited with {self.returncode} before ready")
            with contextlib.suppress(Exception):
                if await probe():
                    return
            if loop.time() > deadline:
                raise ProcessFailed(f"{self.name} not ready after {timeout:.0f}s")
            await asyncio.sleep(interval)

    async def launch(
        self, probe: Callable[[], Awaitable[bool]], *, timeout: float, interval: float = 0.2
    ) -> None:
        """Starts the child and waits until `probe` says it is ready (`wait_ready`)."""
        await self.start()
        await self.wait_ready(probe, timeout=timeout, interval=interval)

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.returncode

    def kill(self) -> None:
        """SIGKILL, as a crash would; for fault tests."""
        if self.running:
            assert self.proc is not None
            self.proc.kill()

    async def wait(self) -> int:
        assert self.proc is not None
        code = await self.proc.wait()
        if self._pump is not None:
            with contextlib.suppress(Exception):
                await self._pump
        return code

    async def stop(self) -> int | None:
        """Asks politely, waits `stop_timeout`, then kills."""
        if self.proc is None:
            return None
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(self.stop_signal)
            try:
                await asyncio.wait_for(self.proc.wait(), self.stop_timeout)
            except TimeoutError:
                self.output.write(
                    f"{self._prefix}did not stop in {self.stop_timeout:.0f}s, killing\n"
                )
                self.proc.kill()
        return await self.wait()


async def ensure_free(name: str, port: int) -> None:
    if await port_open("127.0.0.1", port):
        raise PortInUse(f"{name}: port {port} is already in use; is another instance running?")


async def answers_ok(url: str, *, timeout: float) -> bool:
    """An HTTP readiness probe: GET `url` answers 200."""
    async with httpx.AsyncClient(timeout=timeout) as client:
        return (await client.get(url)).status_code == 200


async def port_open(host: str, port: int) -> bool:
    """A cheap check before a real protocol probe, so clients do not log refusals."""
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()
    return True
