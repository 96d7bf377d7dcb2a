"""A day in Gonghe County, dispatched twice: by the engine over gRPC and by hand (greedy).

``run_demo`` generates a synthetic day (``synthetic.gonghe_day``), starts the service in
process on a free port, calls ``Match`` over a real insecure channel with the generated
stubs, stops the server, runs the greedy nearest-available dispatcher on the same data, and
prints the two side by side (``demo_report``): requests and slots served per tier, travel
distance, a table per town and the engine's solve figures. Every figure is computed from the
actual response and the greedy result; the returned ``DemoReport`` holds them for tests.

Run it with ``python -m matcher.tools.demo [--seed N] [--requests N] [--volunteers N]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import TextIO

import grpc

from matcher.config import Settings
from matcher.core.greedy import greedy_match
from matcher.core.model import Policy, RequestBatch, VolunteerPool
from matcher.service.convert import pool_to_proto, requests_to_proto
from matcher.service.server import create_server
from matcher.tools.demo_report import (
    Assignments,
    DemoReport,
    asked_by_tier,
    print_report,
    response_columns,
    served,
    town_rows,
)
from matcher.tools.synthetic import gonghe_day
from matcher.v1 import match_pb2, match_pb2_grpc

RPC_TIMEOUT_S = 120.0


def run_demo(
    seed: int = 20221, n_requests: int = 400, n_volunteers: int = 3000, out: TextIO = sys.stdout
) -> DemoReport:
    """Generate a day, solve it with the engine (over gRPC) and with greedy, print, return."""
    requests, pool = gonghe_day(seed, n_requests, n_volunteers)
    response, rpc_ms = match_over_grpc(requests, pool)
    engine = response_columns(response, requests)
    greedy_result = greedy_match(requests, pool, Policy())
    greedy = Assignments(greedy_result.request, greedy_result.distance_km, greedy_result.cost)
    requests_by_tier, slots_by_tier = asked_by_tier(requests)
    report = DemoReport(
        seed=seed,
        requests_by_tier=requests_by_tier,
        slots_by_tier=slots_by_tier,
        volunteers=len(pool),
        windows=pool.n_windows,
        engine=served(requests, engine),
        greedy=served(requests, greedy),
        towns=town_rows(requests, engine, greedy),
        stats=response.stats,
        rpc_ms=rpc_ms,
        greedy_ms=greedy_result.stats.total_ms,
    )
    print_report(report, out)
    return report


def match_over_grpc(
    requests: RequestBatch, pool: VolunteerPool
) -> tuple[match_pb2.MatchResponse, float]:
    """Start the service on a free port, call Match once over a real channel, stop it.

    Returns the response and the call's round trip in ms (serialising, solving, replying).
    """
    settings = Settings.from_env({}).with_overrides(port=0, metrics_port=-1)
    app = create_server(settings)
    app.start()
    port = app.port
    limit = settings.max_message_bytes
    options = [("grpc.max_send_message_length", limit), ("grpc.max_receive_message_length", limit)]
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
            stub = match_pb2_grpc.MatchServiceStub(channel)
            message = match_pb2.MatchRequest(
                requests=requests_to_proto(requests), volunteers=pool_to_proto(pool)
            )
            started = time.perf_counter()
            response = stub.Match(message, timeout=RPC_TIMEOUT_S)
            rpc_ms = (time.perf_counter() - started) * 1e3
    finally:
        app.drain(settings.grace_seconds).wait()
    return response, rpc_ms


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m matcher.tools.demo``: run the demo with sizes from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=20221)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--volunteers", type=int, default=3000)
    args = parser.parse_args(argv)
    run_demo(args.seed, args.requests, args.volunteers, out=sys.stdout)


if __name__ == "__main__":
    main()
