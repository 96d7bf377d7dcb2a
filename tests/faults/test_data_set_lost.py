"""A Redis that comes back without its data is noticed, and a frozen one is noticed fast.

A ``matcher serve`` process runs over a private ``redis-server``. Its data set is then lost
under it (FLUSHALL; or Redis restarted on an empty directory, as after a restart without
persistence): within a probe interval health turns NOT_SERVING for every store-backed
service, the log says so once (what happened, what to do), and every write is refused with
UNAVAILABLE, also a write sent before the next probe (the marker is checked inside the write
script), so nothing lands in the empty world. ``matcher store accept-empty`` (the operator's
confirmation), or the old data coming back from a backup, makes the server serve again. A
server started on data written before there was a marker adopts it.

Frozen (SIGSTOP) Redis: reads and the health probe give up after the short read timeout
(``MATCHER_STORE_READ_TIMEOUT_SECONDS``, 0.5 s), not the 2 s writes wait.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest

from matcher.registry.store.redis import RedisStore
from matcher.registry.store.redis_base import reply_text
from matcher.service.convert.volunteers import upserts_to_records
from matcher.v1 import orders_pb2, orders_pb2_grpc, volunteers_pb2
from tests.faults.harness import STORE_SERVICES, future_day, order, volunteer
from tests.support.net import wait_until
from tests.support.paths import ROOT
from tests.support.private_redis import PrivateRedis
from tests.support.registry import Registry, registry_over, rpc_error
from tests.support.server_process import NOT_SERVING, SERVING, ServerProcess, health_of

pytestmark = [pytest.mark.redis, pytest.mark.slow]

V = volunteers_pb2
PREFIX = "matcher"
PROBE_SECONDS = 0.2
#: Health must turn within a probe interval; this bound leaves a loaded machine its margin.
NOTICE_BOUND_SECONDS = 3.0
#: A read or a health turn during a freeze: the 0.5 s read timeout plus a generous margin
#: (2 s, the write timeout, is what they waited before).
FREEZE_BOUND_SECONDS = 1.5
LOST_LINE = "lost its data"


def server_env(redis_url: str, **extra: str) -> dict[str, str]:
    return {
        "MATCHER_STORE": redis_url,
        "MATCHER_REDIS_PREFIX": PREFIX,
        "MATCHER_HEALTH_INTERVAL_SECONDS": str(PROBE_SECONDS),
        "MATCHER_DISPATCH_WINDOW_SECONDS": "0",
        "MATCHER_METRICS_PORT": "-1",
        "MATCHER_WORKERS": "4",
        "MATCHER_GRACE_SECONDS": "1",
        **extra,
    }


class Client:
    """Stubs of the registry and the order service of one server process."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.channel = channel
        self.registry: Registry = registry_over(channel)
        self.orders = orders_pb2_grpc.OrderServiceStub(channel)
        self.day = future_day()

    def health(self, status: int) -> bool:
        return all(health_of(self.channel, s) == status for s in STORE_SERVICES)

    def write_volunteer(self, vid: str) -> None:
        self.registry.upsert(volunteer(vid, self.day))

    def submit(self, key: str) -> orders_pb2.Order:
        reply = self.orders.SubmitOrder(order(key, self.day, 0), timeout=10)
        return reply.order

    def get_volunteer(self, vid: str) -> volunteers_pb2.RegisteredVolunteer:
        request = V.GetVolunteerRequest(volunteer_id=vid)
        return self.registry.volunteers.GetVolunteer(request, timeout=10).volunteer

    def refused_writes(self, tag: str) -> set[grpc.StatusCode]:
        """The codes of a volunteer write and an order submission (both must fail)."""
        upsert = rpc_error(lambda: self.write_volunteer(f"vol-{tag}"))
        submit = rpc_error(lambda: self.submit(f"key-{tag}"))
        return {upsert.code(), submit.code()}


@contextmanager
def matcher_on(redis_url: str, log: list[str], **extra: str) -> Iterator[Client]:
    """A ``matcher serve`` process on ``redis_url`` and a client of it; its log is appended to
    ``log`` once it stopped, and must hold no traceback."""
    server = ServerProcess(server_env(redis_url, **extra))
    server.start()
    try:
        with grpc.insecure_channel(server.target) as channel:
            yield Client(channel)
    finally:
        log.append(server.stop())
    assert "Traceback" not in log[-1]


def keys_of(redis_server: PrivateRedis) -> set[str]:
    client = redis_server.client()
    try:
        return {reply_text(k) for k in client.scan_iter(match=f"{PREFIX}:*")}
    finally:
        client.close()


