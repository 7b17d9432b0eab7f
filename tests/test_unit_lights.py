"""The units' traffic lights against the real broker and a real analytics worker: a
small month of appeals gives one unit green and another red on `GET /v1/units/lights`
and on `minsheng_unit_light`, with every other unit green; a bad month is a 400; and a
bad thresholds file refuses to start the worker, naming the field."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from analytics.windows import local_month
from minsheng.events import (
    AppealDispatched,
    AppealReceived,
    AppealResolved,
    AppealReturned,
    CloudEvent,
    EventData,
    SatisfactionRecorded,
)
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.services import BIN
from minsheng.reference import units
from testkit.e2e.analytics import Workers, publish
from testkit.integration.helpers import eventually
from testkit.unit.analytics import payload
from testkit.unit.events import domain_event

GOOD, POOR = "市交通运输局", "市住建局"


def story(appeal_id: str, now: datetime, *steps: EventData) -> list[CloudEvent]:
    """An appeal's events, in order, all at `now` (so in this month)."""
    received = payload(AppealReceived, received_at=now, deadline=now + timedelta(days=3))
    history = [
        data.model_copy(update={"subject_id": appeal_id})
        if isinstance(data, SatisfactionRecorded)
        else data.model_copy(update={"appeal_id": appeal_id})
        for data in (received, *steps)
    ]
    return [domain_event(data, sequence=i, time=now) for i, data in enumerate(history, 1)]


def month_of_appeals(now: datetime) -> list[CloudEvent]:
    resolved = {"resolved_at": now}
    rated = {"recorded_at": now}
    return [
        *story(
            "A-light-good",
            now,
            payload(AppealDispatched, unit=GOOD),
            payload(AppealResolved, unit=GOOD, on_time=True, **resolved),
            payload(SatisfactionRecorded, rating="satisfied", **rated),
        ),
        *story(
            "A-light-poor",
            now,
            payload(AppealDispatched, unit=POOR),
            payload(AppealReturned, unit=POOR),
            payload(AppealDispatched, unit=POOR),
            payload(AppealResolved, unit=POOR, on_time=False, **resolved),
            payload(SatisfactionRecorded, rating="dissatisfied", **rated),
        ),
    ]


@pytest.mark.e2e
async def test_lights_of_a_month_on_the_api_and_the_metric(
    private_kafka: KafkaBroker, tmp_path: Path
) -> None:
    analytics = await Workers(private_kafka.access(), tmp_path).start()
    try:
        now = datetime.now(UTC)
        await publish(private_kafka.access(), month_of_appeals(now))
        async with httpx.AsyncClient(base_url=analytics.url, timeout=5) as client:

            async def lights() -> dict[str, Any]:
                body: dict[str, Any] = (await client.get("/v1/units/lights")).json()
                return body

            def rated(body: dict[str, Any]) -> bool:
                """Every event applied: both units' resolutions rated (the last events)."""
                rows = {row["unit"]: row for row in body["by_unit"]}
                return all(rows[u]["satisfaction_responses"] == 1 for u in (GOOD, POOR))

            body = await eventually(lights, rated, timeout=60, what="every event counted")
            assert body["month"] == local_month(now)
            assert body["lights"] == {"green": len(units()) - 1, "yellow": 0, "red": 1}
            rows = {row["unit"]: row for row in body["by_unit"]}
            assert rows[GOOD]["light"] == "green"
            assert rows[GOOD]["on_time_rate"] == 1.0
            assert (rows[POOR]["on_time_rate"], rows[POOR]["satisfaction_rate"]) == (0.0, 0.0)
            assert (rows[POOR]["return_rate"], rows[POOR]["light"]) == (0.5, "red")

            text = (await client.get("/metrics")).text
            shown = {
                (s.labels["unit"], s.labels["light"]): s.value
                for family in text_string_to_metric_families(text)
                for s in family.samples
                if s.name == "minsheng_unit_light"
            }
            assert len(shown) == 3 * len(units())
            by_light = {
                c: sum(v for (_, light), v in shown.items() if light == c)
                for c in ("green", "yellow", "red")
            }
            assert by_light == body["lights"]
            assert shown[POOR, "red"] == 1
            assert shown[POOR, "green"] == 0

            earlier = (await client.get("/v1/units/lights?month=2019-10")).json()
            assert earlier["lights"]["green"] == len(units())  # nothing counted then
            for month in ("2019-13", "", "2019-1"):
                bad = await client.get("/v1/units/lights", params={"month": month})
                assert bad.status_code == 400, month
                assert bad.headers["content-type"].startswith("application/problem+json")
    finally:
        await analytics.stop()


def test_a_bad_thresholds_file_refuses_to_start_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "lights.yaml"
    bad.write_text(
        "version: 1\n"
        "green: {on_time: 0.9, satisfaction: 0.9, return_rate: 0.05}\n"
        "yellow: {on_time: 0.8, satisfaction: 2, return_rate: 0.2}\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "MINSHENG_ANALYTICS_LIGHTS_FILE": str(bad),
        "MINSHENG_KAFKA_BOOTSTRAP": "127.0.0.1:1",
    }
    done = subprocess.run(
        [str(BIN / "minsheng-analytics")], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "field 'yellow.satisfaction'" in done.stderr
