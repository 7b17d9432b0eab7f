"""Every Kafka client is built by `minsheng.kafka.KafkaAccess`, which has credentials."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from minsheng import principals
from minsheng.kafka import MissingCredentials
from minsheng.platform.kafka import DEV_OUTSIDE, KafkaBroker, KafkaWithoutCredentials
from minsheng.settings import Settings
from minsheng.topics import INTAKE_APPEALS, INTAKE_PROJECTS, OWNERS, dlq

REPO = Path(__file__).resolve().parents[3]
CLIENTS = {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient", "Producer", "Consumer"}
# where a client is built by hand: the one place, and the test of anonymous clients
ALLOWED = {"libs/minsheng/kafka.py", "tests/test_broker_auth.py"}
# librdkafka clients are built from KafkaAccess.librdkafka() (outside systems' view)
LIBRDKAFKA_ALLOWED = {"testkit/integration/outsiders.py"}


def clients_built(source: str) -> set[str]:
    """The Kafka client classes a module calls (by their bare or attribute name)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in CLIENTS:
                found.add(name)
    return found


def test_no_kafka_client_is_built_outside_the_one_place() -> None:
    found = {}
    for folder in ("libs", "services", "testkit", "tests", "bench"):
        for path in (REPO / folder).rglob("*.py"):
            where = path.relative_to(REPO).as_posix()
            built = clients_built(path.read_text(encoding="utf-8"))
            if where in LIBRDKAFKA_ALLOWED:
                built -= {"Producer", "Consumer"}
            if built and where not in ALLOWED:
                found[where] = built
    assert found == {}


def test_the_check_finds_a_client_built_by_hand() -> None:
    assert clients_built("p = aiokafka.AIOKafkaProducer(bootstrap_servers='x')") == {
        "AIOKafkaProducer"
    }
    assert clients_built("c = kafka.consumer('t')") == set()


def test_no_access_without_credentials_and_none_shown() -> None:
    with pytest.raises(MissingCredentials, match="MINSHENG_KAFKA_USERNAME"):
        _ = Settings().kafka
    access = Settings(kafka_username="appeals", kafka_password="s3cret").kafka
    assert "s3cret" not in repr(access)
    assert access.options()["sasl_mechanism"] == "SCRAM-SHA-512"
    assert access.options()["security_protocol"] == "SASL_PLAINTEXT"
    assert Settings(**access.settings()).kafka == access
    assert access.librdkafka()["sasl.password"] == "s3cret"


def test_each_domain_topic_is_written_by_its_owner_alone() -> None:
    """The ACLs and the consumers' source check agree: the one principal that may write
    a domain topic is the service whose source owns it; outside systems write intake."""
    for topic, source in OWNERS.items():
        writers = {user for user, grants in principals.SERVICES.items() if topic in grants.writes}
        assert writers == {source.removeprefix("minsheng/")}, topic
    assert set(principals.OUTSIDE.writes) == {INTAKE_APPEALS, INTAKE_PROJECTS}
    assert not principals.OUTSIDE.reads
    assert principals.OUTSIDE.prefix is None
    for user, grants in principals.SERVICES.items():
        # dead letters only of what it reads, and every group under its own prefix
        assert {t for t in grants.writes if t.endswith(".dlq")} == {dlq(t) for t in grants.reads}
        assert (principals.GROUP, grants.prefix, principals.PREFIXED, principals.ALL) in set(
            principals.acl_bindings(grants)
        ), user


def test_credentials_are_made_once_private_and_refused_for_old_data(tmp_path: Path) -> None:
    broker = KafkaBroker(tmp_path / "kafka")
    first = broker.credentials()
    assert set(first) == {principals.ADMIN, *principals.SERVICES, DEV_OUTSIDE}
    assert len(set(first.values())) == len(first)  # a password each
    assert broker.credentials_file.stat().st_mode & 0o777 == 0o600
    assert KafkaBroker(tmp_path / "kafka").credentials() == first  # kept, not remade
    assert broker.access("appeals").password == first["appeals"]
    old = KafkaBroker(tmp_path / "old")
    (old.data_dir / "logs").mkdir(parents=True)
    (old.data_dir / "logs" / "meta.properties").write_text("version=1\n")
    with pytest.raises(KafkaWithoutCredentials, match="make clean"):
        old.credentials()
