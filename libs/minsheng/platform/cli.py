"""`minsheng-platform`: run the whole platform locally, or create the topics.

minsheng-platform up       Kafka, PostgreSQL and the services in the foreground (a service
                           that dies is restarted with backoff; Ctrl-C stops them all);
                           --brokers 3: a three-node Kafka cluster instead of one broker
minsheng-platform topics   create the topics of deploy/kafka/topics and the services' ACLs
                           (idempotent; connects as MINSHENG_KAFKA_USERNAME, the super user)
minsheng-platform outside-system NAME
                           a Kafka principal for an outside system, which may write the
                           intake topics only; prints its password, once
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from minsheng import principals
from minsheng.auth import new_key
from minsheng.clock import DEMO_CLOCK_NAME
from minsheng.platform import notifying
from minsheng.platform.kafka import (
    Kafka,
    KafkaCluster,
    KafkaWithoutCredentials,
    local_access,
    local_kafka,
)
from minsheng.platform.monitoring import Monitoring
from minsheng.platform.postgres import PostgresServer
from minsheng.platform.services import ServiceProcess
from minsheng.platform.supervise import keep_running
from minsheng.settings import Settings
from minsheng.topics import ensure_topics, replication

SERVICES = (("appeals", 8001), ("projects", 8002), ("notifications", 8003), ("analytics", 8004))


DEV_KEY_FILE = "dev-api-key"  # in the data folder


def dev_key(data_dir: Path, file: str = DEV_KEY_FILE) -> str:
    """One development key per data folder and `file`, kept so that it stays valid."""
    path = data_dir / file
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(new_key() + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


async def up(settings: Settings, brokers: int = 1) -> int:
    started = time.monotonic()
    data = settings.data_dir.resolve()
    kafka = local_kafka(data, brokers)
    postgres = PostgresServer(data / "postgres")
    key = dev_key(data)
    try:  # each service connects as its own principal
        kafka_env = {name: kafka.access(name).env() for name, _ in SERVICES}
    except KafkaWithoutCredentials as exc:
        print(f"start-up failed: {exc}", file=sys.stderr)
        return 1
    env = {
        "MINSHENG_DATABASE_URL": postgres.url,
        "MINSHENG_DEV_API_KEY": key,
        "MINSHENG_LOG_FORMAT": os.environ.get("MINSHENG_LOG_FORMAT", "text"),
        "MINSHENG_DATA_DIR": str(data),
        # a demo platform: `minsheng-demo` may compress its clock (real time until it does)
        "MINSHENG_DEMO_CLOCK_FILE": str(data / DEMO_CLOCK_NAME),
    }
    sinks = notifying.dev_sinks(data, env=env)
    system_key = dev_key(data, notifying.SYSTEM_KEY_FILE)
    env["MINSHENG_DEV_SYSTEM_KEY"] = system_key
    extra = {"notifications": notifying.notifications_env(sinks, _url(8001), system_key)}
    services = [
        ServiceProcess(name, port, {**env, **kafka_env[name], **extra.get(name, {})})
        for name, port in SERVICES
    ]
    monitoring = Monitoring(data, postgres.url, credentials=data / notifying.SYSTEM_KEY_FILE)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    running: list[Kafka | PostgresServer | ServiceProcess | Monitoring] = []
    code = 0
    try:
        print(f"starting Kafka ({kafka.bootstrap}) and PostgreSQL ({postgres.url}) in {data}")
        await asyncio.gather(kafka.start(), postgres.start())
        running += [kafka, postgres]
        created = await ensure_topics(kafka.access())
        print(f"topics ready ({len(created)} created)")
        await sinks.start()
        running.append(sinks)
        for service in services:
            await service.start()
            running.append(service)
        running.append(monitoring)
        await monitoring.start()
        took = time.monotonic() - started
        where = notifying.banner_lines(sinks, system_key)
        _banner(services, key, postgres.url, kafka_lines(kafka), took, where)
        print("\n".join(monitoring.banner()), flush=True)
        # a child that dies is restarted with backoff; only Ctrl-C stops the platform
        keepers = [asyncio.create_task(keep_running(s)) for s in [sinks, *services]]
        await stop.wait()
        for task in keepers:
            task.cancel()
        await asyncio.gather(*keepers, return_exceptions=True)
    except Exception as exc:
        print(f"start-up failed: {exc}", file=sys.stderr)
        code = 1
    finally:
        print("stopping...")
        for part in reversed(running):
            with contextlib.suppress(Exception):
                await part.stop()
        print("stopped; data kept in", data)
    return code


def kafka_lines(kafka: Kafka) -> list[str]:
    """The banner's Kafka: the broker, or each node of the cluster and its replication."""
    auth = f"SASL/SCRAM-SHA-512, passwords in {kafka.credentials_file}"
    if isinstance(kafka, KafkaCluster):
        replicas = replication().on(len(kafka.nodes))
        nodes = [f"  {f'kafka {n.node_id}':<13} {n.bootstrap}   {n.data_dir}" for n in kafka.nodes]
        return [
            *nodes,
            f"  {'':<13} {auth}; {replicas.factor} replicas, "
            f"min.insync.replicas={replicas.min_insync}",
        ]
    return [f"  {'kafka':<13} {kafka.bootstrap}   {auth}"]


