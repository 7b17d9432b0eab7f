"""Static checks of the cluster stack: docker-compose.yml with deploy/compose/cluster.yml
merged over it, as `docker compose -f docker-compose.yml -f deploy/compose/cluster.yml`
runs it. No Docker engine: the merge follows the Compose Specification's rules
(testkit/unit/compose.py), the result is validated against its schema, then checked
against the first file, the brokers' cluster settings, the load balancer's and
Prometheus's configuration, and the files in the repository."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from minsheng import principals
from minsheng.topics import load_specs, replication
from testkit.unit.compose import (
    PORTS,
    app_services,
    is_bind,
    load,
    merged,
    promtool_check_config,
    specification_errors,
    volume_sources,
)

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "docker-compose.yml"
CLUSTER = ROOT / "deploy" / "compose" / "cluster.yml"
NGINX = ROOT / "deploy" / "compose" / "nginx.conf"
PROMETHEUS = ROOT / "deploy" / "prometheus"
BROKERS = ("kafka", "kafka-2", "kafka-3")
# What may differ between one broker and the next: who it is and where it keeps its data.
PER_NODE = {"KAFKA_NODE_ID", "KAFKA_BROKER_RACK", "KAFKA_LISTENERS", "KAFKA_ADVERTISED_LISTENERS"}
QUORUM_NETWORK = "kafka-quorum"
DATA = "/var/lib/kafka/data"


@pytest.fixture(scope="module")
def single() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = load(BASE)["services"]
    return services


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return merged(BASE, CLUSTER)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def instances(services: dict[str, dict[str, Any]], name: str) -> dict[str, int]:
    """The services running the console script of `name`, each with its replica count."""
    return {
        other: int(service.get("deploy", {}).get("replicas", 1))
        for other, service in services.items()
        if service.get("command") == [f"minsheng-{name}"]
    }


def partitions() -> int:
    """The fewest partitions of a consumed topic: more workers than that would idle."""
    return min(spec.partitions for spec in load_specs())


def test_the_merged_stack_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    assert specification_errors(compose) == []
    assert "version" not in compose
    # the merge did what the file says: the replicas publish nothing, the balancer does
    assert "ports" not in compose["services"]["appeals"]
    assert compose["services"]["notifications"]["ports"] == ["127.0.0.1:8025:8025"]


def test_what_the_services_name_exists(compose: dict[str, Any]) -> None:
    services = compose["services"]
    volumes, networks = set(compose["volumes"]), {"default", *compose.get("networks", {})}
    configs = set(compose["configs"])
    for name, service in services.items():
        assert set(service.get("depends_on", ())) <= set(services), name
        mode = service.get("network_mode", "")
        assert not mode.startswith("service:") or mode.removeprefix("service:") in services
        assert set(service.get("networks", ())) <= networks, name
        assert {c["source"] for c in service.get("configs", ())} <= configs, name
        for source in volume_sources(service):
            if is_bind(source):
                assert (ROOT / source).resolve().exists(), f"{name}: {source} is missing"
            else:
                assert source in volumes, f"{name}: no volume {source}"


def test_nothing_is_published_twice_on_the_host(services: dict[str, dict[str, Any]]) -> None:
    published = [p.rsplit(":", 1)[0] for s in services.values() for p in s.get("ports", ())]
    assert len(published) == len(set(published)), published
    for name, service in services.items():
        if int(service.get("deploy", {}).get("replicas", 1)) > 1:
            assert not service.get("ports"), f"{name}: replicas cannot share a host port"


def test_three_brokers_with_the_first_ones_settings(
    single: dict[str, dict[str, Any]], services: dict[str, dict[str, Any]]
) -> None:
    assert {n for n, s in services.items() if s.get("image", "").startswith("apache/kafka")} == {
        *BROKERS
    }
    first = single["kafka"]
    for name in BROKERS:
        broker = services[name]
        for key in ("image", "entrypoint", "configs", "healthcheck", "restart"):
            assert broker[key] == first[key], f"{name}: {key}"
        mounts = dict(v.split(":", 1) for v in broker["volumes"])
        assert {k: v for k, v in mounts.items() if v != DATA} == {
            k: v for k, v in dict(v.split(":", 1) for v in first["volumes"]).items() if v != DATA
        }
        # every setting the single broker has, this one has, equal unless it is a
        # per-node one or one the cluster sets for all
        cluster_wide = set(load(CLUSTER)["x-cluster-broker-env"])
        env = broker["environment"]
        for key, value in first["environment"].items():
            if key not in PER_NODE | cluster_wide:
                assert env.get(key) == value, f"{name}: {key}"
    data = [v for name in BROKERS for v in services[name]["volumes"] if v.endswith(DATA)]
    assert len(set(data)) == len(BROKERS), "each broker its own data volume"


def _listeners(env: dict[str, Any]) -> dict[str, str]:
    return dict(entry.split("://") for entry in env["KAFKA_LISTENERS"].split(","))


def test_the_brokers_form_one_replicated_rack_aware_cluster(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    envs = {name: services[name]["environment"] for name in BROKERS}
    assert len({env["CLUSTER_ID"] for env in envs.values()}) == 1
    assert sorted(int(env["KAFKA_NODE_ID"]) for env in envs.values()) == [1, 2, 3]
    assert len({env["KAFKA_BROKER_RACK"] for env in envs.values()}) == len(BROKERS)
    for name, env in envs.items():
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert int(env["KAFKA_DEFAULT_REPLICATION_FACTOR"]) == len(BROKERS)
        assert int(env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) == len(BROKERS)
        assert int(env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"]) == len(BROKERS)
        # a write needs two racks; one broker may be lost without refusing writes
        assert int(env["KAFKA_MIN_INSYNC_REPLICAS"]) == 2
        assert int(env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"]) == 2
        assert env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"SASL_PLAINTEXT://{name}:9092"
        assert _listeners(env)["SASL_PLAINTEXT"] == ":9092"
    # the voters are the three nodes, each at the controller address it listens on,
    # an alias on a network of the brokers only, which nothing else can reach
    voters = {f"{env['KAFKA_NODE_ID']}@{_listeners(env)['CONTROLLER']}" for env in envs.values()}
    for env in envs.values():
        assert set(env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")) == voters
    for name in BROKERS:
        host = _listeners(envs[name])["CONTROLLER"].split(":")[0]
        assert services[name]["networks"][QUORUM_NETWORK]["aliases"] == [host]
        assert "default" in services[name]["networks"]
    on_quorum = {n for n, s in services.items() if QUORUM_NETWORK in s.get("networks", ())}
    assert on_quorum == set(BROKERS)
    assert compose["networks"][QUORUM_NETWORK]["internal"] is True
    assert not any("9093" in p for n in BROKERS for p in services[n].get("ports", ()))


def test_every_client_reaches_every_broker_as_its_own_principal(
    services: dict[str, dict[str, Any]],
) -> None:
    bootstrap = {f"{name}:9092" for name in BROKERS}
    scram = dict(
        pair.split(":", 1)
        for pair in services["kafka"]["environment"]["MINSHENG_KAFKA_SCRAM_USERS"].split()
    )
    assert set(scram) == {principals.ADMIN, *principals.SERVICES}
    for name in BROKERS:
        assert services[name]["environment"]["MINSHENG_KAFKA_SCRAM_USERS"].split() == [
            f"{user}:{password}" for user, password in scram.items()
        ]
    clients = {n: s for n, s in app_services(services).items() if "dev-sinks" not in n}
    assert len(clients) >= 6
    for name, service in clients.items():
        env = service["environment"]
        assert set(env["MINSHENG_KAFKA_BOOTSTRAP"].split(",")) == bootstrap, name
        user = env["MINSHENG_KAFKA_USERNAME"]
        assert user in scram, name
        assert env["MINSHENG_KAFKA_PASSWORD"] == scram[user], name
        depends = service["depends_on"]
        assert depends["kafka"] == {"condition": "service_healthy"}, name


def test_topics_are_created_with_the_clusters_replication_factor(
    services: dict[str, dict[str, Any]],
) -> None:
    topics = services["topics"]
    assert topics["command"] == ["minsheng-platform", "topics"]
    assert replication().factor == len(BROKERS)  # the tool's ceiling: all three brokers
    for name in BROKERS:
        assert topics["depends_on"][name] == {"condition": "service_healthy"}


@pytest.mark.parametrize("name", ["appeals", "projects", "notifications"])
def test_two_instances_of_each_http_service(services: dict[str, dict[str, Any]], name: str) -> None:
    assert sum(instances(services, name).values()) == 2


def test_the_second_notifications_is_the_first_with_its_own_sinks(
    services: dict[str, dict[str, Any]],
) -> None:
    """Written out twice (a file cannot extend a service of the file it is merged over),
    so this keeps them one: the same settings, command, health check and volume; its dev
    sinks in its own network, their files apart, the secrets shared."""
    first, second = services["notifications"], services["notifications-2"]
    for key in ("build", "command", "environment", "healthcheck", "volumes", "restart"):
        assert second[key] == first[key], key
    assert second["depends_on"] == {
        **first["depends_on"],
        "notifications": {"condition": "service_healthy"},
    }
    assert "ports" not in second
    sinks, sinks_2 = services["dev-sinks"], services["dev-sinks-2"]
    for key in ("build", "command", "environment", "healthcheck", "restart"):
        assert sinks_2[key] == sinks[key], key
    assert sinks_2["network_mode"] == "service:notifications-2"
    assert volume_sources(sinks_2)[0] == volume_sources(sinks)[0] == "notifications-data"
    data_dir = first["environment"]["MINSHENG_DATA_DIR"]
    assert sinks_2["volumes"][1].split(":")[1] == f"{data_dir}/sinks"
    # the SMS lookup reaches appeals through the balancer, whichever replica answers
    for service in (first, second):
        assert service["environment"]["MINSHENG_NOTIFICATIONS_APPEALS_URL"] == (
            f"http://balancer:{PORTS['appeals']}"
        )


def test_analytics_workers_up_to_the_partition_count(
    services: dict[str, dict[str, Any]],
) -> None:
    workers = instances(services, "analytics")
    assert list(workers) == ["analytics"], "replicas of one service: --scale changes them"
    assert 2 <= workers["analytics"] <= partitions() == 6
    analytics = services["analytics"]
    assert "volumes" not in analytics, "tables in memory, restored from the changelog"
    assert "MINSHENG_ANALYTICS_ADVERTISED_URL" not in analytics["environment"]  # host name


def _nginx() -> tuple[dict[str, list[str]], dict[int, str]]:
    """nginx.conf's upstreams (name -> `host:port` servers) and ports (listen -> upstream)."""
    text = re.sub(r"#.*", "", NGINX.read_text(encoding="utf-8"))
    upstreams = {
        name: re.findall(r"server\s+(\S+)\s+resolve;", body)
        for name, body in re.findall(r"upstream\s+(\S+)\s*\{([^}]*)\}", text)
    }
    listens = {
        int(port): upstream
        for port, upstream in re.findall(
            r"listen\s+(\d+);\s*location\s+/\s*\{\s*proxy_pass\s+http://(\S+);", text
        )
    }
    return upstreams, listens


