"""End-to-end Match over gRPC: a server in this process on a free port, a client over a real
channel. Inline (the volunteers travel with every call) and against the registered pool
(upserted once through ``VolunteerService``; each Match names the pool with a selector).

The round trip is timed through the generated stub with a prebuilt message, so it includes
the client serializing it and parsing the reply; building the message from domain objects
(a client's own cost, paid once per batch) and the serialize / parse steps are timed apart.
Every reply's objective must equal the in-process engine's on the same data.
"""

from __future__ import annotations

import gc

import grpc

from benchmarks.checks import Objective, check_agreement
from benchmarks.match_calls import (
    engine_objective,
    pool_match_message,
    reply_objective,
    reply_stats,
)
from benchmarks.service import (
    RPC_TIMEOUT_S,
    RegisteredPool,
    channel_to,
    in_process_server,
    match_stub,
    register_pool,
    registry_status,
)
from benchmarks.suite import Progress, Results, SuiteConfig
from benchmarks.timing import repeat, summarize, timed
from matcher.core.model import RequestBatch
from matcher.service.convert import pool_to_proto, requests_to_proto
from matcher.tools.synthetic import gonghe_day
from matcher.v1 import match_pb2, match_pb2_grpc

SIZE = (1_000, 20_000)
QUICK_SIZE = (100, 2_000)
INLINE_CALLS, POOL_CALLS = 7, 15
QUICK_INLINE_CALLS, QUICK_POOL_CALLS = 3, 5


def steps(config: SuiteConfig) -> int:
    return 4


def run(config: SuiteConfig, progress: Progress) -> Results:
    n_req, n_vol = QUICK_SIZE if config.quick else SIZE
    label = f"{n_req:,}x{n_vol:,}"
    progress.step(f"generate {label} and solve it in process")
    requests, pool = gonghe_day(config.seed, n_req, n_vol)
    expected = engine_objective(requests, pool)
    out: Results = {"requests": n_req, "volunteers": n_vol, "slots": int(requests.slots.sum())}
    with in_process_server() as port, channel_to(port) as channel:
        stub = match_stub(channel)
        progress.step(f"inline Match {label}")
        calls = QUICK_INLINE_CALLS if config.quick else INLINE_CALLS
        out["inline"] = _inline(stub, requests, pool_to_proto(pool), calls, expected, label)
        progress.note(f"inline p50 {out['inline']['round_trip_ms']['p50']:.0f} ms")
        progress.step("registry check, register the pool")
        registered = register_pool(channel, pool)
        progress.step(f"pool Match {label}")
        if isinstance(registered, str):
            out["pool"] = {"available": False, "reason": registered}
            progress.note(f"pool Match {registered}")
        else:
            calls = QUICK_POOL_CALLS if config.quick else POOL_CALLS
            out["pool"] = _pool(channel, requests, registered, calls, expected, label)
            progress.note(f"pool p50 {out['pool']['round_trip_ms']['p50']:.0f} ms")
    return out


def _inline(
    stub: match_pb2_grpc.MatchServiceStub,
    requests: RequestBatch,
    volunteers: list[match_pb2.Volunteer],
    calls: int,
    expected: Objective,
    label: str,
) -> Results:
    message, build_ms = timed(
        lambda: match_pb2.MatchRequest(requests=requests_to_proto(requests), volunteers=volunteers)
    )
    return {
        "client_build_ms": build_ms,
        **_calls(stub, message, calls, expected, f"{label} inline"),
    }


def _pool(
    channel: grpc.Channel,
    requests: RequestBatch,
    registered: RegisteredPool,
    calls: int,
    expected: Objective,
    label: str,
) -> Results:
    message = pool_match_message(requests)
    stub = match_stub(channel)
    first, first_ms = timed(lambda: stub.Match(message, timeout=RPC_TIMEOUT_S))
    check_agreement(f"{label} pool (first call)", expected, reply_objective("pool Match", first))
    return {
        "available": True,
        "registry_version": registered.version,
        "upsert_ms": registered.upsert_ms,
        "first_call_ms": first_ms,
        "status": registry_status(channel),
        **_calls(stub, message, calls, expected, f"{label} pool"),
    }


def _calls(
    stub: match_pb2_grpc.MatchServiceStub,
    message: match_pb2.MatchRequest,
    calls: int,
    expected: Objective,
    label: str,
) -> Results:
    """``calls`` timed Matches after one warm-up; the reply checked against ``expected``."""
    match = stub.Match
    match(message, timeout=RPC_TIMEOUT_S)  # warm-up: connection, caches, lazy imports
    gc.collect()
    reply, times = repeat(lambda: match(message, timeout=RPC_TIMEOUT_S), calls)
    agreement = check_agreement(label, expected, reply_objective("gRPC Match", reply))
    payload, serialize_ms = timed(message.SerializeToString)
    answer = reply.SerializeToString()
    _, parse_ms = timed(lambda: match_pb2.MatchResponse.FromString(answer))
    return {
        "calls": calls,
        "round_trip_ms": summarize(times),
        "client_serialize_ms": serialize_ms,
        "client_parse_ms": parse_ms,
        "request_bytes": len(payload),
        "response_bytes": len(answer),
        "server_core_ms": reply.stats.total_ms,
        "stats": reply_stats(reply),
        "agreement": agreement,
    }
