"""The dev sinks as a child process, for `make up` and for tests that need real sinks."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from minsheng.platform.process import ManagedProcess, ensure_free
from minsheng.platform.sinks.files import read_lines

BIN = Path(sys.executable).parent


@dataclass
class DevSinks:
    """`minsheng-dev-sinks` on these ports, writing under `data_dir/sinks/`."""

    data_dir: Path
    http_port: int = 8025
    smtp_port: int = 2525
    log_file: Path | None = None

    def __post_init__(self) -> None:
        self.process = ManagedProcess(
            "dev-sinks",
            [str(BIN / "minsheng-dev-sinks")],
            env={
                "MINSHENG_DATA_DIR": str(self.data_dir),
                "MINSHENG_SINKS_HTTP_PORT": str(self.http_port),
                "MINSHENG_SINKS_SMTP_PORT": str(self.smtp_port),
            },
            stop_timeout=10,
            log_file=self.log_file,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def folder(self) -> Path:
        return self.data_dir / "sinks"

    def hook_url(self, recipient_id: str) -> str:
        return f"{self.url}/hooks/{recipient_id}"

    @property
    def sms_url(self) -> str:
        return f"{self.url}/sms"

    async def start(self, timeout: float = 30.0) -> None:
        await ensure_free("dev-sinks smtp", self.smtp_port)
        await ensure_free("dev-sinks http", self.http_port)
        await self.process.start()
        await self.process.wait_ready(self.ready, timeout=timeout)

    async def ready(self) -> bool:
        async with httpx.AsyncClient(timeout=5) as client:
            return (await client.get(f"{self.url}/readyz")).status_code == 200

    async def stop(self) -> None:
        await self.process.stop()

    def received(self, name: str) -> list[dict[str, object]]:
        """The lines so far of `webhooks.jsonl`, `sms.jsonl` or `mail.jsonl`."""
        return read_lines(self.folder / name)
