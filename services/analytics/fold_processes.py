"""The rebuild's fold in several processes: one core folds about 26,000 events/s, so the
partitions are folded side by side, each process with its own consumer.

An aggregate's events are all on one partition of its topic and the states are per
aggregate, so partition p of every domain topic goes to process p % N and the shares are
disjoint. The parent takes the spans (first and end offsets) once and hands each process
its share, so every process folds up to the same instant; each folds with the same
`Replay` and sends back its states, last offsets and rejected count through a pipe, and
the parent merges them into one `Replay`: what a fold in one process gives. The states
go in chunks, each merged while the process encodes the next, with `marshal`: a state
is JSON-like (dicts, lists, strings, numbers; its changelog record is its JSON), which
marshal encodes and decodes exactly, in about two thirds of pickle's time.
Processes start with `spawn`, never `fork`: the parent runs an asyncio loop and has had
Kafka clients. A process that fails or is killed fails the whole fold, naming its
partitions: never a partial result.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import marshal
import multiprocessing
import os
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from analytics.replay import Counted, Replay, Spans, domain_replay, read
from minsheng.kafka import KafkaAccess

CONTEXT = multiprocessing.get_context("spawn")
REPORT_EVERY = 0.25  # seconds between a process's progress reports, at least
EXIT_WAIT = 10.0  # seconds a process that has closed its pipe is given to end
CHUNK = 5_000  # states a message: the parent merges one while the process encodes the next


class FoldFailed(RuntimeError):
    """A process of the fold failed or was killed: the fold has no result."""


@dataclass(frozen=True)
class Transfer:
    """How one process's fold went: its events; the seconds from the start of the fold to
    its own (`spawn` and its imports), of its read and fold, and from its end to the
    states merged here (encode, pipe, decode, merge); and the bytes of its states."""

    events: int
    start_seconds: float
    fold_seconds: float
    seconds: float
    bytes: int


@dataclass(frozen=True)
class Folded:
    """A fold of the domain topics: the states, how many events, and per process (none
    when it ran in this one) how its states came back."""

    replay: Replay
    events: int
    transfers: tuple[Transfer, ...] = ()


def cpus() -> int:
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def default_jobs(spans: Mapping[Any, Any]) -> int:
    """As many processes as CPUs, at most one per partition number."""
    return max(1, min(cpus(), len({tp.partition for tp in spans})))


def split(spans: Spans, jobs: int) -> list[Spans]:
    """Partition p of every topic to share p % jobs."""
    shares: list[Spans] = [{} for _ in range(jobs)]
    for tp, span in spans.items():
        shares[tp.partition % jobs][tp] = span
    return shares


def described(share: Spans) -> str:
    """A share's partitions for people: `minsheng.appeals.v1 [1, 3, 5], ...`."""
    topics: dict[str, list[int]] = {}
    for tp in share:
        topics.setdefault(tp.topic, []).append(tp.partition)
    return ", ".join(f"{topic} {sorted(ps)}" for topic, ps in sorted(topics.items()))


async def fold(
    kafka: KafkaAccess, spans: Spans, jobs: int = 1, on_count: Counted | None = None
) -> Folded:
    """Folds `spans` in this process (jobs 1) or in `jobs` processes (at most one per
    partition number); `on_count` hears of every record read, the processes' included
    (a few times a second each)."""
    replay = domain_replay()
    jobs = min(jobs, len({tp.partition for tp in spans}))
    if jobs <= 1:
        return Folded(replay, await read(kafka, spans, replay.apply, on_count))
    shares = [share for share in split(spans, jobs) if share]
    transfers = await asyncio.to_thread(_fold_in_processes, kafka, shares, replay, on_count)
    return Folded(replay, sum(t.events for t in transfers), tuple(transfers))


