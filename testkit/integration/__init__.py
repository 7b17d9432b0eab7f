"""Helpers of the tests against the real broker and database (services in-process)."""
