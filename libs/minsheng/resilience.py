"""Background loops that outlive outages: the relay and the consumers run on this."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)

# PostgreSQL's operator-intervention errors (57P01-57P03) are its restarts: the server
# ending connections as it stops, refusing them until it has started
OUTAGES = (
    KafkaError,
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
)
T = TypeVar("T")


async def run_forever(
    step: Callable[[], Awaitable[None]],
    *,
    what: str,
    delay: float,
    cleanup: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Runs `step` again after every failure until cancelled.

    An outage of Kafka or PostgreSQL is a warning without a trace (work waits, nothing is
    lost); anything else is logged as the bug it is, and retried all the same.
    """
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except OUTAGES as exc:
            log.warning("%s waiting for Kafka/PostgreSQL: %r", what, exc)
        except Exception:
            log.exception("%s failed; retrying in %.1fs", what, delay)
        finally:
            if cleanup is not None:
                await cleanup()
        await asyncio.sleep(delay)


async def woken(event: asyncio.Event, seconds: float) -> bool:
    """Waits until `event` is set or `seconds` pass; True if it was set. Loops that sleep
    until woken use this, not `asyncio.wait_for`: on Python 3.11 `wait_for` swallows a
    cancellation that arrives as the event is set, and the loop then outlives its
    service's shutdown (it went on retrying against a closed pool)."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True


async def until_done(
    attempt: Callable[[], Awaitable[T]], *, what: str, delay: float = 0.5, most: float = 10.0
) -> T:
    """Runs `attempt` again after every Kafka or PostgreSQL outage until it succeeds, with
    the delay doubling up to `most`: for a step that a stream must not skip (a consumer
    that goes on without it would lose what it was writing). Other errors propagate."""
    while True:
        try:
            return await attempt()
        except OUTAGES as exc:
            log.warning("%s waiting for Kafka/PostgreSQL (%r); retrying in %.1fs", what, exc, delay)
        await asyncio.sleep(delay)  # back-off, not synchronisation
        delay = min(delay * 2, most)
