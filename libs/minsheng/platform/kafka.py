"""A real Apache Kafka 3.9 broker in KRaft mode, run from the jars Maven fetched."""

from __future__ import annotations

import contextlib
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from minsheng.platform.process import ManagedProcess, ensure_free, port_open

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy" / "kafka"
DEFAULT_LIBS = REPO / ".cache" / "kafka-libs"


class KafkaNotInstalled(RuntimeError):
    """The broker jars are missing: run `make kafka-jars` (make up and make test do)."""


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
        overrides = {
            "log.dirs": str(self.data_dir / "logs"),
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
        }
        lines = []
        for line in (DEPLOY / "server.properties").read_text().splitlines():
            key = line.split("=", 1)[0].strip()
            lines.append(f"{key}={overrides.pop(key)}" if key in overrides else line)
        lines += [f"{k}={v}" for k, v in overrides.items()]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text("\n".join(lines) + "\n")

    async def format_once(self) -> None:
        """Formats the storage the first time only, so a second start keeps the data."""
        if (self.data_dir / "logs" / "meta.properties").exists():
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

    async def answers(self) -> bool:
        """True once the broker serves a metadata request with itself as controller."""
        if not await port_open("127.0.0.1", self.port):
            return False
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=3000)
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


def _kafka_cluster_id(seed: str) -> str:
    """Kafka wants a base64url-encoded 16-byte UUID; derive it from the stored seed."""
    import base64

    raw = uuid.UUID(hex=seed.ljust(32, "0")[:32]).bytes
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
