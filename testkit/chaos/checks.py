"""The invariants at quiescence, against the source databases and what reached the outside:

- every 201 has its appeal (or project) and all its events, and no outbox row is left
  unpublished; each outbox event is on its topic (extra copies are counted, they are the
  at-least-once the consumers' sequence guard absorbs);
- `/v1/counters` and `/metrics` equal the ground truth: every event of the three outboxes
  folded by the analytics rules (as `minsheng-analytics rebuild` folds the topics), and,
  independently of those rules, the appeals counted by SQL per district, category, channel;
- every delivery went out once per (event, recipient, channel): one accepted receipt at
  the sinks for each delivered row, none for the others, and no receipt twice, but for
  the one repeat that at-least-once delivery cannot avoid: notifications killed after a
  request was sent and before its answer was written. Such a repeat is counted apart,
  and only when the kill came at most `IN_FLIGHT` seconds before the first receipt (the
  request was on its way) or `CRASH_WINDOW` after it (the answer was being written);
  the receiver dedupes by `webhook-id`, stable across attempts.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from itertools import pairwise
from pathlib import Path
from typing import Any

from analytics.collector import FiguresCollector, LightsCollector
from analytics.kpis import report
from analytics.lights import THRESHOLDS_FILE, load_thresholds, unit_months
from analytics.rebuild import figures_of
from analytics.replay import domain_replay, read_until_end
from analytics.tables import TABLES
from analytics.windows import local_month
from minsheng.kafka import KafkaAccess
from minsheng.relay import HEADERS
from testkit.chaos.platform import SOURCES, Platform
from testkit.chaos.report import Findings
from testkit.e2e.analytics import counters, scrape
from testkit.unit.counters import Samples, metric_samples

TOPICS = [topic for _, topic, _, _, _ in TABLES]


@dataclass(frozen=True)
class OutboxRow:
    """The fields of a `Record` that `Replay.apply` reads, from an outbox row."""

    topic: str
    partition: int
    offset: int
    value: bytes
    headers: Any
    event_id: str
    aggregate_id: str
    created_at: datetime
    published: bool


async def outbox(platform: Platform) -> list[OutboxRow]:
    """Every event the services wrote, in their databases' order."""
    rows: list[OutboxRow] = []
    for service in SOURCES:
        for r in await platform.fetch(
            service,
            "SELECT id, topic, aggregate_id, event_id, payload, created_at, published_at"
            " FROM outbox ORDER BY id",
        ):
            rows.append(
                OutboxRow(
                    r["topic"],
                    0,
                    r["id"],
                    r["payload"].encode(),
                    HEADERS,
                    str(r["event_id"]),
                    r["aggregate_id"],
                    r["created_at"],
                    r["published_at"] is not None,
                )
            )
    return rows


async def topic_copies(kafka: KafkaAccess) -> Counter[str]:
    """How many times each event id is on the domain topics."""
    found: Counter[str] = Counter()

    def on_record(record: Any) -> None:
        found[str(json.loads(record.value)["id"])] += 1

    await read_until_end(kafka, TOPICS, on_record)
    return found


THRESHOLDS = load_thresholds(THRESHOLDS_FILE)  # the platform runs with the shipped file


def truth(rows: Sequence[OutboxRow], now: datetime) -> tuple[dict[str, Any], Samples]:
    """/v1/counters (without `as_of`) and the metrics the outboxes' events must give."""
    replay = domain_replay()
    for row in rows:
        replay.apply(row)  # type: ignore[arg-type,unused-ignore]  # the fields it reads
    figures = figures_of(replay.states, TOPICS, now)
    expected = report(figures, now)
    expected.pop("as_of", None)
    # this month's traffic lights, as the worker holding appeals partition 0 adds them
    lights = LightsCollector(unit_months(figures, local_month(now)), THRESHOLDS)
    families = [*FiguresCollector(lambda: figures).collect(), *lights.collect()]
    return expected, metric_samples(families)


def check_events(
    f: Findings, rows: Sequence[OutboxRow], copies: Counter[str], created: dict[str, list[str]]
) -> None:
    """Every 201 has its aggregate's events, every event is published and on its topic."""
    pending = [r.event_id for r in rows if not r.published]
    if pending:
        f.fail(f"{len(pending)} outbox rows left unpublished")
    f.lost_events = {r.event_id for r in rows if copies[r.event_id] == 0}
    if f.lost_events:
        f.fail(f"{len(f.lost_events)} events never reached their topic")
    f.copies = {r.event_id: copies[r.event_id] for r in rows}
    unknown = set(copies) - {r.event_id for r in rows}
    if unknown:
        f.fail(f"{len(unknown)} events on the topics that no outbox wrote")
    with_events = {r.aggregate_id for r in rows}
    for path, ids in created.items():
        missing = [i for i in ids if i not in with_events]
        if missing:
            f.fail(f"{len(missing)} of the {len(ids)} created by POST {path} have no events")