def accept_empty(redis_url: str) -> subprocess.CompletedProcess[str]:
    """``matcher store accept-empty``, as an operator runs it."""
    command = ["store", "accept-empty", "--store", redis_url, "--prefix", PREFIX]
    return subprocess.run(
        [sys.executable, "-m", "matcher.cli", *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def restart_empty(redis_server: PrivateRedis) -> None:
    """Crash Redis and start it on an empty directory: a restart without persistence."""
    redis_server.stop(signal.SIGKILL)
    shutil.rmtree(redis_server.directory)
    redis_server.directory.mkdir()
    redis_server.start()


def flushall(redis_server: PrivateRedis) -> None:
    client = redis_server.client()
    try:
        client.flushall()
    finally:
        client.close()


def expect_lost(client: Client) -> None:
    """Health turns NOT_SERVING in time; writes and reads are refused with UNAVAILABLE."""
    noticed = time.monotonic()
    wait_until(lambda: client.health(NOT_SERVING), NOTICE_BOUND_SECONDS, "NOT_SERVING")
    print(f"NOT_SERVING {time.monotonic() - noticed:.2f} s after the loss")
    assert client.refused_writes("after-loss") == {grpc.StatusCode.UNAVAILABLE}
    read = rpc_error(lambda: client.get_volunteer("vol-before"))
    assert read.code() == grpc.StatusCode.UNAVAILABLE
    assert "accept-empty" in (read.details() or "")


def lost_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if LOST_LINE in line]


@pytest.mark.parametrize("fault", ["flushall", "restart-empty"])
def test_a_lost_data_set_is_noticed_until_the_operator_accepts_it(
    private_redis: PrivateRedis, fault: str
) -> None:
    log: list[str] = []
    with matcher_on(private_redis.url, log) as client:
        client.write_volunteer("vol-before")
        client.submit("key-before")
        (flushall if fault == "flushall" else restart_empty)(private_redis)
        expect_lost(client)
        # Nothing but the marker (which now says the data set was lost) was written.
        assert keys_of(private_redis) == {f"{PREFIX}:data-set"}
        done = accept_empty(private_redis.url)
        assert done.returncode == 0, done.stderr
        assert "accepted" in done.stdout
        wait_until(lambda: client.health(SERVING), NOTICE_BOUND_SECONDS, "SERVING again")
        client.write_volunteer("vol-after")
        assert client.submit("key-after").order_id
        missing = rpc_error(lambda: client.get_volunteer("vol-before"))
        assert missing.code() == grpc.StatusCode.NOT_FOUND
    [line] = lost_lines(log[0])
    assert "matcher store accept-empty" in line


def test_a_write_between_probes_is_refused_by_the_store(private_redis: PrivateRedis) -> None:
    """A long probe interval: the loss is not yet seen by health, yet no write lands."""
    slow_probe = {"MATCHER_HEALTH_INTERVAL_SECONDS": "600"}
    with matcher_on(private_redis.url, [], **slow_probe) as client:
        client.write_volunteer("vol-before")
        flushall(private_redis)
        assert client.refused_writes("between-probes") == {grpc.StatusCode.UNAVAILABLE}
        assert keys_of(private_redis) <= {f"{PREFIX}:data-set"}


def test_data_restored_from_a_backup_is_served_again(private_redis: PrivateRedis) -> None:
    backup = Path(str(private_redis.directory) + "-backup")
    log: list[str] = []
    try:
        with matcher_on(private_redis.url, log) as client:
            client.write_volunteer("vol-kept")
            private_redis.stop(signal.SIGTERM)  # a clean copy of the append-only file
            shutil.copytree(private_redis.directory, backup)
            private_redis.start()
            restart_empty(private_redis)
            expect_lost(client)
            private_redis.stop(signal.SIGKILL)
            shutil.rmtree(private_redis.directory)
            shutil.copytree(backup, private_redis.directory)
            private_redis.start()
            wait_until(lambda: client.health(SERVING), NOTICE_BOUND_SECONDS, "SERVING again")
            assert client.get_volunteer("vol-kept").volunteer.id == "vol-kept"
            client.write_volunteer("vol-after-restore")
    finally:
        shutil.rmtree(backup, ignore_errors=True)
    assert len(lost_lines(log[0])) == 1


def test_data_written_before_the_marker_is_adopted(private_redis: PrivateRedis) -> None:
    redis_client = private_redis.client()
    try:
        day = future_day()
        batch = V.UpsertVolunteersRequest(volunteers=[volunteer("vol-old", day)])
        RedisStore(redis_client, PREFIX).upsert(upserts_to_records(batch)[0])
    finally:
        redis_client.close()
    log: list[str] = []
    with matcher_on(private_redis.url, log) as client:
        assert client.health(SERVING)
        assert client.get_volunteer("vol-old").volunteer.id == "vol-old"
        client.write_volunteer("vol-new")
        assert f"{PREFIX}:data-set" in keys_of(private_redis)
    lines = log[0].splitlines()
    assert any("adopted" in line and f"{PREFIX}:data-set" in line for line in lines)
    assert lost_lines(log[0]) == []


def test_a_frozen_redis_is_noticed_after_the_read_timeout(private_redis: PrivateRedis) -> None:
    with matcher_on(private_redis.url, []) as client:
        client.write_volunteer("vol-1")
        assert private_redis.proc is not None
        private_redis.proc.send_signal(signal.SIGSTOP)
        try:
            frozen = time.monotonic()
            wait_until(lambda: client.health(NOT_SERVING), FREEZE_BOUND_SECONDS, "NOT_SERVING")
            noticed = time.monotonic() - frozen
            began = time.monotonic()
            code = rpc_error(lambda: client.get_volunteer("vol-1")).code()
            answered = time.monotonic() - began
        finally:
            private_redis.proc.send_signal(signal.SIGCONT)
        print(f"frozen Redis: NOT_SERVING after {noticed:.2f} s, a read failed in {answered:.2f} s")
        assert code == grpc.StatusCode.UNAVAILABLE
        assert answered < FREEZE_BOUND_SECONDS
        wait_until(lambda: client.health(SERVING), NOTICE_BOUND_SECONDS, "SERVING after SIGCONT")
        assert client.get_volunteer("vol-1").volunteer.id == "vol-1"
