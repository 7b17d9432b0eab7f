"""Structured JSON logs on stdout: one object per line, with the service name.

Personal data never reaches the logs: events carry only masked numbers, and
`masking.mask_personal` is applied to every message as a last line of defence.
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

from minsheng.masking import mask_personal

NOISY = ("aiokafka", "kafka", "uvicorn.access", "asyncio", "faust", "mode")
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": mask_personal(record.getMessage()),
        }
        doc.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            doc["exception"] = mask_personal(self.formatException(record.exc_info))
        return json.dumps(doc, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_personal(super().format(record))


def logging_config(service: str, level: str = "INFO", fmt: str = "json") -> dict[str, Any]:
    """A `logging.config.dictConfig` document; Faust's worker takes it as it is."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter, "service": service}
        if fmt == "json"
        else {"()": TextFormatter, "fmt": "%(levelname)-5s %(name)s: %(message)s"}
    )
    quiet = logging.getLevelName(max(logging.WARNING, logging.getLevelName(level.upper())))
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"minsheng": formatter},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "minsheng",
            }
        },
        "root": {"level": level.upper(), "handlers": ["stdout"]},
        "loggers": {
            **{n: {"level": quiet} for n in NOISY},
            "faust.worker": {"level": level.upper()},  # keeps "Ready" and fatal start-up errors
        },
    }


def configure_logging(service: str, level: str = "INFO", fmt: str = "json") -> None:
    logging.config.dictConfig(logging_config(service, level, fmt))
