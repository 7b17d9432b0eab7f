"""`minsheng-analytics rebuild`: fold the domain topics again from their first offset and
show that the counters equal those the workers hold.

    minsheng-analytics rebuild [--jobs N] [--no-progress] [--write]

It takes the end offsets of the domain topics, folds every event up to them through the
same pure rules the workers use (parse, sequence guard, apply) with a progress bar on
stderr (events done, events/s, ETA), in N processes side by side (partition p of every
topic in process p % N; by default one per CPU, at most one per partition; `--jobs 1`
folds in this process; a process that fails or is killed fails the rebuild, exit 3,
naming its partitions), then reads the workers' state as they would recover
it (the tables' changelog topics, last value per key) and compares the figures of both at
one instant: every metric sample and every KPI. It prints the comparison and exits 1 if
anything differs. It writes nothing, so it is safe while the workers run; when they are
busy, a difference can be work in progress: run it again at a quiet moment.

With `--write` (the workers stopped: it refuses while the consumer group has members) it
then makes the workers' state the rebuilt one: it writes every rebuilt state to the
tables' changelogs, a tombstone for every state the rebuild has not, and offset markers
at the end offsets it folded up to, reads the changelogs back and compares again. Workers
started afterwards recover exactly that and go on from there. This is how a fix to a
counting rule reaches the states of the past.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from typing import TextIO

import rich.progress
from rich.console import Console

from analytics import offsets, state_codec
from analytics.aggregate import share
from analytics.app import AnalyticsSettings, changelog_topic
from analytics.changelog import ChangelogWriter
from analytics.counting import Figures, State
from analytics.fold_processes import Folded, FoldFailed, default_jobs, fold
from analytics.kpis import aggregates, report
from analytics.replay import Record, Records, Replay, read_until_end, spans_of
from analytics.tables import TABLES


class Progress:
    """The rebuild's progress bar on stderr (rich): events done of total, events/s, ETA.
    On a terminal it redraws in place; to a file or pipe rich writes its final line."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.started = time.monotonic()
        self.bar = rich.progress.Progress(
            rich.progress.TextColumn("rebuild"),
            rich.progress.BarColumn(bar_width=24),
            rich.progress.TextColumn("{task.completed:,.0f}/{task.total:,.0f} events"),
            rich.progress.TextColumn("{task.fields[speed]:,.0f} events/s"),
            rich.progress.TextColumn("ETA"),
            rich.progress.TimeRemainingColumn(),
            console=Console(file=out or sys.stderr, width=120),
        )
        self.task = self.bar.add_task("rebuild", total=0, speed=0.0)
        self.bar.start()

    @property
    def total(self) -> int:
        return int(self.bar.tasks[0].total or 0)

    @total.setter
    def total(self, total: int) -> None:
        self.started = time.monotonic()
        self.bar.update(self.task, total=total)

    def advance(self, n: int = 1) -> None:
        done = self.bar.tasks[0].completed + n
        elapsed = time.monotonic() - self.started
        self.bar.update(self.task, completed=done, speed=done / elapsed if elapsed > 0 else 0.0)

    def finish(self) -> None:
        self.bar.stop()


def changelog_states() -> tuple[dict[str, dict[str, State]], Records]:
    """The tables as a worker recovers them: last value per key, a tombstone deletes."""
    tables: dict[str, dict[str, State]] = {}

    def on_record(record: Record) -> None:
        topic, key, value = record.topic, record.key, record.value
        if key is None or offsets.is_marker(json.loads(key)):
            return
        if value is not None and state_codec.is_shape_value(value):
            state_codec.learn(value)  # before the states of its shape on this partition
            return
        table = tables.setdefault(topic, {})
        if value is None:
            table.pop(json.loads(key), None)
        else:
            table[json.loads(key)] = state_codec.decode(value)

    return tables, on_record


def figures_of(states: dict[str, dict[str, State]], topics: list[str], now: datetime) -> Figures:
    appeals, projects, notifications = (list(states.get(t, {}).values()) for t in topics)
    return share(aggregates(appeals, projects, notifications), now)


def compare(before: Figures, after: Figures, now: datetime) -> tuple[bool, str]:
    """Whether the figures are equal, and a report of the comparison for people."""
    lines = [f"{'figure':<58} {'workers':>10} {'rebuilt':>10}"]
    city_before, city_after = report(before, now)["city"], report(after, now)["city"]
    for name in ("received", "open", "overdue", "resolved", "resolved_on_time", "called_back"):
        lines.append(f"{'city ' + name:<58} {city_before[name]:>10} {city_after[name]:>10}")
    keys = sorted(set(before) | set(after))
    differ = [k for k in keys if before.get(k, 0) != after.get(k, 0)]
    for name, labels in differ[:50]:
        label = f"{name}{{{','.join(labels)}}}"
        lines.append(
            f"{label[:58]:<58} {before.get((name, labels), 0):>10} "
            f"{after.get((name, labels), 0):>10}  DIFFERS"
        )
    verdict = (
        f"all {len(keys)} figures equal (every metric sample and KPI input)"
        if not differ
        else f"{len(differ)} of {len(keys)} figures differ"
    )
    return not differ, "\n".join([*lines, verdict])


