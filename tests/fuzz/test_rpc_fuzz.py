"""Hostile input to every rpc over a real channel (issues #7 and #18): never INTERNAL, never a
crash, never a partial write.

For each rpc of each service (enumerated from the descriptors) hypothesis sends requests that
are either built from the descriptor alone (``proto_strategies.ProtoStrategies``) or valid
seed requests with one to three fields made hostile (``proto_strategies.mutants``), to a
seeded server on the memory store and on Redis (every rpc: a read past the end of a Redis
list fails differently from one past the end of a Python list), and, as raw bytes
(``raw_bytes.manglings``), random bytes or such a request serialized with bits flipped, a byte
inserted or the end cut off. Each answer must be OK or a status a client can
act on (INVALID_ARGUMENT with ``google.rpc.BadRequest`` naming the field, or, for bytes that
do not decode, saying so; NOT_FOUND, FAILED_PRECONDITION, RESOURCE_EXHAUSTED); a failed call
must leave the registry, the orders, the holds and the ledger exactly as they were; and the
server must still answer its health check. How many examples: ``tests/fuzz/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import grpc
import pytest
from google.protobuf import text_format
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz.proto_strategies import ProtoStrategies, mutants
from tests.fuzz.raw_bytes import manglings
from tests.fuzz.rpc_world import (
    TOKEN_PREFIXES,
    Rpc,
    World,
    all_rpcs,
    fuzz_world,
    observe,
    rpcs_in_protos,
    seed_requests,
)
from tests.fuzz.tally import TALLY

RPCS = all_rpcs()
#: Answers a client can act on; anything else (INTERNAL, UNKNOWN, DATA_LOSS, UNAVAILABLE, ...)
#: from a healthy server is a bug.
ACCEPTED = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}
#: How a watch stream may end here: the test leaves it after a few messages or a short deadline.
STREAM_ENDS = {grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED}
#: How the answer to bytes that do not decode begins; its one violation may name no field
#: (the bytes broke between the request's own fields).
UNDECODABLE = "request is not a valid "
STREAM_SECONDS = 0.15
STREAM_MESSAGES = 3


def test_every_rpc_in_the_protos_is_fuzzed() -> None:
    assert {r.short for r in RPCS} == rpcs_in_protos()
    assert len(RPCS) == len(rpcs_in_protos()) == 23
    assert [r.short for r in RPCS if r.streaming] == ["OfferService.WatchOffers"]


@pytest.fixture(scope="module")
def memory_world() -> Iterator[World]:
    with fuzz_world("memory") as world:
        yield world


@pytest.fixture(scope="module")
def redis_world() -> Iterator[World]:
    with fuzz_world("redis") as world:
        yield world


def _targets() -> list[object]:
    params: list[object] = [pytest.param("memory", r, id=f"memory-{r.short}") for r in RPCS]
    params += [
        pytest.param("redis", r, id=f"redis-{r.short}", marks=pytest.mark.redis) for r in RPCS
    ]
    return params


@pytest.mark.slow
@pytest.mark.parametrize("form", ["message", "bytes"])
@pytest.mark.parametrize(("store", "rpc"), _targets())
@settings(settings.get_profile("fuzz"))
@given(data=st.data())
def test_hostile_requests_get_a_clean_answer(
    request: pytest.FixtureRequest, form: str, store: str, rpc: Rpc, data: st.DataObject
) -> None:
    """``form`` "message": a hostile message; "bytes": raw bytes, or such a message's bytes
    broken (``raw_bytes.manglings``)."""
    world: World = request.getfixturevalue(f"{store}_world")
    msg = data.draw(_requests(world, rpc.short, rpc.request), label="request")
    sent: Message | bytes = msg
    if form == "bytes":
        sent = data.draw(manglings(), label="mangling").apply(msg.SerializeToString())
    before = observe(world.app)
    code, error = _call(world.system.channel, rpc, sent)
    TALLY.record(f"{store} {rpc.short}" + (" bytes" if form == "bytes" else ""), code.name)
    _check_answer(world, rpc, code, error, before, _show(sent))


def _check_answer(
    world: World,
    target: Rpc,
    code: grpc.StatusCode,
    error: grpc.RpcError | None,
    before: object,
    sent: str,
) -> None:
    """An answer a client can act on, nothing written by a failed call, the server SERVING."""
    what = f"{target.short} answered {code.name}: {error and error.details()!r}\n{sent}"
    allowed = ACCEPTED | (STREAM_ENDS if target.streaming else set())
    assert code in allowed, what
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        assert error is not None
        fields = _violated_fields(error)
        undecodable = (error.details() or "").startswith(UNDECODABLE) and len(fields) == 1
        assert undecodable or (fields and all(fields)), f"no field named: {what}"
    if code != grpc.StatusCode.OK and code not in STREAM_ENDS:
        assert observe(world.app) == before, f"partial write: {what}"
    health = health_pb2_grpc.HealthStub(world.system.channel)
    reply = health.Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


_STRATEGIES: dict[tuple[int, str], st.SearchStrategy[Message]] = {}


def _requests(world: World, short: str, cls: type[Message]) -> st.SearchStrategy[Message]:
    """Random messages of the rpc's request type, and mutants of its valid seed requests."""
    key = (id(world), short)
    if key not in _STRATEGIES:
        fields = ProtoStrategies(world.vocabulary(), TOKEN_PREFIXES)
        seeds = seed_requests(world).get(short, [])
        random = fields.message(cls.DESCRIPTOR)
        _STRATEGIES[key] = st.one_of(random, mutants(seeds, fields)) if seeds else random
    return _STRATEGIES[key]


def _call(
    channel: grpc.Channel, target: Rpc, msg: Message | bytes
) -> tuple[grpc.StatusCode, grpc.RpcError | None]:
    """Send ``msg`` (bytes as they are); the status code and the error (None on OK)."""
    kwargs = {
        "request_serializer": None if isinstance(msg, bytes) else type(msg).SerializeToString,
        "response_deserializer": target.response.FromString,
    }
    try:
        if not target.streaming:
            channel.unary_unary(target.path, **kwargs)(msg, timeout=30)
            return grpc.StatusCode.OK, None
        stream = channel.unary_stream(target.path, **kwargs)(msg, timeout=STREAM_SECONDS)
        for count, _ in enumerate(stream, start=1):
            if count >= STREAM_MESSAGES:
                stream.cancel()
                return grpc.StatusCode.CANCELLED, None
        return grpc.StatusCode.OK, None
    except grpc.RpcError as error:
        return error.code(), error


def _violated_fields(error: grpc.RpcError) -> list[str]:
    status = rpc_status.from_call(cast(grpc.Call, error))
    assert status is not None, "INVALID_ARGUMENT without google.rpc.Status details"
    fields: list[str] = []
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            fields += [v.field for v in bad_request.field_violations]
    return fields


def _show(msg: Message | bytes, most: int = 2000) -> str:
    text = (
        repr(msg) if isinstance(msg, bytes) else text_format.MessageToString(msg, as_one_line=True)
    )
    return text if len(text) <= most else text[:most] + f"... ({len(text)} characters)"
