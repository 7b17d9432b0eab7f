"""Standard Webhooks signatures and the secrets file."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from notifications.channels import Outgoing
from notifications.channels.posting import Poster
from notifications.channels.webhook import SecretsError, WebhookChannel, load_secrets, sign

# The example of the Standard Webhooks specification's reference libraries
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_signature_matches_the_specifications_example() -> None:
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_secrets_are_generated_once_and_completed(tmp_path: Path) -> None:
    path = tmp_path / "webhook-secrets.json"
    first = load_secrets(path, ["a", "b"], generate=True)
    assert set(first) == {"a", "b"}
    assert all(s.startswith("whsec_") for s in first.values())
    assert len(base64.b64decode(first["a"].removeprefix("whsec_"))) == 32
    again = load_secrets(path, ["a", "b", "c"], generate=True)
    assert again["a"] == first["a"]
    assert "c" in again
    assert json.loads(path.read_text()) == again
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_configured_file_must_hold_every_secret(tmp_path: Path) -> None:
    path = tmp_path / "given.json"
    with pytest.raises(SecretsError):
        load_secrets(path, ["a"], generate=False)
    path.write_text(json.dumps({"a": "whsec_" + base64.b64encode(b"k" * 32).decode()}))
    assert set(load_secrets(path, ["a"], generate=False)) == {"a"}
    with pytest.raises(SecretsError, match="no webhook secret for b"):
        load_secrets(path, ["a", "b"], generate=False)
    path.write_text(json.dumps({"a": "plain"}))
    with pytest.raises(SecretsError):
        load_secrets(path, ["a"], generate=True)


def test_an_independent_check_agrees() -> None:
    key = base64.b64decode(SPEC_SECRET.removeprefix("whsec_"))
    mac = hmac.new(key, f"{SPEC_ID}.{SPEC_TIMESTAMP}.".encode() + SPEC_BODY, hashlib.sha256)
    assert "v1," + base64.b64encode(mac.digest()).decode() == SPEC_SIGNATURE


def test_instances_generating_at_once_agree_on_the_secrets(tmp_path: Path) -> None:
    """Two instances started together in development: the second reads what the first
    wrote, or one of them would sign with secrets the receivers never see."""
    path = tmp_path / "webhook-secrets.json"
    recipients = [f"unit-{i}" for i in range(50)]
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda _: load_secrets(path, recipients, generate=True), range(8)))
    assert all(secrets == made[0] for secrets in made)
    assert json.loads(path.read_text()) == made[0]


async def test_a_receiver_that_never_answers_is_silence_within_the_client_timeout() -> None:
    """The worker adds no timer to webhooks (`bounded`): the poster's timeout
    must end the attempt, body read included, as silence (retried)."""
    hold = asyncio.Event()

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")  # headers read; never an answer
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n")  # and not the body
        await hold.wait()
        writer.close()

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    poster = Poster(timeout=0.3, limit=4)
    try:
        channel = WebhookChannel(poster, {"r": secret}, lambda: datetime.now(UTC))
        message = Outgoing("ntf_1", "r", f"http://127.0.0.1:{port}/hook", "t", "b", "{}")
        started = time.perf_counter()
        answer = await asyncio.wait_for(channel.send(message), 5)
        assert time.perf_counter() - started < 3
        assert answer.code is None
        assert answer.error == "no answer within 0.3s"
    finally:
        hold.set()
        await poster.close()
        server.close()
        await server.wait_closed()