async def rebuild(
    settings: AnalyticsSettings,
    show_progress: bool,
    out: TextIO,
    write: bool = False,
    jobs: int | None = None,
) -> int:
    topics = [topic for _, topic, _, _, _ in TABLES]
    if write and (members := await _group_members(settings)):
        print(
            f"refusing to write: {members} worker(s) of group {settings.analytics_app_id!r} "
            "are running; stop them first",
            file=out,
        )
        return 2
    progress = Progress() if show_progress else None
    started = time.monotonic()
    spans = await spans_of(settings.kafka, topics)
    jobs = jobs or default_jobs(spans)
    if progress is not None:
        progress.total = sum(end - start for start, end in spans.values())
    try:
        folded = await fold(settings.kafka, spans, jobs, progress.advance if progress else None)
    except FoldFailed as e:
        print(f"rebuild failed: {e}", file=out)
        return 3
    finally:
        if progress is not None:
            progress.finish()
    seconds = time.monotonic() - started
    replay, events = folded.replay, folded.events
    changelogs = [changelog_topic(settings, table) for _, _, table, _, _ in TABLES]
    held, on_record = changelog_states()
    await read_until_end(settings.kafka, changelogs, on_record)
    now = datetime.now(UTC)
    after = figures_of(replay.states, topics, now)
    equal, text = compare(figures_of(held, changelogs, now), after, now)
    print(
        f"rebuilt from {events:,} events in {seconds:.1f} s "
        f"({replay.rejected:,} rejected as the workers did), as of {now.isoformat()}",
        file=out,
    )
    if folded.transfers:
        print(processes(folded), file=out)
    print(text, file=out)
    if not write:
        return 0 if equal else 1
    written = await _write(settings, replay, held, dict(zip(topics, changelogs, strict=True)))
    print(written, file=out)
    held, on_record = changelog_states()
    await read_until_end(settings.kafka, changelogs, on_record)
    equal, text = compare(figures_of(held, changelogs, now), after, now)
    print("the changelogs now:", text, sep="\n", file=out)
    return 0 if equal else 1


def processes(folded: Folded) -> str:
    """How the fold was shared out, and what bringing its states back cost."""
    transfers = folded.transfers
    return (
        f"folded in {len(transfers)} processes (partition p of every topic in process "
        f"p % {len(transfers)}): {', '.join(f'{t.events:,}' for t in transfers)} events; "
        f"each started {max(t.start_seconds for t in transfers):.1f} s at most after the "
        f"rebuild and folded in {max(t.fold_seconds for t in transfers):.1f} s at most; "
        f"their states came back as {sum(t.bytes for t in transfers) / 1e6:,.1f} MB, "
        f"in {max(t.seconds for t in transfers):.2f} s at most from a fold's end"
    )


async def _group_members(settings: AnalyticsSettings) -> int:
    """How many members the workers' consumer group has now."""
    admin = settings.kafka.admin()
    await admin.start()
    try:
        responses = await admin.describe_consumer_groups([settings.analytics_app_id])
    finally:
        await admin.close()
    return sum(len(group["members"]) for r in responses for group in r.to_object()["groups"])


async def _write(
    settings: AnalyticsSettings,
    replay: Replay,
    held: dict[str, dict[str, State]],
    changelogs: dict[str, str],
) -> str:
    """The rebuilt states, tombstones for the others and markers, to every changelog."""
    writer = ChangelogWriter(settings.kafka)
    states = tombstones = 0
    try:
        for topic, changelog in changelogs.items():
            rebuilt = replay.states.get(topic, {})
            gone = {
                key: state["partition"]
                for key, state in held.get(changelog, {}).items()
                if key not in rebuilt
            }
            await writer.write(changelog, rebuilt, replay.last.get(topic, {}), gone)
            states, tombstones = states + len(rebuilt), tombstones + len(gone)
    finally:
        await writer.stop()
    markers = sum(len(last) for last in replay.last.values())
    return (
        f"wrote {states:,} states, {tombstones:,} tombstones and {markers} offset markers "
        "to the changelogs: workers started now recover them and go on from there"
    )


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="minsheng-analytics rebuild", description=__doc__)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--write",
        action="store_true",
        help="make the workers' state the rebuilt one (stop the workers first)",
    )
    parser.add_argument(
        "--jobs",
        type=_positive,
        metavar="N",
        help="fold in N processes (default: one per CPU, at most one per partition; "
        "1: in this process)",
    )
    args = parser.parse_args(argv)
    settings = AnalyticsSettings()
    return asyncio.run(
        rebuild(settings, not args.no_progress, out, write=args.write, jobs=args.jobs)
    )


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"need a whole number >= 1, not {text!r}")
    return int(text)
