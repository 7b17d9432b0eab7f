"""Background jobs a service's `Runtime` runs: a periodic tick, an intake consumer.

Appeals and projects both fire durable timers on a tick and take other systems' events
from an intake topic; the loops are the same, only the step and the handler differ.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from minsheng.consumer import BatchHandler, EventConsumer, Handler
from minsheng.db import Conn
from minsheng.events import ParsedEvent, Registry
from minsheng.service import Job, Runtime

log = logging.getLogger(__name__)


def periodic(what: str, interval: float, step: Callable[[Runtime], Awaitable[int]]) -> Job:
    """Runs `step` every `interval` seconds until cancelled; a failing step is logged and
    retried on the next tick, never ending the job. `step` returns how much it did."""

    async def tick_forever(runtime: Runtime) -> None:
        while True:
            try:
                done = await step(runtime)
                if done:
                    log.info("%s: %d done", what, done)
            except Exception:
                log.exception("%s failed; retrying in %.1fs", what, interval)
            await asyncio.sleep(interval)

    tick_forever.__name__ = what
    return tick_forever


async def first_sighting(conn: Conn, table: str, event: ParsedEvent) -> bool:
    """Records an intake event's CloudEvents identity (source, id) in `table`; False if
    it was seen before, under whatever subject or sequence: once is enough, for good."""
    first = await conn.fetchval(
        f"""INSERT INTO {table} (source, event_id) VALUES ($1, $2)
            ON CONFLICT DO NOTHING RETURNING true""",
        event.envelope.source,
        event.envelope.id,
    )
    return bool(first)


def consumer_job(
    *,
    topic: str | Sequence[str],
    group: str,
    registry: Registry,
    handler: Handler | None = None,
    batch_handler: BatchHandler | None = None,
    aliases: Mapping[str, str] | None = None,
) -> Job:
    """The job consuming `topic` (or several) through the shared `EventConsumer`
    (sequence checks, transactions, dead letters with the reason); give `handler`, or
    `batch_handler` to apply each fetch in one transaction; `aliases` maps configured
    names of domain topics to theirs in `minsheng.topics`, whose owners they check."""
    topics = [topic] if isinstance(topic, str) else list(topic)

    async def intake_consumer(runtime: Runtime) -> None:
        await EventConsumer(
            service=runtime.service,
            topics=topics,
            group_id=group,
            registry=registry,
            handler=handler,
            batch_handler=batch_handler,
            pool=runtime.db(),
            kafka=runtime.settings.kafka,
            aliases=aliases or {},
        ).run()

    return intake_consumer
