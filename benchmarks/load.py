"""Load generator for the throughput scenario, run in worker processes.

Light on purpose (grpc and the standard library only), because each worker process imports
it. Requests are sent as pre-serialized bytes and replies are not parsed, so the client
spends as little CPU as possible on a machine it shares with the server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import grpc

MATCH_METHOD = "/matcher.v1.MatchService/Match"
CALL_TIMEOUT_S = 30.0


def drive(
    port: int, payloads: Sequence[bytes], threads: int, start_at: float, duration_s: float
) -> dict[str, Any]:
    """From wall-clock ``start_at`` for ``duration_s`` seconds, ``threads`` threads call Match
    back to back, each cycling through ``payloads``. Returns every latency (ms) of a call
    that started in the window, the errors, and when the last call finished."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    finished = [start_at] * threads
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        grpc.channel_ready_future(channel).result(timeout=30)
        call = channel.unary_unary(
            MATCH_METHOD, request_serializer=None, response_deserializer=None
        )

        def loop(k: int) -> None:
            end = start_at + duration_s
            while time.time() < start_at:
                time.sleep(0.0005)
            i = k
            while time.time() < end:
                t = time.perf_counter()
                try:
                    call(payloads[i % len(payloads)], timeout=CALL_TIMEOUT_S)
                except grpc.RpcError:
                    errors[k] += 1
                else:
                    latencies[k].append((time.perf_counter() - t) * 1e3)
                i += threads
            finished[k] = time.time()

        workers = [threading.Thread(target=loop, args=(k,)) for k in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    return {
        "latencies_ms": [x for per in latencies for x in per],
        "errors": sum(errors),
        "last_finish": max(finished),
    }
