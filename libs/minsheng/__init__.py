"""Shared library of the Minsheng services: event contracts, bus, outbox, settings, wiring."""
