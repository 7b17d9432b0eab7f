"""The suite's shared fixtures (a real Kafka broker and PostgreSQL server) live in
testkit/integration/fixtures.py; the helpers of every layer in testkit/."""

pytest_plugins = ["testkit.integration.fixtures", "testkit.integration.leaks"]
