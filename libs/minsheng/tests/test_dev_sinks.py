"""The dev sinks as a real process: real SMTP, real HTTP, the Standard Webhooks check."""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import time
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx
import pytest

from minsheng.platform.sinks.files import masked_number
from minsheng.platform.sinks.process import DevSinks
from minsheng.platform.sinks.signatures import sign, verify
from testkit.integration.helpers import free_port

pytestmark = pytest.mark.e2e

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PHONE = "13912345678"


@pytest.fixture(scope="module")
async def sinks(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevSinks]:
    folder = tmp_path_factory.mktemp("sinks")
    process = DevSinks(
        port=free_port(),
        smtp_port=free_port(),
        data_dir=folder / "data",
        log_file=folder / "dev-sinks.log",
    )
    await process.start()
    # written after the start, as the notifications service writes it on its first start
    (folder / "data" / "webhook-secrets.json").write_text(json.dumps({"unit-1": SECRET}))
    yield process
    await process.stop()


async def post_hook(
    sinks: DevSinks, recipient: str, body: bytes, msg_id: str, signature: str | None = None
) -> httpx.Response:
    stamp = int(time.time())
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature or sign(SECRET, msg_id, stamp, body),
        "content-type": "application/json",
    }
    async with httpx.AsyncClient() as client:
        return await client.post(sinks.hook_url(recipient), content=body, headers=headers)


def lines_of(sinks: DevSinks, name: str, **match: object) -> list[dict[str, object]]:
    return [r for r in sinks.received(name) if all(r.get(k) == v for k, v in match.items())]


def text_of(eml: Path) -> str:
    caught = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert isinstance(caught, EmailMessage)
    return str(caught.get_content()).strip()


def test_the_specifications_example_signature() -> None:
    body = b'{"test": 2432232314}'
    msg_id, stamp = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert sign(SECRET, msg_id, stamp, body) == expected
    assert verify(SECRET, msg_id, str(stamp), f"v1,bad {expected}", body, now=stamp + 10)
    assert not verify(SECRET, msg_id, str(stamp), expected, body, now=stamp + 301)
    assert not verify(SECRET, msg_id, str(stamp), expected, body + b" ", now=stamp)
    assert not verify(SECRET, "msg_other", str(stamp), expected, body, now=stamp)
    assert not verify(None, msg_id, str(stamp), expected, body, now=stamp)


async def test_a_signed_webhook_is_accepted_and_a_wrong_signature_refused(
    sinks: DevSinks,
) -> None:
    body = json.dumps({"type": "AppealDispatched", "appeal": "BC-1"}).encode()
    good = await post_hook(sinks, "unit-1", body, "msg_good")
    assert good.status_code == 200, good.text
    wrong = await post_hook(sinks, "unit-1", body, "msg_wrong", signature="v1,AAAA")
    assert wrong.status_code == 401
    unknown = await post_hook(sinks, "unit-2", body, "msg_unknown")  # no secret for it
    assert unknown.status_code == 401
    [line] = lines_of(sinks, "webhooks.jsonl", **{"webhook-id": "msg_good"})
    assert line["recipient"] == "unit-1"
    assert line["signature_valid"] is True
    assert line["body"] == {"type": "AppealDispatched", "appeal": "BC-1"}
    assert [r["signature_valid"] for r in lines_of(sinks, "webhooks.jsonl", status=401)] == [
        False,
        False,
    ]


async def test_an_email_is_caught_as_eml_and_a_line(sinks: DevSinks) -> None:
    message = EmailMessage()
    message["From"] = "notifications@minsheng.local"
    message["To"] = "zhujian@baicheng.example"
    message["Subject"] = "新诉求 BC-20191001-0001"
    message.set_content("请在 2019-10-10 前办结。")
    await aiosmtplib.send(message, hostname="127.0.0.1", port=sinks.smtp_port)
    [line] = lines_of(sinks, "mail.jsonl", subject="新诉求 BC-20191001-0001")
    assert line["to"] == ["zhujian@baicheng.example"]
    assert line["from"] == "notifications@minsheng.local"
    eml = Path(str(line["file"]))
    assert eml.parent == sinks.folder / "mail"
    assert text_of(eml) == "请在 2019-10-10 前办结。"


async def test_an_sms_is_kept_with_its_number_masked(sinks: DevSinks) -> None:
    request = {"to": PHONE, "text": f"您的诉求已办结 ({PHONE})", "reference": "d_sms_1"}
    async with httpx.AsyncClient() as client:
        answer = await client.post(sinks.sms_url, json=request)
        bad = await client.post(sinks.sms_url, json={"to": PHONE})
    assert answer.status_code == 200, answer.text
    assert answer.json()["message_id"]
    assert bad.status_code == 400
    [line] = lines_of(sinks, "sms.jsonl", reference="d_sms_1")
    assert line["to"] == "139****5678"
    assert line["to_sha256"] == hashlib.sha256(PHONE.encode()).hexdigest()
    assert PHONE not in (sinks.folder / "sms.jsonl").read_text()
    assert sinks.log_file is not None
    assert PHONE not in sinks.log_file.read_text()


async def test_a_fault_answers_a_few_requests_then_clears(sinks: DevSinks) -> None:
    body = b'{"n": 1}'
    async with httpx.AsyncClient() as client:
        fault = {"status": 503, "times": 2, "retry_after": 3}
        assert (await client.put(f"{sinks.url}/control/faults/hooks/unit-1", json=fault)).is_success
        first = await post_hook(sinks, "unit-1", body, "msg_retried")
        second = await post_hook(sinks, "unit-1", body, "msg_retried")
        third = await post_hook(sinks, "unit-1", body, "msg_retried")
        bad = await client.put(f"{sinks.url}/control/faults/sms", json={"status": 99})
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]
    assert first.headers["retry-after"] == "3"
    assert bad.status_code == 400
    statuses = [
        r["status"] for r in lines_of(sinks, "webhooks.jsonl", **{"webhook-id": "msg_retried"})
    ]
    assert statuses == [503, 503, 200]


def test_numbers_are_masked_however_written() -> None:
    assert masked_number("13912345678") == "139****5678"
    assert masked_number("+86 139-1234-5678") == "139****5678"
    assert masked_number("0436-1234567") == "0436*****67"
    assert masked_number("12345") == "****2345"
