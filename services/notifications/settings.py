"""Settings of the notifications service: `MINSHENG_NOTIFICATIONS_*` beside the shared ones.

The shared knobs (database, Kafka, port, data directory) keep their `MINSHENG_` names;
the service's own carry the service's name, so one environment can hold every
service's settings without two meaning different things.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from minsheng.reference import HERE as REFERENCE
from minsheng.settings import Settings
from minsheng.topics import APPEALS, PROJECTS

PREFIX = "MINSHENG_NOTIFICATIONS_"
RULES_FILE = Path(__file__).parent / "rules.yaml"
DIRECTORY_FILE = REFERENCE / "directory.yaml"


def own(name: str, default: Any, description: str, **constraints: Any) -> Any:
    """A field read from `MINSHENG_NOTIFICATIONS_<NAME>` (or given by `name` in code)."""
    return Field(
        default=default,
        validation_alias=PREFIX + name.upper(),
        description=description,
        **constraints,
    )


class NotificationsSettings(Settings):
    model_config = SettingsConfigDict(
        env_prefix="MINSHENG_", extra="ignore", validate_by_name=True, validate_by_alias=True
    )

    http_port: int = 8003
    rules_file: Path = own("rules_file", RULES_FILE, "The notification rules (YAML).")
    directory_file: Path = own("directory_file", DIRECTORY_FILE, "Who is reachable where.")
    webhook_secrets_file: Path | None = own(
        "webhook_secrets_file",
        None,
        "Webhook secrets {recipient: whsec_...}; unset: $MINSHENG_DATA_DIR/webhook-secrets.json, "
        "generated for every webhook recipient when missing (development).",
    )
    appeals_topic: str = own("appeals_topic", APPEALS, "The appeals domain topic.")
    projects_topic: str = own("projects_topic", PROJECTS, "The projects domain topic.")
    consumer_group: str = own("consumer_group", "notifications", "Kafka consumer group.")
    appeals_url: str = own("appeals_url", "http://127.0.0.1:8001", "Resolves citizen contacts.")
    appeals_key: str | None = own("appeals_key", None, "A `system` key of the appeals service.")
    appeals_key_file: Path | None = own(
        "appeals_key_file", None, "A file holding that key (wins over appeals_key)."
    )
    smtp_host: str = own("smtp_host", "127.0.0.1", "SMTP server.")
    smtp_port: int = own("smtp_port", 2525, "SMTP port (the local catcher by default).")
    smtp_starttls: bool = own("smtp_starttls", False, "Upgrade with STARTTLS.")
    smtp_username: str | None = own("smtp_username", None, "SMTP AUTH user.")
    smtp_password: str | None = own("smtp_password", None, "SMTP AUTH password.")
    smtp_sender: str = own("smtp_sender", "minsheng@localhost", "The From address.")
    sms_gateway_url: str = own("sms_gateway_url", "http://127.0.0.1:8025/sms", "SMS gateway.")
    sms_gateway_token: str = own("sms_gateway_token", "dev-sms-token", "Its bearer token.")
    quiet_start: time = own("quiet_start", time(21), "Citizens' quiet hours begin (city time).")
    quiet_end: time = own("quiet_end", time(8), "Citizens' quiet hours end (city time).")
    attempt_timeout: float = own("attempt_timeout", 10.0, "Seconds one attempt may take.", gt=0)
    retry_base: float = own("retry_base", 5.0, "Seconds before the first retry.", gt=0)
    retry_max: float = own("retry_max", 3600.0, "Longest wait between attempts.", gt=0)
    max_attempts: int = own("max_attempts", 10, "Attempts before a delivery fails.", ge=1)
    worker_interval: float = own("worker_interval", 1.0, "Idle poll of the worker.", gt=0)
    worker_batch: int = own("worker_batch", 600, "Attempts in flight at once.", ge=1)
    ack_timeout: float = own(
        "ack_timeout", 900.0, "Seconds a critical page waits for its ack before escalating.", gt=0
    )
    escalation_interval: float = own("escalation_interval", 5.0, "Escalation tick.", gt=0)

    def secrets_path(self) -> Path:
        return self.webhook_secrets_file or self.data_dir / "webhook-secrets.json"

    def contact_key(self) -> str | None:
        if self.appeals_key_file is not None:
            return self.appeals_key_file.read_text().strip()
        return self.appeals_key
