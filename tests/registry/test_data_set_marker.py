"""The data-set marker on a real Redis (a private prefix): written for a new data set,
adopted over data older than markers, a loss noticed and recorded so that a server started
later does not take the empty Redis for a new data set, settled by the data coming back or by
``matcher store accept-empty``; and the write scripts of both Redis stores refusing, inside
Redis, to write into a data set that is not the one remembered (no probe needed).

The memory store has no marker: its data ends with its process, so there is nothing to lose
behind its back. The same behaviour through real server processes and a private
``redis-server`` is in tests/faults/test_data_set_lost.py.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import redis

from matcher.cli import main
from matcher.config import ConfigError, Settings
from matcher.orders.store.redis import RedisOrderStore
from matcher.registry.model import Profile, VolunteerRecord
from matcher.registry.store.data_set import (
    DataSetLostError,
    DataSetMarker,
    Marker,
    accept_empty,
    marker_key,
)
from matcher.registry.store.redis import RedisStore
from matcher.tools.store_admin import run_store
from tests.support.orders import new_order
from tests.support.redis_db import RedisDb, private_prefix, redis_or_skip, redis_url
from tests.support.times import HOUR, T0

URL = redis_url(RedisDb.STORE_CONTRACT)


@pytest.fixture
def space() -> Iterator[tuple[redis.Redis, str]]:
    client = redis_or_skip(URL)
    try:
        with private_prefix(client) as prefix:
            yield client, prefix
    finally:
        client.close()


def rec(volunteer_id: str) -> VolunteerRecord:
    profile = Profile(
        skills=(("elderly_care", 3),), lat=36.27, lon=100.62, windows=((T0, T0 + 2 * HOUR),)
    )
    return VolunteerRecord(volunteer_id, profile, "")


def stored(client: redis.Redis, prefix: str) -> Marker | None:
    raw = client.get(marker_key(prefix))
    return None if raw is None else Marker.parse(raw)


def keys(client: redis.Redis, prefix: str) -> set[str]:
    return {k.decode() for k in client.scan_iter(match=f"{prefix}:*")}


def noticed_loss(client: redis.Redis, prefix: str) -> tuple[DataSetMarker, Marker]:
    """A server's marker after it saw the data set, then its loss; and what it had seen."""
    running = DataSetMarker(client, prefix)
    running.verify()
    seen = running.remembered
    assert seen is not None
    client.delete(marker_key(prefix))
    with pytest.raises(DataSetLostError, match="accept-empty") as lost:
        running.verify()
    assert "is gone" in lost.value.cause
    return running, seen


@pytest.mark.redis
def test_a_new_data_set_gets_a_marker_that_every_server_shares(
    space: tuple[redis.Redis, str],
) -> None:
    client, prefix = space
    first, second = DataSetMarker(client, prefix), DataSetMarker(client, prefix)
    first.verify()
    second.verify()
    marker = stored(client, prefix)
    assert marker is not None and marker.live and marker.origin == "new"
    assert first.remembered == second.remembered == marker


@pytest.mark.redis
def test_a_marker_with_fields_this_version_does_not_know_is_kept(
    space: tuple[redis.Redis, str],
) -> None:
    client, prefix = space
    text = '{"created_ms":1,"id":"abc","origin":"new","written_by":"a later version"}'
    client.set(marker_key(prefix), text)
    marker = DataSetMarker(client, prefix)
    registry = RedisStore(client, prefix, marker=marker)
    marker.verify()
    registry.upsert([rec("vol-1")])  # the guard compares the stored text as it was read
    marker.verify()
    assert client.get(marker_key(prefix)) == text.encode()


@pytest.mark.redis
def test_data_older_than_markers_is_adopted(
    space: tuple[redis.Redis, str], caplog: pytest.LogCaptureFixture
) -> None:
    client, prefix = space
    RedisStore(client, prefix).upsert([rec("vol-1")])  # no marker: an older deployment
    with caplog.at_level("INFO"):
        DataSetMarker(client, prefix).verify()
    marker = stored(client, prefix)
    assert marker is not None and marker.origin == "adopted"
    assert any("adopted" in r.getMessage() for r in caplog.records)


@pytest.mark.redis
def test_a_loss_is_recorded_for_servers_started_later(space: tuple[redis.Redis, str]) -> None:
    client, prefix = space
    running, _ = noticed_loss(client, prefix)
    with pytest.raises(DataSetLostError):
        running.check()  # no round trip: the last look said lost
    loss = stored(client, prefix)
    assert loss is not None and not loss.live and loss.lost_ms > 0
    with pytest.raises(DataSetLostError, match="found it lost"):
        DataSetMarker(client, prefix).verify()  # a restarted server does not start afresh


