"""Helpers of the tests and benchmarks that run the services as real processes."""
