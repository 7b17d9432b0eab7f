"""Topic definitions from `deploy/kafka/topics/*.yaml`, created idempotently, and who
owns each domain topic: the one CloudEvents `source` its consumers take events from."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from aiokafka.admin import NewTopic

from minsheng.kafka import KafkaAccess

log = logging.getLogger(__name__)

TOPICS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "topics"
DLQ_SUFFIX = ".dlq"

APPEALS = "minsheng.appeals.v1"
PROJECTS = "minsheng.projects.v1"
INTAKE_APPEALS = "minsheng.intake.appeals.v1"
INTAKE_PROJECTS = "minsheng.intake.projects.v1"
NOTIFICATIONS = "minsheng.notifications.v1"

# domain topic -> the source of the one service that writes it; the intake topics have
# no owner (other systems publish there under their own sources)
OWNERS = {
    APPEALS: "minsheng/appeals",
    PROJECTS: "minsheng/projects",
    NOTIFICATIONS: "minsheng/notifications",
}


def owner_of(topic: str, aliases: Mapping[str, str] | None = None) -> str | None:
    """The source that owns `topic`, or None for a topic anyone may write (intake).
    `aliases` maps the names a deployment gives domain topics to the names above."""
    return OWNERS.get(aliases.get(topic, topic) if aliases else topic)


def dlq(topic: str) -> str:
    return topic + DLQ_SUFFIX


@dataclass(frozen=True)
class Replication:
    """Replicas of each partition, and how many of them must hold a write before it is
    acknowledged (`min.insync.replicas`), both at most: a cluster of fewer brokers gets
    as many replicas as it has brokers, and never more in sync than replicas."""

    factor: int = 1
    min_insync: int = 1

    def on(self, brokers: int) -> Replication:
        factor = max(1, min(self.factor, brokers))
        return Replication(factor, min(self.min_insync, factor))


def replication(folder: Path = TOPICS_DIR) -> Replication:
    """The definition files' default replication: for the platform's topics, the
    analytics changelogs and the broker's own internal topics alike."""
    found = Replication()
    for path in sorted(folder.glob("*.yaml")):
        defaults = yaml.safe_load(path.read_text()).get("defaults", {})
        found = _replication_of(defaults, found)
    return found


def _replication_of(entry: Mapping[str, Any], default: Replication) -> Replication:
    return Replication(
        int(entry.get("replication_factor", default.factor)),
        int(entry.get("min_insync_replicas", default.min_insync)),
    )


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int  # at most: `ensure_topics` gives no more than the brokers
    config: dict[str, str] = field(default_factory=dict)
    min_insync_replicas: int = 1  # at most, likewise; never more than the replicas

    @property
    def replication(self) -> Replication:
        return Replication(self.replication_factor, self.min_insync_replicas)


def replicated(name: str, partitions: int, config: dict[str, str] | None = None) -> TopicSpec:
    """A topic of the platform's own outside the definition files (analytics' changelogs),
    replicated as their defaults say."""
    replicas = replication()
    return TopicSpec(name, partitions, replicas.factor, config or {}, replicas.min_insync)


def load_specs(folder: Path = TOPICS_DIR) -> list[TopicSpec]:
    """Every topic of every definition file, plus a `.dlq` twin for each consumed one."""
    specs: list[TopicSpec] = []
    for path in sorted(folder.glob("*.yaml")):
        doc: dict[str, Any] = yaml.safe_load(path.read_text())
        defaults = doc.get("defaults", {})
        for entry in doc["topics"]:
            replicas = _replication_of(entry, _replication_of(defaults, Replication()))
            spec = TopicSpec(
                name=entry["name"],
                partitions=int(entry.get("partitions", defaults.get("partitions", 6))),
                replication_factor=replicas.factor,
                config={
                    str(k): str(v)
                    for k, v in {**defaults.get("config", {}), **entry.get("config", {})}.items()
                },
                min_insync_replicas=replicas.min_insync,
            )
            specs.append(spec)
            if entry.get("consumed", False):
                specs.append(replace(spec, name=dlq(spec.name)))
    return specs


def new_topic(spec: TopicSpec, brokers: int) -> NewTopic:
    """`spec` as created on a cluster of `brokers`: its replication capped by their number."""
    replicas = spec.replication.on(brokers)
    config = {**spec.config, "min.insync.replicas": str(replicas.min_insync)}
    return NewTopic(spec.name, spec.partitions, replicas.factor, topic_configs=config)


async def ensure_topics(kafka: KafkaAccess, specs: list[TopicSpec] | None = None) -> list[str]:
    """Creates the topics that are missing, replicated as the cluster's size allows;
    returns the names it created."""
    specs = load_specs() if specs is None else specs
    admin = kafka.admin()
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if missing:
            brokers = len((await admin.describe_cluster())["brokers"])
            created = [new_topic(s, brokers) for s in missing]
            await admin.create_topics(created)
            for t in created:
                log.info(
                    "created topic %s (%d partitions, %d replicas)",
                    t.name,
                    t.num_partitions,
                    t.replication_factor,
                )
        return [s.name for s in missing]
    finally:
        await admin.close()
