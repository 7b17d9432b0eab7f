"""Helpers for tests against the real parts: free ports, polling with deadlines, topics."""