async def check_stored(f: Findings, platform: Platform, created: dict[str, list[str]]) -> None:
    """Every appeal and project that was answered 201 is in its service's database."""
    for service, path in (("appeals", "/v1/appeals"), ("projects", "/v1/projects")):
        stored = {str(r["id"]) for r in await platform.fetch(service, f"SELECT id FROM {service}")}
        if missing := [i for i in created[path] if i not in stored]:
            f.fail(f"{len(missing)} {service} answered 201 but are not in the database")


async def received_by_sql(platform: Platform) -> Counter[tuple[str, str, str]]:
    rows = await platform.fetch(
        "appeals",
        "SELECT district, category, channel, count(*) AS n FROM appeals GROUP BY 1, 2, 3",
    )
    return Counter({(r["district"], r["category"], r["channel"]): int(r["n"]) for r in rows})


CRASH_WINDOW = 2.0  # seconds from a receiver's answer to the attempt's record, at worst
IN_FLIGHT = 0.5  # seconds a request sent just before a kill may take to be received


def receipts(sinks: Path) -> Counter[str]:
    """Accepted receipts at the dev sinks per delivery id, over every channel."""
    return Counter({i: len(times) for i, times in receipt_times(sinks).items()})


def receipt_times(sinks: Path) -> dict[str, list[float]]:
    """When each delivery was accepted at the dev sinks (wall-clock seconds, in order),
    over every channel; an e-mail's time is its file's."""
    found: dict[str, list[float]] = {}
    for name, key in (("webhooks.jsonl", "webhook-id"), ("sms.jsonl", "reference")):
        path = sinks / name
        if path.exists():
            for line in path.read_text().splitlines():
                record = json.loads(line)
                if record["status"] == 200:
                    found.setdefault(str(record[key]), []).append(record.get("received_at", 0))
    for mail in sorted((sinks / "mail").glob("*.eml")):
        delivery = message_from_bytes(mail.read_bytes()).get("X-Minsheng-Delivery")
        if delivery:
            found.setdefault(str(delivery), []).append(mail.stat().st_mtime)
    return {i: sorted(times) for i, times in found.items()}


def resent_after_kill(times: Sequence[float], kills: Sequence[float]) -> bool:
    """Each receipt after the first came after a kill of notifications that hit while
    the receipt before it was in flight or unwritten (up to `IN_FLIGHT` seconds before
    it, `CRASH_WINDOW` after): a sender killed between the send and its record, not a
    bug that sent twice."""
    return len(times) > 1 and all(
        any(a - IN_FLIGHT <= k <= a + CRASH_WINDOW and k < b for k in kills)
        for a, b in pairwise(times)
    )


async def check_deliveries(
    f: Findings, platform: Platform, kills: Sequence[float]
) -> dict[str, datetime]:
    """Once per (event, recipient, channel), `kills` being when notifications was killed
    (wall-clock seconds); returns each delivery's creation time."""
    rows = await platform.fetch("notifications", "SELECT id, status, created_at FROM deliveries")
    times = receipt_times(platform.stack.sinks.folder)
    got = Counter({i: len(t) for i, t in times.items()})
    delivered = {r["id"] for r in rows if r["status"] == "delivered"}
    f.lost_deliveries = {i for i in delivered if got[i] == 0}
    repeated = {i: n for i, n in got.items() if n > 1}
    f.resent_after_kill = {i: n for i, n in repeated.items() if resent_after_kill(times[i], kills)}
    f.duplicate_deliveries = {i: n for i, n in repeated.items() if i not in f.resent_after_kill}
    if f.lost_deliveries:
        f.fail(f"{len(f.lost_deliveries)} deliveries marked delivered but never received")
    if f.duplicate_deliveries:
        evidence = [await _evidence(platform, i, times[i], kills) for i in f.duplicate_deliveries]
        f.fail(
            f"{len(f.duplicate_deliveries)} deliveries received more than once"
            + "".join(f"\n    {line}" for lines in evidence for line in lines)
        )
    if stray := set(got) - {r["id"] for r in rows}:
        f.fail(f"{len(stray)} receipts of no delivery")
    if sent_early := [r["id"] for r in rows if r["status"] != "delivered" and got[r["id"]]]:
        f.fail(f"{len(sent_early)} deliveries received but not marked delivered")
    return {r["id"]: r["created_at"] for r in rows}


def _clock(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).strftime("%H:%M:%S.%f")[:-3]


async def _evidence(
    platform: Platform, delivery: str, times: Sequence[float], kills: Sequence[float]
) -> list[str]:
    """What a repeat needs to be explained: its receipts, the kills, its attempts."""
    attempts = await platform.fetch(
        "notifications",
        "SELECT number, at, result, response_code, error, duration_ms FROM attempts"
        " WHERE delivery_id = $1 ORDER BY number",
        delivery,
    )
    return [
        f"{delivery}: received at {', '.join(map(_clock, times))};"
        f" notifications killed at {', '.join(map(_clock, kills)) or 'no time'}",
        *(
            f"  attempt {a['number']} at {a['at'].astimezone():%H:%M:%S.%f}: {a['result']}"
            f" {a['response_code']} {a['error'] or ''} in {a['duration_ms']} ms"
            for a in attempts
        ),
    ]


async def analytics_views(url: str) -> tuple[dict[str, Any] | None, Samples]:
    return await counters(url), await scrape(url)
