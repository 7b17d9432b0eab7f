"""The personal-data scan: no full mobile or resident ID number in any message the
platform wrote to Kafka, nor in any log line, once the rest of the suite has run.

A pytest plugin (loaded by the root conftest.py). It watches every log record emitted
in the test process from the start, moves the tests marked `after_all` to the end of the
run, and gives them what to scan: the session broker's topics and the run's log files.

The patterns are the scan's own, written apart from `minsheng.masking`, so that a form
the masking misses is not missed here too for the same reason. Left out on purpose: the
intake topics and the tests' own topics (`test.*`), which hold what senders wrote
before the platform read it (an outside system's event carries the citizen's number to
the appeals database, which is where it may be); their dead-letter twins are scanned,
since those the platform writes.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiokafka import TopicPartition

from minsheng.kafka import KafkaAccess
from minsheng.logs import TextFormatter
from minsheng.topics import DLQ_SUFFIX, INTAKE_APPEALS, INTAKE_PROJECTS

_ALONE = r"(?<![0-9A-Za-z])(?<![0-9A-Za-z][-_.])"  # not part of an id, hash or UUID
_ENDS = r"(?![0-9A-Za-z])(?![-_.][0-9A-Za-z])"
MOBILE = re.compile(rf"{_ALONE}(?:(?:\+|00)?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{{4}}){{2}}{_ENDS}")
RESIDENT = re.compile(  # six digits of place, a birth date of 1900-2099, three, a check
    rf"{_ALONE}[1-9][0-9]{{5}} ?(?:19|20)[0-9]{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
    rf" ?[0-9]{{3}}[0-9Xx]{_ENDS}"
)
SENDERS_TOPICS = (INTAKE_APPEALS, INTAKE_PROJECTS)
SEGMENT = re.compile(r"[0-9]{20}\.log")  # a Kafka log segment: messages, scanned as such


def full_numbers(text: str) -> list[str]:
    """The full mobile and resident ID numbers written in `text`."""
    return [m.group(0) for pattern in (MOBILE, RESIDENT) for m in pattern.finditer(text)]


def texts_of(raw: bytes) -> Iterator[str]:
    """What a message says: the strings (and numbers) of a JSON document, decoded, so
    that escapes (\\u53f7) cannot hide a number; anything else as text."""
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        yield raw.decode("utf-8", errors="replace")
        return
    stack: list[Any] = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            yield item
        elif isinstance(item, int | float) and not isinstance(item, bool):
            yield str(item)


def scanned(topic: str) -> bool:
    """Whether the platform, not a sender, wrote `topic`'s messages."""
    if topic.endswith(DLQ_SUFFIX):
        return True
    return topic not in SENDERS_TOPICS and not topic.startswith("test.")


@dataclass
class Findings:
    """How much was read, and every full number found, with where."""

    read: int = 0
    found: list[str] = field(default_factory=list)

    def check(self, where: str, text: str) -> None:
        self.found += [f"{where}: {number}" for number in full_numbers(text)]


async def scan_topics(kafka: KafkaAccess, timeout: float = 120.0) -> tuple[Findings, list[str]]:
    """Every message (value, key and headers) of every topic the platform writes, from
    the beginning to the end offsets at the start of the scan; and the topics read."""
    findings = Findings()
    admin = kafka.admin()
    await admin.start()
    try:
        topics = sorted(t for t in await admin.list_topics() if scanned(t))
        described = await admin.describe_topics(topics) if topics else []
    finally:
        await admin.close()
    partitions = [
        TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]
    ]
    if not partitions:
        return findings, topics
    consumer = kafka.consumer(enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        left = {tp for tp, end in ends.items() if end > 0}
        deadline = time.monotonic() + timeout
        while left:
            if time.monotonic() > deadline:
                raise TimeoutError(f"scan did not reach the end of {sorted(map(str, left))}")
            batches = await consumer.getmany(*left, timeout_ms=500, max_records=2000)
            for tp, records in batches.items():
                for record in records:
                    findings.read += 1
                    where = f"{tp.topic}[{tp.partition}]@{record.offset}"
                    for text in texts_of(record.value or b""):
                        findings.check(where, text)
                    findings.check(where + " key", (record.key or b"").decode(errors="replace"))
                    for name, value in record.headers or ():
                        text = (value or b"").decode(errors="replace")
                        findings.check(f"{where} header {name}", text)
                if await consumer.position(tp) >= ends[tp]:
                    left.discard(tp)
    finally:
        await consumer.stop()
    return findings, topics


def scan_logs(root: Path) -> Findings:
    """Every line of every log file under `root` (the services', Kafka's, PostgreSQL's)."""
    findings = Findings()
    for path in sorted(root.rglob("*.log")):
        if not path.is_file() or SEGMENT.fullmatch(path.name):
            continue
        with path.open(errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                findings.read += 1
                findings.check(f"{path.relative_to(root)}:{number}", line)
    return findings


class LogWatch(logging.Handler):
    """Every record logged in the test process, checked as it is emitted, formatted as
    the services' log lines are (their formatter masks; the line is what must be clean)."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.findings = Findings()
        self.setFormatter(TextFormatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record that cannot be formatted is pytest's to report
            return
        self.findings.read += 1
        self.findings.check(f"log {record.name}", text)


WATCH = LogWatch()
REPORT: list[str] = []  # what the scan read and found, for the run's summary


def reported(line: str) -> None:
    """A line of the scan's figures, printed at the end of the run (pytest -q hides
    a test's own output)."""
    REPORT.append(line)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if REPORT:
        terminalreporter.write_sep("-", "personal-data scan")
        for line in REPORT:
            terminalreporter.write_line(line)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "after_all: runs after every other test of the run")
    logging.getLogger().addHandler(WATCH)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("after_all") is not None)
