"""Our own services as real child processes, for `make up` and the end-to-end tests."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from minsheng.platform.process import ManagedProcess, answers_ok, ensure_free

BIN = Path(sys.executable).parent


@dataclass
class ServiceProcess:
    """A console script (`minsheng-appeals`, ...) with its environment and port."""

    name: str
    port: int
    env: dict[str, str] = field(default_factory=dict)
    log_file: Path | None = None

    def __post_init__(self) -> None:
        self.process = ManagedProcess(
            self.name,
            [str(BIN / f"minsheng-{self.name}")],
            env={**self.env, "MINSHENG_HTTP_PORT": str(self.port)},
            stop_timeout=20,
            log_file=self.log_file,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 60.0) -> None:
        await ensure_free(self.name, self.port)
        await self.process.launch(self.ready, timeout=timeout)

    async def ready(self) -> bool:
        """/readyz, not /healthz: announce a service only once it can do its work."""
        return await answers_ok(f"{self.url}/readyz", timeout=5)

    async def stop(self) -> None:
        await self.process.stop()

    def kill(self) -> None:
        self.process.kill()
