"""The bounded mixed load test (issue #7): ``benchmarks.mixed`` for about 8 seconds on
each store, on a server of its own on loopback (a child process), and for 6 seconds on the
memory store with access control on (``auth="keys"``: API keys the run makes, each call
with the least-privileged key that may make it).

Asserts what must hold on any machine: no unexpected status code, no client crash, every
consistency check ran and passed (no lost order or update, legal histories, no double
booking, no hold left behind, the ledger balances, balances and registry effects add up),
and that real work happened. No latency threshold: the machine is shared. The figures are
``python -m benchmarks.mixed``'s job.
"""

from __future__ import annotations

import dataclasses

import pytest
import redis

from benchmarks.mixed.audit import failures
from benchmarks.mixed.run import LoadConfig, run_mixed_load
from tests.support.redis_db import RedisDb, redis_url, shared_redis_or_skip

#: The load tests' Redis database (their own key prefix, deleted afterwards).
REDIS_URL = redis_url(RedisDb.LOAD)
BOUNDED = LoadConfig(seconds=8.0, clients=12, volunteers=1000, templates=5000)
KEYED = dataclasses.replace(BOUNDED, seconds=6.0, auth="keys")


def _assert_sound(results: dict[str, object]) -> None:
    found = failures(results)
    assert not found, "\n".join(found[:40])
    checks = results["checks"]
    assert isinstance(checks, dict)
    assert all(check["ran"] for check in checks.values()), checks
    work = results["work"]
    assert isinstance(work, dict)
    # Loose floors: a few seconds of load on a busy 2-core machine still does this much.
    assert work["acknowledged_submissions"] >= 50, work
    assert work["accepted_offers"] >= 10, work
    assert work["completed_orders"] >= 5, work
    assert work["client_rounds"] >= 2, work
    assert work["orders"] >= work["acknowledged_submissions"], work


@pytest.mark.slow
def test_mixed_load_on_the_memory_store() -> None:
    _assert_sound(run_mixed_load(BOUNDED))


@pytest.mark.slow
def test_mixed_load_with_api_keys() -> None:
    """Every call carries its caller's own key (one per volunteer, one per resident app):
    no UNAUTHENTICATED or PERMISSION_DENIED during the load, the checks hold, and the server
    really enforced the keys (refused a call without one and a volunteer's key on another
    volunteer's offer, among others)."""
    results = run_mixed_load(KEYED)
    _assert_sound(results)
    auth = results["auth"]
    assert isinstance(auth, dict)
    volunteers = KEYED.volunteers + max(10, KEYED.volunteers // 20)  # with the on-call group
    assert auth["mode"] == "keys" and auth["keys"] > volunteers, auth
    checks = results["checks"]
    assert isinstance(checks, dict)
    probes = {p["probe"]: p for p in checks["access_enforced"]["probes"]}
    assert probes["ListOrders without a key"]["got"] == "UNAUTHENTICATED", probes
    accept = [p for label, p in probes.items() if label.startswith("AcceptOffer ")]
    assert accept and accept[0]["got"] == "PERMISSION_DENIED", probes
    assert all(p["got"] == p["expected"] for p in probes.values()), probes
    assert len(probes) >= 10, probes


@pytest.mark.slow
@pytest.mark.redis
def test_mixed_load_on_redis() -> None:
    shared_redis_or_skip().close()  # skips without Redis, fails under CI=true
    results = run_mixed_load(dataclasses.replace(BOUNDED, store=REDIS_URL))
    _assert_sound(results)
    prefix = results["redis_prefix"]
    assert isinstance(prefix, str) and prefix.startswith("loadtest-")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert not list(client.scan_iter(match=f"{prefix}:*", count=1000)), "keys left behind"
    finally:
        client.close()
