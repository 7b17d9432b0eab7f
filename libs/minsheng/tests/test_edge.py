"""The edge's pure rules: the token bucket (with an injected clock) and the CORS policy."""

from __future__ import annotations

import math

from minsheng.edge import Cors, TokenBucket, retry_after
from testkit.unit.clock import Ticks


def test_a_key_may_burst_then_goes_at_the_rate_and_keys_are_apart() -> None:
    clock = Ticks(0.0)
    bucket = TokenBucket(rate=0.5, burst=3, clock=clock)  # one every 2 s
    assert [bucket.take("a") for _ in range(3)] == [0, 0, 0]
    assert bucket.take("a") == 2.0  # a whole token is 2 s away
    assert bucket.take("b") == 0, "another key has its own bucket"
    clock.now = 1.0
    assert bucket.take("a") == 1.0  # half refilled: refusals spend nothing
    clock.now = 2.0
    assert bucket.take("a") == 0
    assert bucket.take("a") == 2.0
    clock.now = 1000.0
    assert [bucket.take("a") for _ in range(4)] == [0, 0, 0, 2.0], "refills to the burst only"


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    assert [retry_after(s) for s in (0.01, 1.0, 1.2, 59.5)] == ["1", "1", "2", "60"]
    assert retry_after(math.inf) == "3600"


def test_only_named_origins_methods_and_headers_pass_a_preflight() -> None:
    cors = Cors.of(["https://app.example/", " https://other.example "])
    assert cors.origins == {"https://app.example", "https://other.example"}
    allowed = cors.preflight("https://app.example", "POST", "Authorization, Content-Type")
    assert allowed is not None
    assert allowed["Access-Control-Allow-Origin"] == "https://app.example"
    assert allowed["Vary"] == "Origin"
    assert "POST" in allowed["Access-Control-Allow-Methods"]
    assert cors.preflight("https://evil.example", "GET", "") is None
    assert cors.preflight("https://app.example", "DELETE", "") is None
    assert cors.preflight("https://app.example", "GET", "X-Secret") is None
    assert cors.response("https://evil.example") == {}
    assert cors.response(None) == {}
    exposed = cors.response("https://other.example")["Access-Control-Expose-Headers"]
    assert "Retry-After" in exposed


def test_any_origin_is_named_by_a_star_and_none_by_default() -> None:
    anyone = Cors.of(["*"])
    assert anyone.response("https://x.example")["Access-Control-Allow-Origin"] == "*"
    assert "Vary" not in anyone.response("https://x.example")
    assert Cors.of([]).preflight("https://x.example", "GET", "") is None
