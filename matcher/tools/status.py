"""``matcher status --target HOST:PORT``: health, version, store, registry and the main
counters of a running server, as a readable table. Exit code 0 when the server answers and
every service is SERVING, 1 when some service is not, 2 when the server cannot be reached
(or a ``--tls-*`` file cannot be read). ``--tls-ca FILE`` connects over TLS trusting that CA;
``--tls-cert`` / ``--tls-key`` add a client certificate for mutual TLS.
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, TextIO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from matcher.config import ConfigError
from matcher.tls import SERVER_NAME_OPTION, channel_credentials
from matcher.v1 import status_pb2, status_pb2_grpc

SERVICES = ("", "matcher.v1.MatchService", "matcher.v1.VolunteerService")


@dataclass(frozen=True)
class StatusTls:
    """TLS flags: any of ``ca`` / ``cert`` / ``key`` turns TLS on (no ``ca``: the system's
    roots); ``server_name`` is the name the server's certificate must carry, when it is not
    the target's host."""

    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    server_name: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.ca or self.cert or self.key)


def open_channel(target: str, tls: StatusTls | None) -> grpc.Channel:
    """A plaintext channel, or a TLS one when ``tls`` asks for it (``ConfigError`` naming the
    flag of a file that cannot be read)."""
    if tls is None or not tls.enabled:
        return grpc.insecure_channel(target)
    credentials = channel_credentials(tls.ca or "", tls.cert or "", tls.key or "")
    options: list[tuple[str, Any]] = []
    if tls.server_name:
        options.append((SERVER_NAME_OPTION, tls.server_name))
    return grpc.secure_channel(target, credentials, options=options)


def run_status(
    target: str,
    out: TextIO = sys.stdout,
    timeout: float = 5.0,
    tls: StatusTls | None = None,
    api_key: str | None = None,
) -> int:
    """Print the status of the server at ``target``; return the exit code. ``api_key`` (an
    admin or dispatcher key) is needed when the server has access control on."""
    metadata = (("authorization", f"Bearer {api_key}"),) if api_key else ()
    try:
        channel = open_channel(target, tls)
    except ConfigError as err:
        print(f"matcher status: {err}", file=sys.stderr)
        return 2
    with channel:
        health = health_pb2_grpc.HealthStub(channel)
        try:
            stub = status_pb2_grpc.StatusServiceStub(channel)
            status = stub.GetServerStatus(
                status_pb2.GetServerStatusRequest(), timeout=timeout, metadata=metadata
            )
        except grpc.RpcError as err:
            print(f"matcher status: {target} unreachable: {err.code().name}", file=sys.stderr)
            return 2
        states = {name: _health(health, name, timeout) for name in SERVICES}
    _print_overview(target, status, states, out)
    _print_counters(status, out)
    _print_orders(status, out)
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


def _print_orders(status: status_pb2.GetServerStatusResponse, out: TextIO) -> None:
    """Orders by state (from the store), the oldest waiting, offers, rounds and hours."""
    states: dict[str, float] = {}
    oldest: dict[str, float] = {}
    offers: dict[str, float] = {}
    rounds: dict[str, float] = {}
    hours = 0.0
    for s in status.counters:
        if s.name == "matcher_orders":
            states[s.labels["state"]] = s.value
        elif s.name == "matcher_orders_oldest_age_seconds":
            oldest[s.labels["state"]] = s.value
        elif s.name == "matcher_offers_total":
            offers[s.labels["outcome"]] = s.value
        elif s.name == "matcher_dispatch_rounds_total":
            rounds[s.labels["result"]] = s.value
        elif s.name == "matcher_timebank_hours_credited_total":
            hours = s.value
    print("\norders", file=out)
    print("  " + _figures(states, ORDER_STATES), file=out)
    waits = [f"{k} {_age(v)}" for k, v in oldest.items() if v > 0 or math.isnan(v)]
    print("  oldest waiting: " + (", ".join(waits) if waits else "none"), file=out)
    print("  offers: " + _figures(offers, OFFER_OUTCOMES), file=out)
    print(
        f"  rounds: {rounds.get('ok', 0):.0f} ok, {rounds.get('failed', 0):.0f} failed; "
        f"hours credited: {hours:g}",
        file=out,
    )


ORDER_STATES = ("pending", "offered", "accepted", "completed", "rated", "cancelled", "expired")
OFFER_OUTCOMES = ("made", "accepted", "declined", "expired", "withdrawn")


def _figures(values: dict[str, float], names: tuple[str, ...]) -> str:
    """``name n`` for each name; ``?`` where the server could not read it."""
    shown = ("?" if math.isnan(v) else f"{v:.0f}" for v in (values.get(n, 0.0) for n in names))
    return ", ".join(f"{name} {value}" for name, value in zip(names, shown, strict=True))


def _age(seconds: float) -> str:
    if math.isnan(seconds):
        return "?"
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"
