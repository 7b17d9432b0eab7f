"""Prometheus and Alertmanager on loopback, for `make up` and the live monitoring test.

They are Debian's binaries (`prometheus`, `prometheus-alertmanager`), configured from the
committed compose configuration in deploy/: the same jobs, rule files and routes, with the
container host names replaced by 127.0.0.1. So what a developer sees locally, and what the
live test checks, is what compose runs; there is no second copy to keep in step.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import yaml

from minsheng import auth
from minsheng.platform.process import ManagedProcess, answers_ok, ensure_free
from minsheng.settings import Settings

REPO = Path(__file__).resolve().parents[3]
PROMETHEUS_CONFIG = REPO / "deploy" / "prometheus" / "prometheus.yml"
ALERTMANAGER_CONFIG = REPO / "deploy" / "alertmanager" / "alertmanager.yml"
LOOPBACK = "127.0.0.1"
# Debian names the Alertmanager binary after its package; upstream tarballs do not.
PROMETHEUS_BINARIES = ("prometheus",)
ALERTMANAGER_BINARIES = ("prometheus-alertmanager", "alertmanager")
MISSING = (
    "Prometheus and Alertmanager are not installed (Debian: apt-get install prometheus "
    "prometheus-alertmanager, which `make tools` runs as root); running without them"
)


def find_binary(names: tuple[str, ...]) -> str | None:
    return next((found for name in names if (found := shutil.which(name))), None)


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def _on_loopback(target: str, port: int | None) -> str:
    """`appeals:8001` -> `127.0.0.1:8001`, or `127.0.0.1:<port>` when one is given."""
    committed = int(target.rsplit(":", 1)[1])
    return f"{LOOPBACK}:{port or committed}"


Ports = Mapping[str, int | Sequence[int]]  # a job's port, or its instances' ports


def local_prometheus_config(
    *,
    ports: Ports | None = None,
    alertmanager: str | None = None,
    interval: str | None = None,
) -> dict[str, Any]:
    """The committed config with its jobs on loopback (`ports` moves a job's port, or
    gives it one target per instance of the service), rule files by absolute path,
    alerts sent to `alertmanager` (host:port; none if None) and, for tests, a shorter
    scrape and evaluation `interval`."""
    config = _load(PROMETHEUS_CONFIG)
    ports = ports or {}
    for job in config["scrape_configs"]:
        moved = ports.get(job["job_name"])
        for static in job["static_configs"]:
            if isinstance(moved, Sequence):
                static["targets"] = [f"{LOOPBACK}:{port}" for port in moved]
            else:
                static["targets"] = [_on_loopback(t, moved) for t in static["targets"]]
    config["rule_files"] = [str(PROMETHEUS_CONFIG.parent / p) for p in config["rule_files"]]
    if alertmanager is None:
        config.pop("alerting", None)
    else:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    if interval is not None:
        config.setdefault("global", {}).update(
            scrape_interval=interval, evaluation_interval=interval
        )
    return config


def local_alertmanager_config(notifications: str, credentials_file: Path) -> dict[str, Any]:
    """The committed routes and receivers, with every webhook of the notifications service
    pointed at `notifications` (its base URL) and authorised by the key in
    `credentials_file`."""
    config = _load(ALERTMANAGER_CONFIG)
    base = urlsplit(notifications)
    for receiver in config.get("receivers", ()):
        for hook in receiver.get("webhook_configs", ()):
            url = urlsplit(hook["url"])
            if url.hostname != "notifications":
                continue
            hook["url"] = urlunsplit(url._replace(scheme=base.scheme, netloc=base.netloc))
            http = hook.setdefault("http_config", {})
            authorization = http.setdefault("authorization", {"type": "Bearer"})
            authorization.pop("credentials", None)
            authorization["credentials_file"] = str(credentials_file)
    return config


def system_key(path: Path) -> str:
    """One `system` key per data folder for Alertmanager's calls, kept so it stays valid."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(auth.new_key() + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


async def grant(database_url: str, key: str, *, name: str = "alertmanager") -> bool:
    """Registers `key` as a `system` key in the notifications service's database, as its
    key command would; False when that database or its key table is not there yet."""
    try:
        conn = await asyncpg.connect(database_url, timeout=5)
    except (OSError, asyncpg.PostgresError):
        return False
    try:
        await auth.register_key(conn, key, name=name, role="system")
    except asyncpg.UndefinedTableError:
        return False
    finally:
        await conn.close()
    return True


