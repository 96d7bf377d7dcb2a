"""Match calls the scenarios time and check: the in-process engine's objective on a batch
(what every exact reply must equal), the message naming the registered pool, a reply's
objective and engine stats, and a run of pool Matches, the first timed apart (it may build
or load the server's pool view)."""

from __future__ import annotations

import grpc

from benchmarks.checks import Objective, check_agreement
from benchmarks.service import RPC_TIMEOUT_S, match_stub, pool_match_request
from benchmarks.suite import Results
from benchmarks.timing import summarize, timed
from matcher.core.model import Policy, RequestBatch, VolunteerPool
from matcher.core.pool_index import PoolIndex
from matcher.core.solve import solve_match
from matcher.service.convert import requests_to_proto
from matcher.v1 import match_pb2

#: The engine stats a scenario keeps from a reply (``MatchStats``).
STAT_FIELDS = ("candidate_pairs", "rounds", "candidates_ms", "scoring_ms", "solve_ms", "total_ms")


def engine_objective(requests: RequestBatch, pool: VolunteerPool) -> Objective:
    """The engine's objective on the batch, solved in this process with the default policy."""
    reference = solve_match(requests, PoolIndex.build(pool), Policy())
    return Objective("engine in process", reference.value_served, reference.total_cost)


def pool_match_message(requests: RequestBatch) -> match_pb2.MatchRequest:
    """A MatchRequest for ``requests`` against every active registered volunteer."""
    return pool_match_request(requests_to_proto(requests))


def reply_objective(method: str, reply: match_pb2.MatchResponse) -> Objective:
    """What a Match reply claims as the optimum, named ``method`` in a disagreement."""
    return Objective(method, reply.stats.value_served, reply.stats.total_cost)


def reply_stats(reply: match_pb2.MatchResponse) -> Results:
    """The reply's engine stats (``STAT_FIELDS``) as a dict."""
    return {name: getattr(reply.stats, name) for name in STAT_FIELDS}


def time_pool_matches(
    channel: grpc.Channel,
    message: match_pb2.MatchRequest,
    calls: int,
    expected: Objective,
    case: str,
) -> tuple[Results, match_pb2.MatchResponse]:
    """The first Match, then ``calls`` more, each reply checked against ``expected`` (``case``
    names them in a disagreement); ``first_call_ms`` and the later calls' ``round_trip_ms``
    summary, and the last reply."""
    stub = match_stub(channel)
    reply, first_ms = timed(lambda: stub.Match(message, timeout=RPC_TIMEOUT_S))
    check_agreement(case, expected, reply_objective("pool Match", reply))
    times = []
    for _ in range(calls):
        reply, ms = timed(lambda: stub.Match(message, timeout=RPC_TIMEOUT_S))
        check_agreement(f"{case} (again)", expected, reply_objective("pool Match", reply))
        times.append(ms)
    return {"first_call_ms": first_ms, "round_trip_ms": summarize(times)}, reply
