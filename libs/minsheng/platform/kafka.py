"""A real Apache Kafka 3.9 broker in KRaft mode, run from the jars Maven fetched.

Clients authenticate with SASL/SCRAM-SHA-512 and are authorised by ACLs
(`minsheng.principals`). The passwords of the super user `admin`, of each service and of
a development outside system are generated when the storage is first formatted (SCRAM
credentials go into the first metadata records) and kept in `credentials.json` beside the
data (mode 0600). The controller listener stays PLAINTEXT on 127.0.0.1: only this node
uses it, and whoever can reach it on this host can read the data folder anyway.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from minsheng import principals
from minsheng.kafka import MECHANISM, KafkaAccess
from minsheng.platform.process import ManagedProcess, ensure_free, port_open
from minsheng.settings import Settings

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
    """One combined broker+controller; data in `data_dir` survives restarts."""

    data_dir: Path
    port: int = 9092
    controller_port: int = 9095  # not 9093-9094: Alertmanager's web and cluster ports
    heap: str = "512m"
    libs_dir: Path = DEFAULT_LIBS
    log_file: Path | None = None

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.resolve()
        self.process: ManagedProcess | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "credentials.json"

    def credentials(self) -> dict[str, str]:
        """User -> password, generated the first time (before the storage is formatted)."""
        if not self.credentials_file.exists():
            if self._formatted():
                raise KafkaWithoutCredentials(
                    f"{self.data_dir} was formatted before Kafka had credentials; "
                    "remove it (make clean) to start afresh"
                )
            self.data_dir.mkdir(parents=True, exist_ok=True)
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
        overrides = {
            "log.dirs": str(self.data_dir / "logs"),
            "listeners": f"{listeners},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": listeners,
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            # the broker's own SASL client (inter-broker) is the super user
            f"listener.name.sasl_plaintext.{MECHANISM.lower()}.sasl.jaas.config": (
                self.access().jaas()
            ),
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
        cluster_file = self.data_dir / "cluster.id"
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
        await ensure_free("kafka", self.port)
        await ensure_free("kafka controller", self.controller_port)
        self.write_config()
        await self.format_once()
        self.process = ManagedProcess(
            "kafka", self._java("kafka.Kafka", str(self.config_file)), log_file=self.log_file
        )
        await self.process.launch(self.answers, timeout=timeout, interval=0.5)
        admin = self.access()
        await principals.grant_services(admin)
        await principals.grant(admin, DEV_OUTSIDE, principals.OUTSIDE)

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


def local_access(settings: Settings, user: str) -> KafkaAccess:
    """`settings`' own Kafka access if it names a user, else `user`'s on the local
    platform of its data folder (`make up`): how command-line tools find credentials."""
    if settings.kafka_username:
        return settings.kafka
    broker = KafkaBroker(settings.data_dir / "kafka")
    if not broker.credentials_file.exists():
        raise KafkaWithoutCredentials(
            f"no {broker.credentials_file}: set MINSHENG_KAFKA_USERNAME and "
            "MINSHENG_KAFKA_PASSWORD, or start the local platform (make up) first"
        )
    return KafkaAccess(settings.kafka_bootstrap, user, broker.credentials()[user])


def _kafka_cluster_id(seed: str) -> str:
    """Kafka wants a base64url-encoded 16-byte UUID; derive it from the stored seed."""
    import base64

    raw = uuid.UUID(hex=seed.ljust(32, "0")[:32]).bytes
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
