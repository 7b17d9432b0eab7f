"""Topic definitions from `deploy/kafka/topics/*.yaml`, created idempotently, and who
owns each domain topic: the one CloudEvents `source` its consumers take events from."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
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
    return OWNERS.get((aliases or {}).get(topic, topic))


def dlq(topic: str) -> str:
    return topic + DLQ_SUFFIX


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    config: dict[str, str] = field(default_factory=dict)


def load_specs(folder: Path = TOPICS_DIR) -> list[TopicSpec]:
    """Every topic of every definition file, plus a `.dlq` twin for each consumed one."""
    specs: list[TopicSpec] = []
    for path in sorted(folder.glob("*.yaml")):
        doc: dict[str, Any] = yaml.safe_load(path.read_text())
        defaults = doc.get("defaults", {})
        for entry in doc["topics"]:
            spec = TopicSpec(
                name=entry["name"],
                partitions=int(entry.get("partitions", defaults.get("partitions", 6))),
                replication_factor=int(
                    entry.get("replication_factor", defaults.get("replication_factor", 1))
                ),
                config={
                    str(k): str(v)
                    for k, v in {**defaults.get("config", {}), **entry.get("config", {})}.items()
                },
            )
            specs.append(spec)
            if entry.get("consumed", False):
                specs.append(
                    TopicSpec(dlq(spec.name), spec.partitions, spec.replication_factor, spec.config)
                )
    return specs


async def ensure_topics(kafka: KafkaAccess, specs: list[TopicSpec] | None = None) -> list[str]:
    """Creates the topics that are missing; returns the names it created."""
    specs = load_specs() if specs is None else specs
    admin = kafka.admin()
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if missing:
            await admin.create_topics(
                [
                    NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=s.config)
                    for s in missing
                ]
            )
        for s in missing:
            log.info("created topic %s (%d partitions)", s.name, s.partitions)
        return [s.name for s in missing]
    finally:
        await admin.close()
