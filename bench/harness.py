"""What every benchmark run does around its measurements: a private PostgreSQL and
stack in a temporary folder, a progress line every second, the machine's facts, and
its command line (options from its config, the summary printed, the JSON kept)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import asyncpg

from minsheng.platform.kafka import DEFAULT_LIBS
from minsheng.platform.postgres import PostgresServer
from testkit.e2e.stack import Stack
from testkit.integration.helpers import free_port

S = TypeVar("S", bound=Stack)
C = TypeVar("C")


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
        return machine(self.load_before, postgres=self.pg, **extra)


def machine(load_before: tuple[float, float, float], **extra: Any) -> dict[str, Any]:
    """The facts about the machine that go beside every figure, and the run's `extra`."""
    return {
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        **extra,
    }


def kafka_version() -> str:
    jars = sorted(DEFAULT_LIBS.glob("kafka_2.13-*.jar"))
    return jars[0].stem.removeprefix("kafka_2.13-") if jars else "unknown"


@contextlib.asynccontextmanager
async def running_stack(
    prefix: str, make_stack: Callable[[Path, str], S], *, keep: bool = False
) -> AsyncIterator[Run[S]]:
    """Starts PostgreSQL and `make_stack(folder, url)` in a new temporary folder, waits
    until the services are ready, and stops and removes everything afterwards."""
    load_before, started_at = os.getloadavg(), datetime.now(UTC)
    with scratch_folder(prefix, keep=keep) as folder:
        postgres = PostgresServer(
            folder / "postgres", port=free_port(), fsync=True, log_file=folder / "postgres.log"
        )
        stack = make_stack(folder, postgres.url)
        try:
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


@contextlib.contextmanager
def scratch_folder(prefix: str, *, keep: bool = False) -> Iterator[Path]:
    """A new temporary folder for a run's servers and logs, removed afterwards unless
    `keep` (then its path is printed, for reading the logs)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    print(f"working in {folder} (logs: *.log)", flush=True)
    try:
        yield folder
    finally:
        if keep:
            print(f"kept {folder}", flush=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def write_result(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


def parse_bench_args(
    argv: Sequence[str] | None,
    doc: str | None,
    config: Callable[..., C],
    out: Path,
    options: Callable[[argparse.ArgumentParser, C], None],
    invalid: Callable[[argparse.Namespace], str | None],
) -> tuple[C, Path]:
    """What every benchmark's argument parsing does: its `options` (each named like a
    field of its `config`, defaults from `config()`), then --keep and --out; a usage
    error with the message `invalid` gives, if any; the config and the output path."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    options(parser, config())
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--out", type=Path, default=out)
    args = parser.parse_args(argv)
    if (problem := invalid(args)) is not None:
        parser.error(problem)
    fields = vars(args)
    path = fields.pop("out")
    return config(**fields), path


def run_cli(
    config: C,
    out: Path,
    bench: Callable[[C], Coroutine[Any, Any, dict[str, Any]]],
    summary: Callable[[dict[str, Any]], str],
) -> int:
    """What every benchmark's main does: run, print the summary, keep the JSON. SIGTERM
    (a `timeout`, a kill) stops it as Ctrl-C does, so the brokers, databases and workers
    it started, child processes all, are stopped rather than left running."""
    before = signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = asyncio.run(bench(config))
    except KeyboardInterrupt:
        print("\ninterrupted: what the benchmark started is stopped", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, before)
    print(summary(result))
    write_result(result, out)
    print(f"\nwritten to {out}")
    return 0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@dataclass(frozen=True)
class Cli(Generic[C]):
    """A benchmark's command line: `--<field>` for each field of its config named in
    `options` (its help text, or None), typed and defaulted as the field; a usage error
    with the message `invalid` gives; then what `run_cli` does."""

    doc: str | None
    config: Callable[..., C]
    out: Path
    options: Mapping[str, str | None]
    invalid: Callable[[argparse.Namespace], str | None]
    bench: Callable[[C], Coroutine[Any, Any, dict[str, Any]]]
    summary: Callable[[dict[str, Any]], str]

    def add_options(self, parser: argparse.ArgumentParser, defaults: C) -> None:
        declared = {f.name for f in fields(defaults)}  # type: ignore[arg-type]
        for name, help_text in self.options.items():
            assert name in declared, f"{name} is no field of the config"
            default = getattr(defaults, name)
            flag = "--" + name.replace("_", "-")
            parser.add_argument(flag, type=type(default), default=default, help=help_text)

    def parse(self, argv: Sequence[str] | None = None) -> tuple[C, Path]:
        return parse_bench_args(
            argv, self.doc, self.config, self.out, self.add_options, self.invalid
        )

    def main(self, argv: Sequence[str] | None = None) -> int:
        return run_cli(*self.parse(argv), self.bench, self.summary)
