"""Real Apache Kafka 3.9 in KRaft mode, run from the jars Maven fetched: one combined
broker+controller (`KafkaBroker`, the default of `make up` and the tests), or a cluster
of N such nodes forming one quorum (`KafkaCluster`, `make up BROKERS=3`).

Clients authenticate with SASL/SCRAM-SHA-512 and are authorised by ACLs
(`minsheng.principals`). The passwords of the super user `admin`, of each service and of
a development outside system are generated when the storage is first formatted (SCRAM
credentials go into the first metadata records, the same into every node's) and kept in
`credentials.json` beside the data (mode 0600). The controller listener stays PLAINTEXT
on 127.0.0.1: only the nodes of this host use it, and whoever can reach it here can read
the data folders anyway. A cluster's replication follows its size (`minsheng.topics`):
from three brokers on, three replicas of every topic, the internal ones too, and two in
sync before a write is acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from minsheng import principals
from minsheng.kafka import MECHANISM, KafkaAccess
from minsheng.platform.process import ManagedProcess, ensure_free, port_open
from minsheng.settings import Settings
from minsheng.topics import replication

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy" / "kafka"
DEFAULT_LIBS = REPO / ".cache" / "kafka-libs"


DEV_OUTSIDE = "dev-outside-system"  # an outside system of local platforms (the demo's)
USERS = (principals.ADMIN, *principals.SERVICES, DEV_OUTSIDE)


class KafkaNotInstalled(RuntimeError):
    """The broker jars are missing: run `make kafka-jars` (make up and make test do)."""


class KafkaWithoutCredentials(RuntimeError):
    """A data folder formatted before the broker authenticated clients."""


@dataclass
class KafkaBroker:
    """One combined broker+controller; data in `data_dir` survives restarts. Alone by
    default; a node of a `KafkaCluster` is told its id, the quorum's voters, the
    cluster's size and the folder its credentials and cluster id are shared in."""

    data_dir: Path
    port: int = 9092
    controller_port: int = 9095  # not 9093-9094: Alertmanager's web and cluster ports
    heap: str = "512m"
    libs_dir: Path = DEFAULT_LIBS
    log_file: Path | None = None
    node_id: int = 1
    voters: str | None = None  # controller.quorum.voters; None: this node alone
    brokers: int = 1  # the cluster's size, which its replication follows
    shared_dir: Path | None = None  # credentials.json and cluster.id; None: data_dir

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.resolve()
        self.shared_dir = (self.shared_dir or self.data_dir).resolve()
        self.process: ManagedProcess | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def credentials_file(self) -> Path:
        assert self.shared_dir is not None  # set in __post_init__
        return self.shared_dir / "credentials.json"

    @property
    def quorum(self) -> str:
        return self.voters or f"{self.node_id}@127.0.0.1:{self.controller_port}"

    def credentials(self) -> dict[str, str]:
        """User -> password, generated the first time (before the storage is formatted)."""
        if not self.credentials_file.exists():
            if self._formatted():
                raise KafkaWithoutCredentials(
                    f"{self.data_dir} was formatted before Kafka had credentials; "
                    "remove it (make clean) to start afresh"
                )
            self.credentials_file.parent.mkdir(parents=True, exist_ok=True)
            generated = {user: principals.new_password() for user in USERS}
            self.credentials_file.touch(mode=0o600)
            self.credentials_file.write_text(json.dumps(generated, indent=2) + "\n")
        passwords: dict[str, str] = json.loads(self.credentials_file.read_text())
        return passwords

    def access(self, user: str = principals.ADMIN) -> KafkaAccess:
        """How a client connects as `user` (by default the super user)."""
        return KafkaAccess(self.bootstrap, user, self.credentials()[user])

    def _formatted(self) -> bool:
        return (self.data_dir / "logs" / "meta.properties").exists()

    def _java(self, main: str, *args: str) -> list[str]:
        if not any(self.libs_dir.glob("kafka_2.13-*.jar")):
            raise KafkaNotInstalled(f"no Kafka jars in {self.libs_dir}; run `make kafka-jars`")
        java = shutil.which("java") or "java"
        return [
            java,
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j.configuration=file:{DEPLOY / 'log4j.properties'}",
            "-cp",
            f"{self.libs_dir}/*",
            main,
            *args,
        ]

    def write_config(self) -> None:
        listeners = f"SASL_PLAINTEXT://127.0.0.1:{self.port}"
        replicas = replication().on(self.brokers)
        overrides = {
            "node.id": str(self.node_id),
            "log.dirs": str(self.data_dir / "logs"),
            "listeners": f"{listeners},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": listeners,
            "controller.quorum.voters": self.quorum,
            # the broker's own SASL client (inter-broker) is the super user
            f"listener.name.sasl_plaintext.{MECHANISM.lower()}.sasl.jaas.config": (
                self.access().jaas()
            ),
            # replication follows the cluster's size, the internal topics' too
            "default.replication.factor": str(replicas.factor),
            "min.insync.replicas": str(replicas.min_insync),
            "offsets.topic.replication.factor": str(replicas.factor),
            "transaction.state.log.replication.factor": str(replicas.factor),
            "transaction.state.log.min.isr": str(replicas.min_insync),
        }
        lines = []
        for line in (DEPLOY / "server.properties").read_text().splitlines():
            key = line.split("=", 1)[0].strip()
            lines.append(f"{key}={overrides.pop(key)}" if key in overrides else line)
        lines += [f"{k}={v}" for k, v in overrides.items()]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_file.touch(mode=0o600)
        self.config_file.write_text("\n".join(lines) + "\n")

    async def format_once(self) -> None:
        """Formats the storage the first time only, so a second start keeps the data."""
        if self._formatted():
            return
        assert self.shared_dir is not None  # set in __post_init__
        cluster_file = self.shared_dir / "cluster.id"
        if not cluster_file.exists():
            cluster_file.write_text(uuid.uuid4().hex[:22])
        fmt = ManagedProcess(
            "kafka-format",
            self._java(
                "kafka.tools.StorageTool",
                "format",
                # `=` form: a base64 id may start with "-", which argparse would take for a flag
                f"--cluster-id={_kafka_cluster_id(cluster_file.read_text().strip())}",
                f"--config={self.config_file}",
                "--ignore-formatted",
                *(
                    f"--add-scram={MECHANISM}=[name={user},password={password}]"
                    for user, password in self.credentials().items()
                ),
            ),
            log_file=self.log_file,
        )
        await fmt.start()
        if await fmt.wait() != 0:
            where = self.log_file or "the output above"
            raise RuntimeError(f"Kafka storage format failed; see {where}")

    async def start(self, timeout: float = 90.0) -> None:
        await self.launch(timeout)
        await grant(self.access())

    async def launch(self, timeout: float = 90.0) -> None:
        """Formats (once) and starts this node, until it answers with a controller: for a
        node of a cluster, once a majority of the quorum's voters runs."""
        await ensure_free("kafka", self.port)
        await ensure_free("kafka controller", self.controller_port)
        self.write_config()
        await self.format_once()
        name = "kafka" if self.voters is None else f"kafka-{self.node_id}"
        self.process = ManagedProcess(
            name, self._java("kafka.Kafka", str(self.config_file)), log_file=self.log_file
        )
        await self.process.launch(self.answers, timeout=timeout, interval=0.5)

    async def answers(self) -> bool:
        """True once the broker serves a metadata request with itself as controller."""
        if not await port_open("127.0.0.1", self.port):
            return False
        admin = self.access().admin(request_timeout_ms=3000)
        try:
            await admin.start()
            cluster = await admin.describe_cluster()
            return bool(cluster.get("brokers")) and cluster.get("controller_id", -1) != -1
        finally:
            with contextlib.suppress(Exception):
                await admin.close()

    async def stop(self) -> None:
        if self.process is not None:
            await self.process.stop()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()


