"""MatchService: solve a batch against inline volunteers or against the registered pool.

Inline: validate and convert the whole request, index the sent volunteers, solve.
Pool: validate the requests and the selector, take the pool view at the store's current
version (one version read; the view follows the store's changes, it never re-reads the
registry), pick the selected active volunteers (an index cached per selector and version),
solve, and report the registry version used in ``MatchStats.registry_version``. A pool Match
needs the store for that version read, so it fails with UNAVAILABLE while the store is
unreachable; an inline Match never touches the store. A call whose deadline passed during
conversion is answered DEADLINE_EXCEEDED without solving.
"""

from __future__ import annotations

import grpc

from matcher.config import Settings
from matcher.core.model import MatchResult, RequestBatch
from matcher.core.pool_index import PoolIndex
from matcher.core.solve import solve_match
from matcher.errors import DeadlineExceededError
from matcher.observability.metrics import Metrics
from matcher.observability.tracing import Tracing
from matcher.registry.view import PoolView
from matcher.service import rpc_context
from matcher.service.convert import (
    match_request_to_domain,
    match_result_to_proto,
    pool_match_to_domain,
)
from matcher.v1 import match_pb2, match_pb2_grpc


class MatchServicer(match_pb2_grpc.MatchServiceServicer):
    """MatchService: validate and convert, solve, convert back."""

    def __init__(
        self,
        settings: Settings,
        pool_view: PoolView,
        metrics: Metrics | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self._settings = settings
        self._pool_view = pool_view
        self._metrics = metrics
        self._tracing = tracing or Tracing(None)

    def Match(  # noqa: N802 (the rpc's name)
        self, request: match_pb2.MatchRequest, context: grpc.ServicerContext
    ) -> match_pb2.MatchResponse:
        """Solve one batch; see the proto for the contract."""
        if request.HasField("pool"):
            return self._match_pool(request, context)
        requests, pool, policy = match_request_to_domain(request, self._settings)
        check_deadline(context)
        result = solve_match(requests, PoolIndex.build(pool), policy)
        self._observe(requests, len(pool), result, source="inline")
        return match_result_to_proto(result, requests, pool)

    def _match_pool(
        self, request: match_pb2.MatchRequest, context: grpc.ServicerContext
    ) -> match_pb2.MatchResponse:
        wanted = pool_match_to_domain(request, self._settings)
        state = self._pool_view.current()
        index = state.select(wanted.selector)
        check_deadline(context)
        result = solve_match(wanted.requests, index, wanted.policy)
        self._observe(wanted.requests, len(index.pool), result, source="pool")
        response = match_result_to_proto(result, wanted.requests, index.pool)
        response.stats.registry_version = state.version
        return response

    def _observe(
        self, requests: RequestBatch, n_volunteers: int, result: MatchResult, source: str
    ) -> None:
        """Batch figures for the access log, the metrics and the trace (counts only)."""
        rpc_context.annotate(
            source=source,
            requests=len(requests),
            volunteers=n_volunteers,
            assigned=len(result.request),
            rounds=result.stats.rounds,
            pairs=result.stats.candidate_pairs,
        )
        if self._metrics is not None:
            self._metrics.observe_match(requests, n_volunteers, result)
        self._tracing.record_phases(result.stats, requests=len(requests), volunteers=n_volunteers)


def check_deadline(context: grpc.ServicerContext) -> None:
    """``DeadlineExceededError`` if the call's deadline has passed: a solve nobody waits for
    is not started (conversion of a large batch can take a while)."""
    remaining = context.time_remaining()
    if remaining is not None and remaining <= 0:
        raise DeadlineExceededError("the deadline passed before the solve started")
