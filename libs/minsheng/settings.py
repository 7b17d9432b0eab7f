"""Settings from `MINSHENG_*` environment variables; every default works on localhost."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from minsheng.kafka import KafkaAccess


class Settings(BaseSettings):
    """What every service needs; a service subclasses it for its own knobs."""

    model_config = SettingsConfigDict(env_prefix="MINSHENG_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_username: str = Field(
        default="",
        description="The Kafka principal (SASL/SCRAM-SHA-512) this process connects as; "
        "`make up` gives each service its own.",
    )
    kafka_password: SecretStr = Field(default=SecretStr(""), description="Its password.")
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:55432/postgres",
        description="The server; each service uses (and creates) a database named after itself.",
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    http_workers: int = Field(default=1, ge=1, description="Server processes (uvicorn workers).")
    log_level: str = "INFO"
    log_format: str = Field(default="json", pattern="^(json|text)$")
    database_suffix: str = Field(
        default="", pattern=r"^[a-z0-9_]*$", description="Appended to database names (tests)."
    )
    dev_api_key: str | None = None
    dev_system_key: str | None = Field(
        default=None,
        description="A development key of role `system` (one service calling another), "
        "registered at start like the dev operator key.",
    )
    data_dir: Path = Path(".data")
    outbox_poll_interval: float = Field(default=1.0, gt=0)
    outbox_batch_size: int = Field(default=500, gt=0)
    timer_interval: float = Field(
        default=5.0, gt=0, description="Seconds between ticks of the durable timers' job."
    )
    auth_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long a checked API key is trusted (revocation delay)."
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        gt=0,
        description="The largest request body taken; a larger one is a 413 problem.",
    )
    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Comma-separated origins whose browser pages may call the API "
        "(`*` for any); none by default, so only same-origin pages may.",
    )
    environment: Literal["development", "production"] = Field(
        default="development", description="`production` refuses the demo-only settings."
    )
    demo_clock_file: Path | None = Field(
        default=None,
        description="Demo platforms only: the compressed clock's anchor file (`minsheng-demo`).",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _no_demo_clock_in_production(self) -> Self:
        if self.environment == "production" and self.demo_clock_file is not None:
            raise ValueError("MINSHENG_DEMO_CLOCK_FILE is for demo platforms, not production")
        return self

    @property
    def kafka(self) -> KafkaAccess:
        """How every Kafka client of this process connects (`minsheng.kafka`)."""
        return KafkaAccess(
            self.kafka_bootstrap, self.kafka_username, self.kafka_password.get_secret_value()
        )

    def database_for(self, service: str) -> str:
        """The server URL with the service's own database name (the own-database rule)."""
        parts = urlsplit(self.database_url)
        return urlunsplit(parts._replace(path=f"/{service}{self.database_suffix}"))
