"""The service under test: a matcher server in this process or in a child process, a channel
to it, and the registry calls the pool scenarios need.

``in_process_server`` serves from this process (the client shares its cores and its GIL);
``child_server`` runs ``python -m benchmarks.service`` so that the server's own peak memory
can be read (``VmHWM``) and no client work runs under its interpreter lock.

The registry (``VolunteerService`` and ``MatchRequest.pool``) is detected at run time by
``registry_missing``: scenarios that need it report "not available" until it exists
(``register_pool`` checks, then registers a pool).
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc

from benchmarks.timing import timed
from matcher.config import Settings
from matcher.core.model import VolunteerPool
from matcher.service.convert import pool_to_proto
from matcher.service.server import create_server
from matcher.v1 import match_pb2, match_pb2_grpc

#: Messages of a city-sized batch are tens of MB.
MAX_MESSAGE_BYTES = 512 * 1024 * 1024
CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
]
MATCH_METHOD = "/matcher.v1.MatchService/Match"
RPC_TIMEOUT_S = 600.0
UPSERT_CHUNK = 10_000


def bench_settings(store: str = "memory", prefix: str = "matcher", workers: int = 8) -> Settings:
    """Service settings for a benchmark: any free port, limits large enough for a city."""
    return Settings(
        port=0,
        workers=workers,
        max_requests=20_000,
        max_volunteers=300_000,
        max_slots=50_000,
        max_message_bytes=MAX_MESSAGE_BYTES,
        grace_seconds=1.0,
        log_level="WARNING",
        store=store,
        redis_prefix=prefix,
    )


@dataclass(frozen=True)
class _Started:
    port: int
    stop: Callable[[], None]


def _start(settings: Settings) -> _Started:
    """Start ``create_server(settings)``, whichever shape it returns: a ``(server, port, ...)``
    tuple (before the registry) or an object with ``start``/``stop``/``port``."""
    made: Any = create_server(settings)
    if isinstance(made, tuple):
        server, port = made[0], int(made[1])
        server.start()
        return _Started(port, lambda: server.stop(None).wait())
    made.start()
    return _Started(int(made.port), made.stop)


@contextmanager
def in_process_server(settings: Settings | None = None) -> Iterator[int]:
    """A started server in this process; yields its port and stops it on exit."""
    started = _start(settings or bench_settings())
    try:
        yield started.port
    finally:
        started.stop()


@dataclass(frozen=True)
class ChildServer:
    """A server in a child process."""

    port: int
    pid: int


@contextmanager
def child_server(store: str = "memory", prefix: str = "matcher") -> Iterator[ChildServer]:
    """A server in a child process (``python -m benchmarks.service``); yields its port and
    pid. Closing its stdin stops it."""
    cmd = [sys.executable, "-m", "benchmarks.service", "--store", store, "--prefix", prefix]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmark server exited with {proc.wait()} before serving")
        yield ChildServer(port=int(json.loads(line)["port"]), pid=proc.pid)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def channel_to(port: int) -> Iterator[grpc.Channel]:
    """A ready insecure channel to ``127.0.0.1:port`` with room for city-sized messages."""
    with grpc.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS) as channel:
        grpc.channel_ready_future(channel).result(timeout=30)
        yield channel


def match_stub(channel: grpc.Channel) -> match_pb2_grpc.MatchServiceStub:
    return match_pb2_grpc.MatchServiceStub(channel)  # type: ignore[no-untyped-call]


def raw_match(channel: grpc.Channel) -> Callable[..., bytes]:
    """Match taking and returning serialized bytes (no client-side protobuf work)."""
    return channel.unary_unary(MATCH_METHOD, request_serializer=None, response_deserializer=None)


def registry_missing(channel: grpc.Channel) -> str | None:
    """Why pool Matches cannot run against this server, or None when they can: the proto
    must have ``MatchRequest.pool`` and the server must answer ``GetRegistryStatus``."""
    if "pool" not in match_pb2.MatchRequest.DESCRIPTOR.fields_by_name:
        return "not available: MatchRequest has no pool selector yet"
    try:
        from matcher.v1 import volunteers_pb2, volunteers_pb2_grpc
    except ImportError:
        return "not available: no VolunteerService stubs"
    stub = volunteers_pb2_grpc.VolunteerServiceStub(channel)  # type: ignore[no-untyped-call]
    try:
        stub.GetRegistryStatus(volunteers_pb2.GetRegistryStatusRequest(), timeout=30)
    except grpc.RpcError as err:
        if err.code() == grpc.StatusCode.UNIMPLEMENTED:
            return "not available: the server does not register VolunteerService"
        raise
    return None


def registry_status(channel: grpc.Channel) -> dict[str, Any]:
    """``GetRegistryStatus`` as a dict (the registry must be there)."""
    from google.protobuf.json_format import MessageToDict

    from matcher.v1 import volunteers_pb2, volunteers_pb2_grpc

    stub = volunteers_pb2_grpc.VolunteerServiceStub(channel)  # type: ignore[no-untyped-call]
    reply = stub.GetRegistryStatus(volunteers_pb2.GetRegistryStatusRequest(), timeout=60)
    status: dict[str, Any] = MessageToDict(reply, preserving_proto_field_name=True)
    return status


def upsert_pool(channel: grpc.Channel, pool: VolunteerPool, chunk: int = UPSERT_CHUNK) -> int:
    """Register every volunteer of ``pool`` (``UpsertVolunteers`` in chunks); returns the
    registry version after the last write."""
    from matcher.v1 import volunteers_pb2, volunteers_pb2_grpc

    stub = volunteers_pb2_grpc.VolunteerServiceStub(channel)  # type: ignore[no-untyped-call]
    volunteers = pool_to_proto(pool)
    version = 0
    for lo in range(0, len(volunteers), chunk):
        message = volunteers_pb2.UpsertVolunteersRequest(
            volunteers=[
                volunteers_pb2.VolunteerUpsert(volunteer=v) for v in volunteers[lo : lo + chunk]
            ]
        )
        reply = stub.UpsertVolunteers(message, timeout=RPC_TIMEOUT_S)
        version = int(reply.registry_version)
    return version


@dataclass(frozen=True)
class RegisteredPool:
    """A pool registered through ``VolunteerService``: the registry version after the last
    write and the time all the upserts took."""

    version: int
    upsert_ms: float


def register_pool(channel: grpc.Channel, pool: VolunteerPool) -> RegisteredPool | str:
    """Register ``pool`` (``upsert_pool``, timed) when the server has the registry; when it
    has not, why not (``registry_missing``: "not available: ...")."""
    missing = registry_missing(channel)
    if missing is not None:
        return missing
    version, upsert_ms = timed(lambda: upsert_pool(channel, pool))
    return RegisteredPool(version, upsert_ms)


def pool_match_request(requests: Sequence[match_pb2.ServiceRequest]) -> match_pb2.MatchRequest:
    """A MatchRequest against every active registered volunteer (an empty selector)."""
    message = match_pb2.MatchRequest(requests=requests)
    message.pool.SetInParent()
    return message


def main(argv: Sequence[str] | None = None) -> None:
    """Child-process server: print ``{"port": N}``, serve until stdin closes."""
    parser = argparse.ArgumentParser(description="a matcher server for the benchmarks")
    parser.add_argument("--store", default="memory")
    parser.add_argument("--prefix", default="matcher")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="server %(levelname)s %(name)s: %(message)s")
    logging.getLogger("matcher.service.server").setLevel(logging.ERROR)  # "registry is in memory"
    started = _start(bench_settings(store=args.store, prefix=args.prefix))
    print(json.dumps({"port": started.port}), flush=True)
    try:
        sys.stdin.read()
    finally:
        started.stop()


if __name__ == "__main__":
    main()
