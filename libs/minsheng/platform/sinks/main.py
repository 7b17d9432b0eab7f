"""The dev sinks' process: settings and flags, both listeners in one event loop."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from aiosmtpd.smtp import SMTP
from pydantic import Field

from minsheng.logs import configure_logging
from minsheng.platform.sinks import signatures
from minsheng.platform.sinks.files import SinkFiles
from minsheng.platform.sinks.smtp import Catcher
from minsheng.platform.sinks.web import build_app
from minsheng.settings import Settings

log = logging.getLogger("minsheng.sinks")
SECRETS_FILE = "webhook-secrets.json"


class SinkSettings(Settings):
    """`MINSHENG_SINKS_*`, and `MINSHENG_DATA_DIR` for where the files go."""

    sinks_host: str = "127.0.0.1"
    sinks_http_port: int = Field(default=8025, ge=0, le=65535)
    sinks_smtp_port: int = Field(default=2525, ge=0, le=65535)
    sinks_sms_token: str | None = Field(
        default=None, description="If set, /sms requires `Authorization: Bearer <it>`."
    )
    sinks_signature_tolerance: float = Field(default=signatures.TOLERANCE, gt=0)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: this process stops both listeners."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(settings: SinkSettings) -> None:
    data = settings.data_dir.resolve()
    files = SinkFiles(data / "sinks")
    app = build_app(
        files,
        signatures.SecretsFile(data / SECRETS_FILE),
        sms_token=settings.sinks_sms_token,
        tolerance=settings.sinks_signature_tolerance,
    )
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(
        lambda: SMTP(Catcher(files), hostname="minsheng-dev-sinks", ident="minsheng-dev-sinks"),
        settings.sinks_host,
        settings.sinks_smtp_port,
    )
    http = _Server(
        uvicorn.Config(
            app,
            host=settings.sinks_host,
            port=settings.sinks_http_port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
    )
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, setattr, http, "should_exit", True)
    log.info(
        "dev sinks: smtp %s:%d, http %s:%d, writing to %s",
        settings.sinks_host,
        settings.sinks_smtp_port,
        settings.sinks_host,
        settings.sinks_http_port,
        files.folder,
    )
    try:
        await http.serve()
    finally:
        smtp.close()
        await smtp.wait_closed()
        files.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="minsheng-dev-sinks", description=__doc__)
    parser.add_argument("--host", help="default 127.0.0.1 (MINSHENG_SINKS_HOST)")
    parser.add_argument("--http-port", type=int, help="default 8025 (MINSHENG_SINKS_HTTP_PORT)")
    parser.add_argument("--smtp-port", type=int, help="default 2525 (MINSHENG_SINKS_SMTP_PORT)")
    parser.add_argument("--data-dir", type=Path, help="default .data (MINSHENG_DATA_DIR)")
    args = parser.parse_args(argv)
    given = {
        "sinks_host": args.host,
        "sinks_http_port": args.http_port,
        "sinks_smtp_port": args.smtp_port,
        "data_dir": args.data_dir,
    }
    settings = SinkSettings(**{k: v for k, v in given.items() if v is not None})
    configure_logging("dev-sinks", settings.log_level, settings.log_format)
    asyncio.run(serve(settings))
