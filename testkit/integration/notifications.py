"""Real servers for the integration tests: a webhook/SMS/contacts sink over HTTP and an
SMTP server, on free ports; the notifications app wired to them; events onto Kafka.

The sink checks webhook signatures with its own reading of the Standard Webhooks
specification (not the service's code), answers from a script per path, and stands in
for the appeals contact endpoint and the SMS gateway.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

from minsheng.clock import CITY_TZ, Clock
from minsheng.events import CloudEvent
from minsheng.kafka import KafkaAccess
from minsheng.topics import OWNERS, PROJECTS, TopicSpec, dlq, ensure_topics
from notifications.settings import DIRECTORY_FILE
from testkit.integration.apps import notifications_client
from testkit.integration.helpers import free_port, publish_values

DAYTIME = datetime(2026, 12, 1, 10, 0, tzinfo=CITY_TZ)
CONTACT_KEY = "msk_test-system-key-for-contacts"
PHONE = "13912345678"


@dataclass
class RunningClock:
    """Real time's pace from a chosen start (backoffs still come due), movable by hand:
    the tests' days begin at 10:00 city time, out of the citizens' quiet hours."""

    start: datetime
    started: float = field(default_factory=time.monotonic)

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.started)

    def advance(self, **delta: float) -> None:
        self.start += timedelta(**delta)


@dataclass
class Hook:
    recipient: str
    webhook_id: str
    timestamp: str
    signature_valid: bool
    body: dict[str, Any]


@dataclass
class Sink:
    """Webhooks at /hooks/{recipient}, the SMS gateway at /sms, contacts at /v1/contacts."""

    secrets_file: Path
    port: int = field(default_factory=free_port)
    script: dict[str, list[int]] = field(default_factory=dict)  # path -> statuses to answer
    delays: dict[str, float] = field(default_factory=dict)  # path -> seconds before answering
    hooks: list[Hook] = field(default_factory=list)
    sms: list[dict[str, Any]] = field(default_factory=list)
    lookups: list[dict[str, str]] = field(default_factory=list)
    phones: dict[str, str] = field(default_factory=dict)  # contact_ref -> number
    seen: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, path: str) -> int:
        queue = self.script.get(path)
        return queue.pop(0) if queue else 200

    def verify(self, recipient: str, headers: Any, body: bytes) -> bool:
        """Standard Webhooks, read afresh: HMAC-SHA256 of "id.timestamp.body" with the
        base64-decoded secret after `whsec_`, compared with every `v1,` signature."""
        secret = json.loads(self.secrets_file.read_text())[recipient]
        key = base64.b64decode(secret.split("_", 1)[1])
        content = b".".join(
            [headers["webhook-id"].encode(), headers["webhook-timestamp"].encode(), body]
        )
        expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
        offered = [s.split(",", 1) for s in headers["webhook-signature"].split(" ")]
        return any(v == "v1" and hmac.compare_digest(sig, expected) for v, sig in offered)

    async def hook(self, request: web.Request) -> web.Response:
        recipient = request.match_info["recipient"]
        body = await request.read()
        self.hooks.append(
            Hook(
                recipient,
                request.headers["webhook-id"],
                request.headers["webhook-timestamp"],
                self.verify(recipient, request.headers, body),
                json.loads(body),
            )
        )
        await asyncio.sleep(self.delays.get(request.path, 0.0))  # a slow receiver
        return web.Response(status=self.answer(request.path))

    async def gateway(self, request: web.Request) -> web.Response:
        self.sms.append({**await request.json(), "auth": request.headers.get("authorization")})
        status = self.answer(request.path)
        return web.json_response({"message_id": uuid.uuid4().hex}, status=status)

    async def contact(self, request: web.Request) -> web.Response:
        ref = request.match_info["ref"]
        self.lookups.append(
            {
                "ref": ref,
                "auth": request.headers.get("authorization", ""),
                "purpose": request.headers.get("x-purpose", ""),
            }
        )
        if request.headers.get("authorization") != f"Bearer {CONTACT_KEY}":
            return web.json_response({"title": "Forbidden"}, status=403)
        if ref not in self.phones:
            return web.json_response({"title": "Not Found"}, status=404)
        return web.json_response({"contact_ref": ref, "phone": self.phones[ref]})

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Sink]:
        app = web.Application()
        app.router.add_post("/hooks/{recipient}", self.hook)
        app.router.add_post("/sms", self.gateway)
        app.router.add_get("/v1/contacts/{ref}", self.contact)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        try:
            yield self
        finally:
            await runner.cleanup()


class Mailbox:
    """An aiosmtpd handler keeping what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = free_port()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Mailbox]:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(partial(SMTP, self), "127.0.0.1", self.port)
        try:
            yield self
        finally:
            server.close()
            await server.wait_closed()


def local_directory(folder: Path, sink: Sink) -> Path:
    """The default directory with every webhook pointing at the test's sink."""
    path = folder / "directory.yaml"
    text = DIRECTORY_FILE.read_text(encoding="utf-8").replace("http://127.0.0.1:8025", sink.url)
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class World:
    client: httpx.AsyncClient
    sink: Sink
    mailbox: Mailbox
    topics: Sequence[str]
    kafka: KafkaAccess
    settings: dict[str, Any]

    async def publish(self, *events: CloudEvent, topic: str | None = None) -> None:
        """Each event onto `topic`, else onto the topic its source owns (appeals, projects)."""
        by_topic: dict[str, list[CloudEvent]] = defaultdict(list)
        for event in events:
            home = self.topics[1] if event.source == OWNERS[PROJECTS] else self.topics[0]
            by_topic[topic or home].append(event)
        for name, batch in by_topic.items():
            await publish_values(
                self.kafka, name, [e.to_json() for e in batch], keys=[e.key for e in batch]
            )


@asynccontextmanager
async def world(
    folder: Path,
    server_url: str,
    kafka: KafkaAccess,
    topics: Sequence[str],
    *,
    clock: Clock | None = None,
    database_suffix: str | None = None,
    group: str | None = None,
    sink: Sink | None = None,
    **settings: Any,
) -> AsyncIterator[World]:
    """Sink, mailbox and the app wired to them, consuming `topics` (appeals, projects; a
    projects topic of its own is made beside a lone appeals one: each has one owner)."""
    if len(topics) == 1:
        projects = f"{topics[0]}.projects"
        await ensure_topics(kafka, [TopicSpec(t, 6, 1, {}) for t in (projects, dlq(projects))])
        topics = [topics[0], projects]
    the_sink = sink or Sink(folder / "webhook-secrets.json")
    mailbox = Mailbox()
    config: dict[str, Any] = {
        "appeals_topic": topics[0],
        "projects_topic": topics[1],
        "consumer_group": group or f"notifications-{uuid.uuid4().hex[:8]}",
        "data_dir": folder,
        "directory_file": local_directory(folder, the_sink),
        "smtp_port": mailbox.port,
        "sms_gateway_url": f"{the_sink.url}/sms",
        "appeals_url": the_sink.url,
        "appeals_key": CONTACT_KEY,
        "retry_base": 0.05,
        "retry_max": 0.2,
        "worker_interval": 0.1,
        "attempt_timeout": 5.0,
        **settings,
    }
    async with (
        the_sink.running(),
        mailbox.running(),
        notifications_client(
            server_url,
            kafka,
            database_suffix=database_suffix,
            clock=clock or RunningClock(DAYTIME),
            **config,
        ) as client,
    ):
        yield World(client, the_sink, mailbox, topics, kafka, config)
