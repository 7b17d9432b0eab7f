"""The API key cache: trusted for its time to live, then checked again."""

from __future__ import annotations

from minsheng.auth import KeyCache, Principal, bearer_key
from testkit.unit.clock import Ticks

WANG = Principal("王五", "unit", "市住建局")


def test_a_found_key_is_trusted_until_its_time_to_live_runs_out() -> None:
    ticks = Ticks(100.0)
    cache = KeyCache(5.0, clock=ticks)
    assert cache.get("k") is None
    cache.put("k", WANG)
    ticks.now += 4.9
    assert cache.get("k") == WANG
    ticks.now += 0.1
    assert cache.get("k") is None  # revocations take effect from here on


def test_no_time_to_live_keeps_nothing() -> None:
    cache = KeyCache(0.0)
    cache.put("k", WANG)
    assert cache.get("k") is None


def test_a_full_cache_starts_over_instead_of_growing() -> None:
    cache = KeyCache(60.0, size=3)
    for key in "abc":
        cache.put(key, WANG)
    cache.put("d", WANG)
    assert [cache.get(k) for k in "abcd"] == [None, None, None, WANG]


def test_only_a_bearer_header_with_a_key_names_a_key() -> None:
    assert bearer_key("Bearer msk_abc") == "msk_abc"
    assert bearer_key("bearer  msk_abc ") == "msk_abc"
    for header in (None, "", "Bearer", "Bearer   ", "Basic msk_abc", "msk_abc"):
        assert bearer_key(header) is None