async def grant(admin: KafkaAccess) -> None:
    """The services' ACLs and the development outside system's (idempotent)."""
    await principals.grant_services(admin)
    await principals.grant(admin, DEV_OUTSIDE, principals.OUTSIDE)


@dataclass
class KafkaCluster:
    """N combined broker+controller nodes forming one KRaft quorum: one cluster id and the
    same SCRAM credentials formatted into every node (both kept in `folder`), each node
    with its own data folder (`folder/node-<id>`) and ports. It offers what
    `KafkaBroker` offers (`start`, `stop`, `access`, `bootstrap`), and its `nodes` for
    faults: a node may be stopped, killed and started again on its own."""

    folder: Path
    ports: Sequence[int]
    controller_ports: Sequence[int]
    heap: str = "512m"
    libs_dir: Path = DEFAULT_LIBS
    log_file: Path | None = None  # node <id> logs to <stem>-<id><suffix> beside it
    nodes: list[KafkaBroker] = field(init=False)

    def __post_init__(self) -> None:
        if len(self.ports) != len(self.controller_ports) or not self.ports:
            raise ValueError("a cluster needs one port and one controller port per node")
        self.folder = self.folder.resolve()
        voters = ",".join(
            f"{i}@127.0.0.1:{port}" for i, port in enumerate(self.controller_ports, start=1)
        )
        self.nodes = [
            KafkaBroker(
                self.folder / f"node-{i}",
                port=port,
                controller_port=controller_port,
                heap=self.heap,
                libs_dir=self.libs_dir,
                log_file=self._node_log(i),
                node_id=i,
                voters=voters,
                brokers=len(self.ports),
                shared_dir=self.folder,
            )
            for i, (port, controller_port) in enumerate(
                zip(self.ports, self.controller_ports, strict=True), start=1
            )
        ]

    @classmethod
    def local(cls, folder: Path, brokers: int, log_file: Path | None = None) -> KafkaCluster:
        """`make up`'s ports: node 1 where the single broker listens (9092, controller
        9095), each next one 100 above (9192 and 9195, 9292 and 9295...)."""
        return cls(
            folder,
            [9092 + 100 * i for i in range(brokers)],
            [9095 + 100 * i for i in range(brokers)],
            log_file=log_file,
        )

    def _node_log(self, node_id: int) -> Path | None:
        if self.log_file is None:
            return None
        return self.log_file.with_name(f"{self.log_file.stem}-{node_id}{self.log_file.suffix}")

    @property
    def bootstrap(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    @property
    def credentials_file(self) -> Path:
        return self.nodes[0].credentials_file

    def credentials(self) -> dict[str, str]:
        return self.nodes[0].credentials()

    def access(self, user: str = principals.ADMIN) -> KafkaAccess:
        """How a client connects as `user`, bootstrapping from every node."""
        return KafkaAccess(self.bootstrap, user, self.credentials()[user])

    def node(self, node_id: int) -> KafkaBroker:
        return self.nodes[node_id - 1]

    async def start(self, timeout: float = 120.0) -> None:
        """Every node at once (the quorum needs a majority to elect a controller), then
        the ACLs; on failure stops what it started."""
        self.credentials()  # generated once, before any node formats
        try:
            await asyncio.gather(*(node.launch(timeout) for node in self.nodes))
            await grant(self.access())
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        await asyncio.gather(*(node.stop() for node in self.nodes), return_exceptions=True)

    def kill(self) -> None:
        for node in self.nodes:
            node.kill()


Kafka = KafkaBroker | KafkaCluster


def local_kafka(data_dir: Path, brokers: int = 1) -> Kafka:
    """`make up`'s Kafka in its data folder: the single broker in `kafka/`, or a cluster
    of `brokers` in `kafka-cluster-<brokers>/` (a folder per size: a quorum's voters are
    formatted into its nodes and cannot change by a restart)."""
    if brokers == 1:
        return KafkaBroker(data_dir / "kafka")
    return KafkaCluster.local(data_dir / f"kafka-cluster-{brokers}", brokers)


def local_access(settings: Settings, user: str) -> KafkaAccess:
    """`settings`' own Kafka access if it names a user, else `user`'s on the local
    platform of its data folder (`make up`, single broker or cluster): how command-line
    tools find credentials."""
    if settings.kafka_username:
        return settings.kafka
    single = settings.data_dir / "kafka" / "credentials.json"
    found = [single, *sorted(settings.data_dir.glob("kafka-cluster-*/credentials.json"))]
    existing = [path for path in found if path.exists()]
    if not existing:
        raise KafkaWithoutCredentials(
            f"no {single}: set MINSHENG_KAFKA_USERNAME and "
            "MINSHENG_KAFKA_PASSWORD, or start the local platform (make up) first"
        )
    passwords: dict[str, str] = json.loads(existing[0].read_text())
    return KafkaAccess(settings.kafka_bootstrap, user, passwords[user])


def _kafka_cluster_id(seed: str) -> str:
    """Kafka wants a base64url-encoded 16-byte UUID; derive it from the stored seed."""
    import base64

    raw = uuid.UUID(hex=seed.ljust(32, "0")[:32]).bytes
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
