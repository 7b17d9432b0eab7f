# Minsheng: `make up` runs the platform locally, `make test` runs the whole suite.
# Both install what they need: uv (from PyPI) into .cache/, the locked virtualenv into
# .venv/, and the Kafka broker jars (from Maven Central) into .cache/kafka-libs/.

PYTHON ?= python3
MVN ?= mvn
UV_VERSION := 0.13.8
UV := .cache/uv/bin/uv
VENV := .venv
JARS := .cache/kafka-libs/.complete
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: up demo test install tools lint typecheck unit fuzz chaos chaos-cluster contracts dashboards bench clean distclean help
.DEFAULT_GOAL := help

help:
	@echo "make up        run Kafka, PostgreSQL and the services locally (Ctrl-C stops);"
	@echo "               BROKERS=3 runs a three-node Kafka cluster instead of one broker"
	@echo "make demo      a simulated city on the running platform (DEMO_ARGS='--days 3 --speed 200')"
	@echo "make test      lint, type-check and run the whole test suite"
	@echo "make unit      only the fast unit tests"
	@echo "make fuzz      schemathesis on every service's OpenAPI, longer (FUZZ_SECONDS=120 each)"
	@echo "make bench     run the benchmarks in bench/"
	@echo "make chaos     every fault in turn under load (kill -9, broker down 60 s, PostgreSQL restart)"
	@echo "make chaos-cluster  the same on a three-broker cluster: kill -9 of the leading broker,"
	@echo "               one broker down 60 s, all brokers but one down 60 s"
	@echo "make contracts regenerate contracts/ (JSON Schemas, AsyncAPI) from the models"
	@echo "make dashboards regenerate deploy/grafana/dashboards/ from libs/minsheng/dashboards"
	@echo "make clean     remove local data (.data/); distclean also removes .venv and .cache"

$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (3.11+)"; exit 1; }
	$(PYTHON) -m venv .cache/uv
	.cache/uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

$(JARS): deploy/kafka/pom.xml
	@command -v java >/dev/null || { echo "need Java 17 (apt-get install openjdk-17-jre-headless)"; exit 1; }
	@command -v mvn >/dev/null || { echo "need Maven (apt-get install maven)"; exit 1; }
	rm -rf .cache/kafka-libs
	$(MVN) --batch-mode --quiet -f deploy/kafka/pom.xml dependency:copy-dependencies \
		-DoutputDirectory=$(CURDIR)/.cache/kafka-libs
	@touch $@

# promtool and amtool (Debian's prometheus and prometheus-alertmanager) check the
# monitoring configuration in the tests; apt-get needs root, as on this project's machines.
tools:
	@command -v promtool >/dev/null && command -v amtool >/dev/null || { \
		command -v apt-get >/dev/null || { echo "need promtool and amtool (Debian: prometheus, prometheus-alertmanager)"; exit 1; }; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			prometheus prometheus-alertmanager >/dev/null; }

install: $(VENV)/.synced $(JARS)

# Prometheus and Alertmanager are optional for `make up`: where `tools` cannot install
# them (no root, no apt-get) the launcher says so in one line and runs without them.
BROKERS ?= 1
up: install
	@$(MAKE) --no-print-directory tools >/dev/null 2>&1 || true
	$(VENV)/bin/minsheng-platform up --brokers $(BROKERS)

# Needs the platform of `make up` running (in another terminal); see minsheng-demo --help.
DEMO_ARGS ?=
demo: $(VENV)/.synced
	$(VENV)/bin/minsheng-demo $(DEMO_ARGS)

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.synced
	$(VENV)/bin/mypy

unit: $(VENV)/.synced
	$(VENV)/bin/pytest -m "not integration and not e2e" -q

# Two pytest-xdist workers, each test file on one of them with its own broker and
# PostgreSQL: most of the suite waits on servers, so the two overlap their waits.
TEST_WORKERS ?= 2
test: install tools lint typecheck
	$(VENV)/bin/pytest -q -ra --durations=10 -n $(TEST_WORKERS) --dist loadfile

# The fuzz tests of `make test` (20 s a service), each service for FUZZ_SECONDS instead.
FUZZ_SECONDS ?= 120
fuzz: install
	MINSHENG_FUZZ_SECONDS=$(FUZZ_SECONDS) $(VENV)/bin/pytest -q -ra tests/test_fuzz.py

# The fault suite, full: each service killed with -9, the broker stopped CHAOS_BROKER_OUTAGE
# seconds, PostgreSQL restarted, under load; prints the per-fault table (testkit/chaos).
CHAOS_BROKER_OUTAGE ?= 60
CHAOS_ARGS ?=
chaos: install
	$(VENV)/bin/python -m testkit.chaos --broker-outage $(CHAOS_BROKER_OUTAGE) $(CHAOS_ARGS)

# The broker faults of a three-node cluster under the same load (docs/kafka-cluster.md).
chaos-cluster: install
	$(VENV)/bin/python -m testkit.chaos --brokers 3 --broker-outage $(CHAOS_BROKER_OUTAGE) $(CHAOS_ARGS)

contracts: $(VENV)/.synced
	$(VENV)/bin/python -m minsheng.contracts

dashboards: $(VENV)/.synced
	$(VENV)/bin/python -m minsheng.dashboards

bench: install
	$(VENV)/bin/python bench/skeleton_latency.py
	$(VENV)/bin/python bench/appeals_intake.py
	$(VENV)/bin/python bench/analytics_throughput.py
	$(VENV)/bin/python bench/analytics_freshness.py
	$(VENV)/bin/python bench/notifications_delivery.py

clean:
	rm -rf .data

distclean: clean
	rm -rf $(VENV) .cache