@pytest.mark.redis
def test_a_marker_replaced_by_another_servers_new_one_is_a_loss(
    space: tuple[redis.Redis, str],
) -> None:
    client, prefix = space
    running = DataSetMarker(client, prefix)
    running.verify()
    client.delete(marker_key(prefix))
    DataSetMarker(client, prefix).verify()  # started in the gap: sees nothing, writes "new"
    with pytest.raises(DataSetLostError, match="replaced"):
        running.verify()
    with pytest.raises(DataSetLostError):  # and the newcomer learns of it at its next look
        DataSetMarker(client, prefix).verify()


@pytest.mark.redis
def test_the_old_marker_coming_back_settles_the_loss(space: tuple[redis.Redis, str]) -> None:
    client, prefix = space
    running, seen = noticed_loss(client, prefix)
    client.set(marker_key(prefix), seen.text)  # the data restored from a backup
    running.verify()
    running.check()


@pytest.mark.redis
def test_accept_empty_writes_a_marker_the_servers_adopt(space: tuple[redis.Redis, str]) -> None:
    client, prefix = space
    running, _ = noticed_loss(client, prefix)
    accepted, written = accept_empty(client, prefix)
    assert written and accepted.origin == "accepted"
    running.verify()
    assert running.remembered == accepted
    assert accept_empty(client, prefix) == (accepted, False)  # nothing lost: nothing to do


@pytest.mark.redis
def test_writes_of_both_stores_are_refused_inside_redis(space: tuple[redis.Redis, str]) -> None:
    client, prefix = space
    marker = DataSetMarker(client, prefix)
    registry = RedisStore(client, prefix, marker=marker)
    orders = RedisOrderStore(client, prefix, marker=marker)
    registry.upsert([rec("vol-1")])
    orders.create(new_order("ord-1"))
    for key in keys(client, prefix):
        client.delete(key)  # Redis emptied behind the server's back; no probe since
    with pytest.raises(DataSetLostError):
        registry.upsert([rec("vol-2")])
    with pytest.raises(DataSetLostError):
        orders.create(new_order("ord-2"))
    with pytest.raises(DataSetLostError):
        registry.get("vol-1")  # reads too, once the loss is known
    with pytest.raises(DataSetLostError):
        orders.get("ord-1")
    assert keys(client, prefix) == {marker_key(prefix)}  # the loss marker, nothing else
    accept_empty(client, prefix)
    with pytest.raises(DataSetLostError):
        registry.upsert([rec("vol-3")])  # refused until the next probe looks
    registry.ping()  # what the health probe does
    registry.upsert([rec("vol-3")])
    assert orders.create(new_order("ord-3"))[1]


@pytest.mark.redis
def test_a_marker_accepted_before_any_probe_is_adopted_within_the_write(
    space: tuple[redis.Redis, str],
) -> None:
    client, prefix = space
    marker = DataSetMarker(client, prefix)
    registry = RedisStore(client, prefix, marker=marker)
    registry.upsert([rec("vol-1")])
    client.delete(marker_key(prefix))
    accepted, _ = accept_empty(client, prefix)
    registry.upsert([rec("vol-2")])
    assert marker.remembered == accepted


@pytest.mark.redis
def test_stores_without_a_marker_check_nothing(space: tuple[redis.Redis, str]) -> None:
    client, prefix = space
    registry = RedisStore(client, prefix)
    registry.upsert([rec("vol-1")])
    assert marker_key(prefix) not in keys(client, prefix)
    assert registry.get("vol-1") is not None


def test_the_read_timeout_is_a_setting() -> None:
    environ = {"MATCHER_STORE_READ_TIMEOUT_SECONDS": "0.25"}
    assert Settings.from_env(environ).store_read_timeout_seconds == 0.25
    assert Settings().store_read_timeout_seconds == 0.5
    for bad in ("0", "-1", "inf", "61"):
        with pytest.raises(ConfigError, match="MATCHER_STORE_READ_TIMEOUT_SECONDS"):
            Settings.from_env({"MATCHER_STORE_READ_TIMEOUT_SECONDS": bad})


def test_accept_empty_refuses_the_memory_store(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["store", "accept-empty", "--store", "memory"]) == 2
    assert "memory store" in capsys.readouterr().err


def test_accept_empty_reports_an_unreachable_redis() -> None:
    err = io.StringIO()
    args = SimpleNamespace(store="redis://127.0.0.1:1/0", prefix="p")
    assert run_store(args, Settings(), io.StringIO(), err) == 1  # type: ignore[arg-type]
    assert "redis://127.0.0.1:1/0 prefix=p" in err.getvalue()


@pytest.mark.redis
def test_accept_empty_from_the_command_line(
    space: tuple[redis.Redis, str], capsys: pytest.CaptureFixture[str]
) -> None:
    client, prefix = space
    assert main(["store", "accept-empty", "--store", URL, "--prefix", prefix]) == 0
    assert "accepted the data set" in capsys.readouterr().out
    assert main(["store", "accept-empty", "--store", URL, "--prefix", prefix]) == 0
    assert "nothing to accept" in capsys.readouterr().out
    marker = stored(client, prefix)
    assert marker is not None and marker.origin == "accepted"
