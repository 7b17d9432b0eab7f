"""Helpers of the pure tests: no broker, no database, no process."""
