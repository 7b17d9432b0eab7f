"""Why a message cannot be applied: the one exception every parser and handler raises.

Consumers put its `reason` in the dead-letter headers and in the
`minsheng_dead_letters_total` label, so the reasons are a fixed, documented set.
"""

from __future__ import annotations


class InvalidEvent(Exception):
    """A message that cannot be applied: `reason` is one of REASONS, `detail` says why."""

    REASONS = (
        "bad_json",
        "bad_envelope",
        "unknown_type",
        "schema_violation",
        "foreign_source",
        "rejected",
        "handler_error",
    )

    def __init__(self, reason: str, detail: str) -> None:
        assert reason in self.REASONS, reason
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