@dataclass
class _Daemon:
    """A Prometheus-family server: one binary, a config file, a /-/ready endpoint."""

    data_dir: Path
    port: int
    log_file: Path | None = None
    process: ManagedProcess | None = field(default=None, init=False)

    name: ClassVar[str] = "daemon"
    binaries: ClassVar[tuple[str, ...]] = ()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.data_dir / f"{self.name}.yml"

    def config(self) -> dict[str, Any]:
        raise NotImplementedError

    def arguments(self) -> list[str]:
        raise NotImplementedError

    async def start(self, timeout: float = 60.0) -> None:
        binary = find_binary(self.binaries)
        if binary is None:
            raise FileNotFoundError(f"no {' or '.join(self.binaries)} on PATH")
        await ensure_free(self.name, self.port)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(yaml.safe_dump(self.config(), allow_unicode=True))
        self.process = ManagedProcess(
            self.name, [binary, *self.arguments()], log_file=self.log_file
        )
        await self.process.launch(self.ready, timeout=timeout)

    async def ready(self) -> bool:
        return await answers_ok(f"{self.url}/-/ready", timeout=3)

    async def stop(self) -> None:
        if self.process is not None:
            await self.process.stop()


@dataclass
class PrometheusServer(_Daemon):
    """Scrapes the services (committed jobs; `ports` moves one) and evaluates the rules."""

    port: int = 9090
    ports: Ports = field(default_factory=dict)
    alertmanager: str | None = None
    interval: str | None = None

    name = "prometheus"
    binaries = PROMETHEUS_BINARIES

    def config(self) -> dict[str, Any]:
        return local_prometheus_config(
            ports=self.ports, alertmanager=self.alertmanager, interval=self.interval
        )

    def arguments(self) -> list[str]:
        return [
            f"--config.file={self.config_file}",
            f"--storage.tsdb.path={self.data_dir / 'tsdb'}",
            f"--web.listen-address={self.address}",
        ]


@dataclass
class AlertmanagerServer(_Daemon):
    """Routes the alerts to the notifications service at `notifications`, with a key."""

    port: int = 9093
    notifications: str = "http://127.0.0.1:8003"
    # A `system` key the notifications service knows; made (and kept) here if missing.
    credentials: Path | None = None

    name = "alertmanager"
    binaries = ALERTMANAGER_BINARIES

    @property
    def key_file(self) -> Path:
        return self.credentials or self.data_dir / "notifications-key"

    def config(self) -> dict[str, Any]:
        system_key(self.key_file)
        return local_alertmanager_config(self.notifications, self.key_file)

    def arguments(self) -> list[str]:
        return [
            f"--config.file={self.config_file}",
            f"--storage.path={self.data_dir / 'state'}",
            f"--web.listen-address={self.address}",
            "--cluster.listen-address=",  # one instance: no gossip port to collide on
        ]


class Monitoring:
    """What `make up` runs: Alertmanager, then Prometheus, or only a one-line note when
    the binaries are not installed, so the platform runs without them. Alertmanager's key
    is `credentials` (a system key file the services already register) or one made under
    .data/alertmanager and registered in the notifications database at start."""

    def __init__(self, data: Path, database_url: str, credentials: Path | None = None) -> None:
        self.alertmanager = AlertmanagerServer(data / "alertmanager", 9093, credentials=credentials)
        self.prometheus = PrometheusServer(
            data / "prometheus", 9090, alertmanager=self.alertmanager.address
        )
        self.notifications_db = Settings(database_url=database_url).database_for("notifications")
        self.installed = all(
            find_binary(names) for names in (PROMETHEUS_BINARIES, ALERTMANAGER_BINARIES)
        )
        self.started: list[_Daemon] = []

    async def start(self) -> None:
        if not self.installed:
            print(MISSING, flush=True)
            return
        for daemon in (self.alertmanager, self.prometheus):
            await daemon.start()
            self.started.append(daemon)
        await grant(self.notifications_db, system_key(self.alertmanager.key_file))

    async def stop(self) -> None:
        for daemon in reversed(self.started):
            with contextlib.suppress(Exception):
                await daemon.stop()

    def banner(self) -> list[str]:
        if not self.started:
            return []
        return [
            "Monitoring (the rules of deploy/prometheus, the routes of deploy/alertmanager):",
            f"  prometheus   {self.prometheus.url}   targets {self.prometheus.url}/targets"
            f"   alerts {self.prometheus.url}/alerts",
            f"  alertmanager {self.alertmanager.url}",
            "",
        ]