def test_the_balancer_spreads_each_service_over_all_its_instances(
    services: dict[str, dict[str, Any]],
) -> None:
    balancer = services["balancer"]
    assert re.fullmatch(r"nginx:\d+\.\d+(\.\d+)?", balancer["image"]), "the official image"
    assert "./deploy/compose/nginx.conf:/etc/nginx/nginx.conf:ro" in balancer["volumes"]
    published = {tuple(p.split(":")[-2:]) for p in balancer["ports"]}
    assert published == {(str(port), str(port)) for port in PORTS.values()}
    upstreams, listens = _nginx()
    assert listens == {port: name for name, port in PORTS.items()}
    for name, port in PORTS.items():
        found = instances(services, name)
        assert sorted(upstreams[name]) == sorted(f"{n}:{port}" for n in found), name
        for instance in found:
            assert str(services[instance]["environment"]["MINSHENG_HTTP_PORT"]) == str(port)
            assert balancer["depends_on"][instance] == {"condition": "service_healthy"}


def test_prometheus_finds_every_instance() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.cluster.yml").read_text())
    single = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert config["rule_files"] == single["rule_files"]
    assert config["alerting"] == single["alerting"]
    assert {job["job_name"] for job in config["scrape_configs"]} == set(PORTS)


def test_prometheus_scrapes_what_the_stack_runs(services: dict[str, dict[str, Any]]) -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.cluster.yml").read_text())
    command = services["prometheus"]["command"]
    assert "--config.file=/etc/prometheus/prometheus.cluster.yml" in command
    assert "./deploy/prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]
    for job in config["scrape_configs"]:
        name = job["job_name"]
        [discovery] = job["dns_sd_configs"]
        assert discovery["type"] == "A"
        assert discovery["port"] == PORTS[name]
        assert sorted(discovery["names"]) == sorted(instances(services, name)), name


def test_promtool_accepts_the_cluster_config() -> None:
    done = promtool_check_config(PROMETHEUS / "prometheus.cluster.yml")
    assert done.returncode == 0, done.stdout + done.stderr
