"""The Faust application and its topics and tables."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path
from time import monotonic
from typing import Any

import faust
from faust.sensors import Monitor
from faust.transport.drivers import aiokafka as kafka_driver
from faust.types import TP
from pydantic import Field

from analytics import state_store
from analytics.lights import THRESHOLDS_FILE
from minsheng.resilience import until_done
from minsheng.settings import Settings
from minsheng.topics import dlq, ensure_topics, replicated

PARTITIONS = 6  # of the domain topics, hence of the tables (co-partitioned)
PREPARE_TIMEOUT = 120.0  # seconds to wait for the broker at start-up


class AnalyticsSettings(Settings):
    http_port: int = 8004
    analytics_app_id: str = "minsheng-analytics"
    analytics_lights_file: Path = Field(
        default=THRESHOLDS_FILE,
        description="The traffic lights' thresholds (versioned YAML), checked at start.",
    )
    analytics_advertised_url: str | None = Field(
        default=None,
        description="Where peers reach this worker's web server; by default "
        "http://<http_host, or the host name if that is 0.0.0.0>:<http_port>.",
    )
    analytics_recovery_stall_seconds: float = Field(
        default=180.0,
        ge=0,
        description="A table recovery (start, rebalance) that reads nothing new for this "
        "long makes the worker exit with status 75, to be started again; 0: never.",
    )

    @property
    def advertised_url(self) -> str:
        if self.analytics_advertised_url:
            return self.analytics_advertised_url
        host = socket.gethostname() if self.http_host in ("0.0.0.0", "::") else self.http_host
        return f"http://{host}:{self.http_port}"


class QuietMonitor(Monitor):
    """Faust's monitor keeps statistics of every message and stream event that nothing
    here reads (the worker exports its own metrics); this keeps only what Faust's
    slow-stream warning reads, and saves a few microseconds an event."""

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        return None

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> None:
        self.stream_inbound_time[tp] = monotonic()

    def on_stream_event_out(
        self, tp: Any, offset: int, stream: Any, event: Any, state: Any = None
    ) -> None:
        return None

    def on_message_out(self, tp: Any, offset: int, message: Any) -> None:
        return None

    def track_tp_end_offset(self, tp: Any, offset: int) -> None:
        return None


FETCH_MAX_WAIT_MS = 25  # how long the broker may hold a fetch that finds no new records


class PromptConsumerThread(kafka_driver.AIOKafkaConsumerThread):
    """Faust's consumer thread, with fetches the broker holds `FETCH_MAX_WAIT_MS` at
    most, where Faust fixes 1,500 ms: under a steady load the worker, once caught up,
    would otherwise wait out a held fetch while records piled up, and stay about a
    second and a half behind, in a saw-tooth."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read when the consumer starts
        return consumer


class MarkerConsumer(kafka_driver.Consumer):
    """Faust's Kafka consumer, which can also commit offsets it is given: its `commit()`
    commits only what the streams acknowledged, the very offsets the markers replace
    (see offsets.py)."""

    def _new_consumer_thread(self) -> PromptConsumerThread:
        return PromptConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def commit_offsets(self, offsets: Mapping[TP, int]) -> bool:
        """Commits `offsets` as the group's, through the hook by which every Faust
        consumer commits (partitions not assigned to this worker are left out)."""
        return bool(await self._commit(offsets))


class MarkerTransport(kafka_driver.Transport):
    """Faust's Kafka transport with `MarkerConsumer` as the app's consumer."""

    Consumer = MarkerConsumer


def create_app(settings: AnalyticsSettings) -> faust.App:
    datadir = settings.data_dir / "analytics"
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.analytics_app_id,
        **settings.kafka.faust(),
        store=state_store.URL,  # states by partition, compact, read in bulk
        datadir=str(datadir),
        canonical_url=settings.advertised_url,
        topic_partitions=PARTITIONS,
        topic_replication_factor=1,
        table_standby_replicas=0,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        # a worker killed with -9 is noticed in seconds, not the default minute
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
        web_bind=settings.http_host,
        web_port=settings.http_port,
        web_in_thread=False,
        autodiscover=False,
        stream_wait_empty=False,
        Monitor=QuietMonitor,
    )
    app.transport = MarkerTransport(app.conf.broker_consumer, app)
    return app


def changelog_topic(settings: AnalyticsSettings, table: str) -> str:
    """The name Faust gives the changelog topic of `table`."""
    return f"{settings.analytics_app_id}-{table}-changelog"


def leader_topic(settings: AnalyticsSettings) -> str:
    """The name of the topic Faust's partition assignor subscribes every worker to."""
    return f"{settings.analytics_app_id}-__assignor-__leader"


async def prepare_topics(settings: AnalyticsSettings, tables: Iterable[str]) -> None:
    """Creates the tables' changelog topics before Faust starts, retrying while the broker
    is not up yet. Faust would create them itself, but its group leader assigns only the
    topics in its metadata, refreshed every few minutes: a changelog created during the
    first rebalance went unassigned, and a worker then recovered nothing from it."""
    # replicated as the domain topics (three on a cluster, one on a single broker), and
    # Faust's leader topic too, which Faust itself would create with one replica
    compacted = {"cleanup.policy": "compact"}
    specs = [
        replicated(changelog_topic(settings, table), PARTITIONS, compacted) for table in tables
    ]
    specs.append(replicated(leader_topic(settings), 1))
    what = f"changelog topics on {settings.kafka_bootstrap}"
    await asyncio.wait_for(
        until_done(lambda: ensure_topics(settings.kafka, specs), what=what),
        PREPARE_TIMEOUT,
    )


def raw_topic(app: faust.App, name: str) -> Any:
    return app.topic(
        name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )


def source_and_dlq(app: faust.App, name: str) -> tuple[Any, Any]:
    """A domain topic to consume and the dead-letter topic of what it rejects."""
    return raw_topic(app, name), raw_topic(app, dlq(name))
