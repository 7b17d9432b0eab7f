"""No full mobile or resident ID number leaves the appeals database: after every other
test of the run, every message the platform wrote to the session's Kafka broker and every
log line (the test process's records, and the log files of every process the tests
started) is scanned, and any full number fails the run. The scan's own patterns are
checked first, so that it cannot pass by finding nothing."""

from __future__ import annotations

import json

import pytest

from minsheng.platform.kafka import KafkaBroker
from testkit.integration.leaks import (
    WATCH,
    full_numbers,
    reported,
    scan_logs,
    scan_topics,
    scanned,
    texts_of,
)

SAMPLES = [
    "请回电13912345678",
    "电话 139 1234 5678 找王先生",
    "+86 139-1234-5678",
    "身份证220802199001011234",
    "身份证 22080219900101123X 已核",
]
CLEAN = [
    "诉求 BC20261201000042 已办结",
    "ntf_173e740f3039544cb548b198b7923fb6",
    "6d1f8a4e-3c1b-4e55-9a53-6e6f74696679",
    "139****5678",
    "2208**********123X",
    "1796185054065",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_the_scan_finds_a_full_number(text: str) -> None:
    assert full_numbers(text)
    assert any(full_numbers(t) for t in texts_of(json.dumps({"comment": text}).encode()))


@pytest.mark.parametrize("text", CLEAN)
def test_the_scan_leaves_ids_and_masked_numbers_alone(text: str) -> None:
    assert full_numbers(text) == []


def test_senders_topics_are_left_out_and_their_dead_letters_are_not() -> None:
    assert not scanned("minsheng.intake.appeals.v1")
    assert scanned("minsheng.intake.appeals.v1.dlq")
    assert scanned("minsheng.appeals.v1")
    assert scanned("minsheng.notifications.v1")
    assert not scanned("test.0a1b2c3d4e")
    assert scanned("test.0a1b2c3d4e.dlq")


@pytest.mark.integration
@pytest.mark.after_all
async def test_no_message_on_any_topic_holds_a_full_number(kafka: KafkaBroker) -> None:
    findings, topics = await scan_topics(kafka.access())
    found = len(findings.found)
    reported(f"{findings.read} messages of {len(topics)} topics: {found} full numbers")
    assert findings.found == []


@pytest.mark.integration
@pytest.mark.after_all
def test_no_log_line_holds_a_full_number(tmp_path_factory: pytest.TempPathFactory) -> None:
    files = scan_logs(tmp_path_factory.getbasetemp())
    reported(
        f"{files.read} log-file lines, {WATCH.findings.read} log records of the test process: "
        f"{len(files.found) + len(WATCH.findings.found)} full numbers"
    )
    assert files.found == []
    assert WATCH.findings.found == []
