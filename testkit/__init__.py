"""Helpers of the test suite and the benchmarks, one place per layer; not shipped.

- `testkit.unit`: pure tests, no broker, database or process: sample events, a fake
  clock, lifecycle property scaffolding, per-service builders, the analytics workload
  and the counters it must produce.
- `testkit.integration`: tests against the real Kafka broker and PostgreSQL server the
  fixtures start (`fixtures`, loaded by conftest.py), with services in-process (`apps`):
  polling with a deadline, reading topics back, API keys.
- `testkit.e2e`: the services as real processes: the platform `Stack`, analytics workers.

A layer may use the ones above it in this list, never the reverse. Test modules import
from here, never from one another.
"""
