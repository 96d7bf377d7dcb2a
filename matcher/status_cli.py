"""``matcher status --target HOST:PORT``: health, version, store, registry and the main
counters of a running server, as a readable table. Exit code 0 when the server answers and
every service is SERVING, 1 when some service is not, 2 when the server cannot be reached.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from typing import TextIO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from matcher.v1 import status_pb2, status_pb2_grpc

SERVICES = ("", "matcher.v1.MatchService", "matcher.v1.VolunteerService")


def run_status(target: str, out: TextIO = sys.stdout, timeout: float = 5.0) -> int:
    """Print the status of the server at ``target``; return the exit code."""
    with grpc.insecure_channel(target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        try:
            stub = status_pb2_grpc.StatusServiceStub(channel)  # type: ignore[no-untyped-call]
            status = stub.GetServerStatus(status_pb2.GetServerStatusRequest(), timeout=timeout)
        except grpc.RpcError as err:
            print(f"matcher status: {target} unreachable: {err.code().name}", file=sys.stderr)
            return 2
        states = {name: _health(health, name, timeout) for name in SERVICES}
    _print_overview(target, status, states, out)
    _print_counters(status, out)
    return 0 if all(s == "SERVING" for s in states.values()) else 1


def _health(stub: health_pb2_grpc.HealthStub, name: str, timeout: float) -> str:
    try:
        reply = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=timeout)
    except grpc.RpcError as err:
        return err.code().name
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def _print_overview(
    target: str, status: status_pb2.GetServerStatusResponse, states: dict[str, str], out: TextIO
) -> None:
    age = status.registry_view_age_seconds
    rows = [
        ("server", target),
        ("version", status.version),
        ("uptime", f"{status.uptime_seconds:.0f} s"),
        ("store", f"{status.store} ({'reachable' if status.store_reachable else 'UNREACHABLE'})"),
        (
            "registry",
            f"{status.registry_active_volunteers} active of {status.registry_volunteers} "
            f"volunteers, version {status.registry_version}",
        ),
        ("registry view", "not loaded yet" if age < 0 else f"refreshed {age:.1f} s ago"),
        ("metrics", f":{status.metrics_port}/metrics" if status.metrics_port else "disabled"),
    ]
    rows += [(f"health {name or '(server)'}", state) for name, state in states.items()]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}", file=out)


def _print_counters(status: status_pb2.GetServerStatusResponse, out: TextIO) -> None:
    calls: dict[tuple[str, str], float] = {}
    latency: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    slots: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for s in status.counters:
        if s.name == "matcher_rpc_requests_total":
            calls[(s.labels["method"], s.labels["code"])] = s.value
        elif s.name == "matcher_rpc_duration_seconds_count":
            latency[s.labels["method"]][0] = s.value
        elif s.name == "matcher_rpc_duration_seconds_sum":
            latency[s.labels["method"]][1] = s.value
        elif s.name == "matcher_match_slots_asked_total":
            slots[s.labels["urgency"]][0] = s.value
        elif s.name == "matcher_match_slots_served_total":
            slots[s.labels["urgency"]][1] = s.value
    print(
        "\nrpc                                              code                 calls  mean ms",
        file=out,
    )
    for (method, code), value in sorted(calls.items()):
        count, total = latency.get(method, [0.0, 0.0])
        mean = f"{1000 * total / count:8.1f}" if count else "       -"
        print(f"{method:<48} {code:<18} {value:8.0f} {mean}", file=out)
    if not calls:
        print("(no calls yet)", file=out)
    print("\nMatch slots     asked   served  served %", file=out)
    for urgency in ("urgent", "difficult", "routine"):
        asked, served = slots.get(urgency, [0.0, 0.0])
        share = f"{100 * served / asked:7.1f}" if asked else "      -"
        print(f"{urgency:<12} {asked:8.0f} {served:8.0f}  {share}", file=out)
