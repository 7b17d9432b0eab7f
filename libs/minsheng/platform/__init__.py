"""Starts the real parts (Kafka, PostgreSQL, the services) on one machine, without Docker."""