def _banner(
    services: list[ServiceProcess],
    key: str,
    db: str,
    kafka: list[str],
    took: float,
    sinks: Sequence[str] = (),
) -> None:
    appeals, projects = (
        next(s.url for s in services if s.name == n) for n in ("appeals", "projects")
    )
    lines = [
        "",
        f"Minsheng is up (in {took:.0f}s). Ctrl-C stops everything; data stays in .data/.",
        *(
            f"  {s.name:<13} {s.url}   docs {s.url}/docs   metrics {s.url}/metrics"
            for s in services
        ),
        *kafka,
        f"  {'postgres':<13} {db}",
        f"  {'dev key':<13} {key}   (role: operator)",
        *sinks,
        "",
        "Try it:",
        f"  curl -s -X POST {appeals}/v1/appeals -H 'Authorization: Bearer {key}' \\",
        "       -H 'Content-Type: application/json' \\",
        '       -d \'{"title": "路灯不亮", "category": "complaint",'
        ' "district": "洮北区", "channel": "app"}\'',
        "  curl -s http://127.0.0.1:8004/metrics | grep minsheng_appeals_received_total",
        f"  .venv/bin/minsheng-projects-load-2019 --url {projects} --key {key}",
        f"  curl -s '{projects}/v1/ledger?year=2019' -H 'Authorization: Bearer {key}'",
        "",
    ]
    print("\n".join(lines), flush=True)


def _url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


async def topics(settings: Settings, _: str | None = None) -> int:
    created = await ensure_topics(settings.kafka)
    await principals.grant_services(settings.kafka)
    print(f"topics ready; created: {', '.join(created) or 'none'}; ACLs of the services set")
    return 0


async def outside_system(settings: Settings, name: str | None) -> int:
    if not name:
        print("usage: minsheng-platform outside-system NAME", file=sys.stderr)
        return 2
    try:
        admin = local_access(settings, principals.ADMIN)
    except KafkaWithoutCredentials as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        access = await principals.add_outside_system(admin, name)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(
        f"Kafka principal {name!r} created; it may write "
        f"{' and '.join(principals.INTAKE)} only. Its password is shown this once:\n\n"
        f"  bootstrap  {admin.bootstrap}\n"
        f"  protocol   SASL_PLAINTEXT, mechanism SCRAM-SHA-512\n"
        f"  username   {access.username}\n"
        f"  password   {access.password}\n"
    )
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="minsheng-platform",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["up", "topics", "outside-system"])
    parser.add_argument("name", nargs="?", help="outside-system: the principal's name")
    parser.add_argument(
        "--brokers",
        type=int,
        default=1,
        choices=range(1, 10),
        metavar="N",
        help="up: Kafka nodes (1, the default, or a cluster of N; 3 for production settings)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings()
    if args.command == "up":
        sys.exit(asyncio.run(up(settings, args.brokers)))
    runner = topics if args.command == "topics" else outside_system
    sys.exit(asyncio.run(runner(settings, args.name)))