@dataclass
class _Process:
    """One process of the fold, from the parent's side."""

    number: int
    of: int
    share: Spans
    process: BaseProcess
    pipe: Connection
    started_at: float  # time.monotonic(), the same clock in every process
    bytes: int = 0  # of the states received so far
    transfer: Transfer | None = None
    error: str = ""
    closed: bool = False

    @classmethod
    def start(cls, number: int, of: int, kafka: KafkaAccess, share: Spans) -> _Process:
        started_at = time.monotonic()
        reader, writer = CONTEXT.Pipe(duplex=False)
        process = CONTEXT.Process(
            target=_fold_share, args=(kafka, share, writer), name=f"rebuild-{number}", daemon=True
        )
        process.start()
        writer.close()  # the child's end is the child's: its death closes the pipe here
        return cls(number, of, share, process, reader, started_at)

    def receive(self, replay: Replay, on_count: Counted | None) -> None:
        """Takes the next message: a count, states, the end, or the error it failed with."""
        try:
            message = self.pipe.recv()
            if message[0] == "states":
                payload = self.pipe.recv_bytes()
        except EOFError:  # it ended, or died mid-message
            self.closed = True
            return
        if message[0] == "count" and on_count is not None:
            on_count(message[1])
        elif message[0] == "states":  # merged at once, while the process sends the next
            replay.merge({message[1]: marshal.loads(payload)}, {}, 0)
            self.bytes += len(payload)
        elif message[0] == "done":
            _, started_at, folded_at, topics, last, rejected, events = message
            replay.merge({topic: {} for topic in topics}, last, rejected)
            self.transfer = Transfer(
                events,
                started_at - self.started_at,
                folded_at - started_at,
                time.monotonic() - folded_at,
                self.bytes,
            )
        elif message[0] == "failed":
            self.error = message[1]

    def failure(self) -> FoldFailed:
        """What went wrong, for people: which process, its partitions, how it ended."""
        self.process.join(EXIT_WAIT)
        code = self.process.exitcode
        if self.error:
            how = f"failed: {self.error}"
        elif code is not None and code < 0:
            how = f"was killed by {signal.Signals(-code).name}"
        else:
            how = f"ended (exit status {code}) without its states"
        return FoldFailed(
            f"rebuild process {self.number} of {self.of} (pid {self.process.pid}; partitions "
            f"{described(self.share)}) {how}; the rebuild has no result"
        )


def _fold_in_processes(
    kafka: KafkaAccess, shares: list[Spans], replay: Replay, on_count: Counted | None
) -> list[Transfer]:
    """Starts a process per share, passes on their counts, merges their states into
    `replay`; raises FoldFailed as soon as one fails (and ends the others)."""
    processes = [_Process.start(i + 1, len(shares), kafka, s) for i, s in enumerate(shares)]
    collecting = gc.isenabled()
    gc.disable()  # decoding the states makes many objects and no cycles (see replay.read)
    try:
        waiting = {p.pipe: p for p in processes}
        while waiting:
            for pipe in wait(list(waiting)):
                process = waiting[pipe]  # type: ignore[index]
                process.receive(replay, on_count)
                if process.error or (process.closed and process.transfer is None):
                    raise process.failure()
                if process.transfer is not None:
                    del waiting[pipe]  # type: ignore[arg-type]
        return [p.transfer for p in processes if p.transfer is not None]
    finally:
        if collecting:
            gc.enable()
        for p in processes:
            if p.process.is_alive() and p.transfer is None:
                p.process.kill()  # a fold that failed elsewhere: its result is no use
            p.process.join(EXIT_WAIT)
            p.pipe.close()


class _Reporter:
    """A process's counts to the parent, at most every REPORT_EVERY seconds."""

    def __init__(self, pipe: Connection) -> None:
        self.pipe, self.unsent, self.sent_at = pipe, 0, time.monotonic()

    def count(self, n: int) -> None:
        self.unsent += n
        if time.monotonic() - self.sent_at >= REPORT_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.unsent:
            self.pipe.send(("count", self.unsent))
        self.unsent, self.sent_at = 0, time.monotonic()


def _fold_share(kafka: KafkaAccess, share: Spans, pipe: Connection) -> None:
    """A process of the fold: reads and folds its share, sends its states, and ends."""
    gc.disable()  # the process ends after the fold: nothing it holds needs collecting
    started_at = time.monotonic()
    try:
        replay = domain_replay()
        reporter = _Reporter(pipe)
        events = asyncio.run(read(kafka, share, replay.apply, reporter.count))
        reporter.flush()
        folded_at = time.monotonic()
        for topic, table in replay.states.items():
            states = iter(table.items())
            while chunk := dict(itertools.islice(states, CHUNK)):
                pipe.send(("states", topic))
                pipe.send_bytes(marshal.dumps(chunk))
        topics = list(replay.states)
        pipe.send(("done", started_at, folded_at, topics, replay.last, replay.rejected, events))
    except BaseException as e:
        pipe.send(("failed", f"{type(e).__name__}: {e}"))
        pipe.close()
        os._exit(1)
    pipe.close()
    os._exit(0)  # at once: freeing every state one by one would only delay the parent's join
