"""The one place Kafka clients are built.

The broker authenticates every client (SASL/SCRAM-SHA-512) and authorises it by ACLs
(`minsheng.acls`); it refuses anonymous clients. Every producer, consumer, admin client
and Faust app of the platform is built from a `KafkaAccess`, which cannot exist without
a user name and password, so no client connects without credentials by accident
(`tests/test_boundaries.py` fails on a client built anywhere else).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

MECHANISM = "SCRAM-SHA-512"
PROTOCOL = "SASL_PLAINTEXT"


class MissingCredentials(ValueError):
    """Settings without a Kafka user or password: the broker would refuse the client."""


@dataclass(frozen=True)
class KafkaAccess:
    """Where the broker is and whom to connect as."""

    bootstrap: str
    username: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.username or not self.password:
            raise MissingCredentials(
                "Kafka needs credentials: set MINSHENG_KAFKA_USERNAME and "
                "MINSHENG_KAFKA_PASSWORD (the broker refuses anonymous clients)"
            )

    def options(self) -> dict[str, Any]:
        """aiokafka's connection options (every client class takes the same)."""
        return {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": PROTOCOL,
            "sasl_mechanism": MECHANISM,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password,
        }

    def producer(self, **options: Any) -> AIOKafkaProducer:
        return AIOKafkaProducer(**self.options(), **options)

    def consumer(self, *topics: str, **options: Any) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(*topics, **self.options(), **options)

    def admin(self, **options: Any) -> AIOKafkaAdminClient:
        return AIOKafkaAdminClient(**self.options(), **options)

    def faust(self) -> dict[str, Any]:
        """`faust.App` settings: the broker URL and its credentials."""
        from faust import SASLCredentials

        credentials = SASLCredentials(
            username=self.username, password=self.password, mechanism=MECHANISM
        )
        return {"broker": f"kafka://{self.bootstrap}", "broker_credentials": credentials}

    def librdkafka(self) -> dict[str, str]:
        """The same for librdkafka (confluent-kafka), as outside systems connect."""
        return {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": PROTOCOL,
            "sasl.mechanisms": MECHANISM,
            "sasl.username": self.username,
            "sasl.password": self.password,
        }

    def jaas(self) -> str:
        """A Java client's `sasl.jaas.config` (also the broker's own, as the super user)."""
        return (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{self.username}" password="{self.password}";'
        )

    def java(self) -> str:
        """A Java client's properties (the Kafka command-line tools' --command-config)."""
        return (
            f"security.protocol={PROTOCOL}\nsasl.mechanism={MECHANISM}\n"
            f"sasl.jaas.config={self.jaas()}\n"
        )

    def env(self) -> dict[str, str]:
        """The `MINSHENG_KAFKA_*` settings of a child process connecting as this user."""
        return {
            "MINSHENG_KAFKA_BOOTSTRAP": self.bootstrap,
            "MINSHENG_KAFKA_USERNAME": self.username,
            "MINSHENG_KAFKA_PASSWORD": self.password,
        }

    def settings(self) -> dict[str, Any]:
        """The same as keyword arguments of `Settings`."""
        return {key.removeprefix("MINSHENG_").lower(): value for key, value in self.env().items()}

    def as_user(self, username: str, password: str) -> KafkaAccess:
        """The same broker, another user."""
        return KafkaAccess(self.bootstrap, username, password)
