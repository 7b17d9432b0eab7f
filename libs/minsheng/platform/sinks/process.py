"""The dev sinks as a child process, for `make up` and for tests that need real sinks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from minsheng.platform.process import ensure_free
from minsheng.platform.services import ServiceProcess
from minsheng.platform.sinks.files import Tail


@dataclass
class DevSinks(ServiceProcess):
    """`minsheng-dev-sinks`, HTTP on `port`, SMTP on `smtp_port`, files in `data_dir/sinks/`."""

    name: str = "dev-sinks"
    port: int = 8025
    smtp_port: int = 2525
    data_dir: Path = Path(".data")

    def __post_init__(self) -> None:
        self.env = {
            **self.env,
            "MINSHENG_DATA_DIR": str(self.data_dir),
            "MINSHENG_SINKS_HTTP_PORT": str(self.port),
            "MINSHENG_SINKS_SMTP_PORT": str(self.smtp_port),
        }
        super().__post_init__()

    @property
    def folder(self) -> Path:
        return self.data_dir / "sinks"

    def hook_url(self, recipient_id: str) -> str:
        return f"{self.url}/hooks/{recipient_id}"

    @property
    def sms_url(self) -> str:
        return f"{self.url}/sms"

    async def start(self, timeout: float = 30.0) -> None:
        await ensure_free(f"{self.name} smtp", self.smtp_port)
        await super().start(timeout)

    def received(self, name: str) -> list[dict[str, Any]]:
        """The lines so far of `webhooks.jsonl`, `sms.jsonl` or `mail.jsonl`."""
        return Tail(self.folder / name).all()

    def tail(self, name: str) -> Tail:
        """A reader of what arrives in `name` from now on (and what came before)."""
        return Tail(self.folder / name)
