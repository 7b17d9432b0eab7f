"""Over the real broker and database: numbers typed into any free text of an appeal's
life reach Kafka masked, while the appeal keeps its title and description as typed."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import httpx
import pytest

from minsheng.platform.kafka import KafkaBroker
from minsheng.topics import APPEALS
from testkit.integration.appeals import APPEAL, BUREAU, STREET_OFFICE, act
from testkit.integration.apps import app_pool, grant
from testkit.integration.helpers import Records, read_topic

pytestmark = pytest.mark.integration

# The same numbers in other written forms each time, with the digits that must not leave
TYPED = {
    "title": ("请回电13912345678", "13912345678"),
    "description": ("身份证22080219900101123X，座机(0436)1234567", "22080219900101123X"),
    "return": ("已联系+86 139-1234-5678，不属本单位", "13912345678"),
    "resolution": ("已处理，有问题拨 139 1234 5678 或 0436-7654321", "13912345678"),
    "comment": ("我的电话0086 13987654321，还是没修好", "13987654321"),
    "note": ("复核人身份证 220802 19900101 1234", "220802199001011234"),
}
SECRETS = ("13912345678", "13987654321", "22080219900101123X", "220802199001011234")
LANDLINES = ("1234567", "7654321")


def strings(doc: Any) -> list[str]:
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        return [s for v in doc.values() for s in strings(v)]
    if isinstance(doc, list):
        return [s for v in doc for s in strings(v)]
    return []


async def test_numbers_in_an_appeals_free_text_never_reach_kafka_in_full(
    client: httpx.AsyncClient, kafka: KafkaBroker
) -> None:
    pool = app_pool(client)  # other tests' databases share the broker: numbers of our own
    await pool.execute(f"ALTER SEQUENCE appeal_number RESTART WITH {random.randint(1000, 999999)}")
    office = await grant(client, "unit", STREET_OFFICE)
    bureau = await grant(client, "unit", BUREAU)
    body = {**APPEAL, "title": TYPED["title"][0], "description": TYPED["description"][0]}
    appeal = (await client.post("/v1/appeals", json=body)).json()["id"]
    await act(client, appeal, "return", {"reason": TYPED["return"][0]}, office)
    await act(client, appeal, "dispatch", {"unit": BUREAU})
    await act(client, appeal, "accept", headers=bureau)
    await act(client, appeal, "resolve", {"resolution": TYPED["resolution"][0]}, bureau)
    callback = {"rating": "dissatisfied", "reason": "handling", "comment": TYPED["comment"][0]}
    await act(client, appeal, "callback", callback)  # reopens it
    await act(client, appeal, "close", {"outcome": "invalid", "note": TYPED["note"][0]})

    def mine(records: Records) -> list[bytes]:
        return [r.value for r in records if r.key == appeal.encode()]

    records = await read_topic(kafka.access(), APPEALS, until=lambda rs: len(mine(rs)) >= 9)
    raw = mine(records)
    events = [json.loads(value) for value in raw]
    assert [e["type"].split(".")[1] for e in events][-4:] == [
        "AppealResolved",
        "SatisfactionRecorded",
        "AppealReopened",
        "AppealClosed",
    ]
    digits = [re.sub(r"[^0-9X]", "", s) for e in events for s in strings(e["data"])]
    for secret in (*SECRETS, *LANDLINES):
        assert not any(secret in d for d in digits), secret
    for value in raw:
        assert not any(secret.encode() in value for secret in SECRETS)
    published = json.dumps([e["data"] for e in events], ensure_ascii=False)
    for masked in ("139-****-5678", "139 **** 5678", "139****4321", "2208**********123X"):
        assert masked in published
    assert "(0436)*****67" in published
    assert {e["subject"] for e in events} == {appeal}  # ids are not mangled
    assert {e["data"].get("appeal_id", e["data"].get("subject_id")) for e in events} == {appeal}

    kept = await pool.fetchrow("SELECT title, description FROM appeals WHERE id = $1", appeal)
    assert kept is not None
    assert (kept["title"], kept["description"]) == (body["title"], body["description"])
