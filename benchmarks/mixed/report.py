"""The mixed load run's table and the open-vs-keyed comparison (stdout), and the name of its
JSON file (written by ``benchmarks.result_files``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO


def result_path(out: Path, store: str, target: str | None, variant: str = "") -> Path:
    """``mixed_load_<memory|redis|target>[_<variant>].json`` (variant: ``keys``,
    ``keys_ratelimit``, ``open_vs_keys``, ...; none for the plain open run)."""
    kind = "target" if target else ("memory" if store == "memory" else "redis")
    return out / f"mixed_load_{kind}{'_' + variant if variant else ''}.json"


def _codes(counts: dict[str, int]) -> str:
    return ", ".join(f"{code} {n}" for code, n in sorted(counts.items())) or "-"


def print_table(results: dict[str, Any], out: TextIO) -> None:
    cpu = results["cpu_s"]
    server_cpu = "n/a" if cpu["server"] is None else f"{cpu['server']:.1f}"
    auth = results["auth"]
    access = "open" if auth["mode"] == "open" else f"keys ({auth['keys']:,})"
    if auth["rate_limit_per_second"]:
        access += f", rate limit {auth['rate_limit_per_second']:g}/s per key"
    print(
        f"mixed load: {results['config']['clients']} clients {results['roles']}, "
        f"{results['elapsed_s']:.1f} s, store {results['config']['store']}, access {access}, "
        f"server {results['server']}; CPU s: clients {cpu['clients']:.1f}, server {server_cpu}",
        file=out,
    )
    header = f"{'rpc':<28} {'calls':>7} {'calls/s':>8} {'p50 ms':>8} {'p99 ms':>8}  errors"
    print(header, file=out)
    print("-" * len(header), file=out)
    rows = [*results["rpcs"].items(), ("(all)", {**results["overall"], "expected": {}})]
    for method, row in rows:
        lat = row["latency_ms"]
        p50, p99 = (f"{lat['p50']:.1f}", f"{lat['p99']:.1f}") if lat.get("n") else ("-", "-")
        if method == "(all)":
            errors = f"expected {row['expected_errors']}, unexpected {row['unexpected_errors']}"
        else:
            errors = f"expected: {_codes(row['expected'])}; unexpected: {_codes(row['unexpected'])}"
        if row["rate_limited"]:
            errors += f"; rate-limited {row['rate_limited']}"
        print(
            f"{method:<28} {row['calls']:>7} {row['calls_per_s']:>8.1f} {p50:>8} {p99:>8}  "
            f"{errors}",
            file=out,
        )
    work = results["work"]
    print(f"work: {json.dumps(work, separators=(', ', ': '))}", file=out)
    for name, check in results["checks"].items():
        if not check["ran"]:
            verdict = "not run (no store access)"
        elif check["passed"]:
            verdict = "passed"
        else:
            verdict = f"FAILED ({check['violation_count']} violations)"
        print(f"check {name:<20} {verdict}", file=out)
        for violation in check["violations"][:10]:
            print(f"    {violation}", file=out)


#: The rpcs the open-vs-keyed comparison lists (besides all calls together).
COMPARED = ("SubmitOrder", "AcceptOffer", "Match (inline)", "Match (pool)", "RunDispatchRound")


def comparison(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Calls/s and p50/p99 per mode for all calls and the ``COMPARED`` rpcs, and the ratio of
    the second mode to the first (e.g. keys/open)."""
    (first, a), (second, b) = runs.items()
    rows: dict[str, Any] = {}
    for name in ("(all)", *COMPARED):
        pair = [r["overall"] if name == "(all)" else r["rpcs"].get(name) for r in (a, b)]
        if not all(p and p["calls"] for p in pair):
            continue
        row: dict[str, Any] = {}
        for key in ("calls_per_s", "p50", "p99"):
            x, y = (
                p["calls_per_s"] if key == "calls_per_s" else p["latency_ms"][key] for p in pair
            )
            row[key] = {first: x, second: y, "ratio": y / x if x else None}
        rows[name] = row
    return {"modes": [first, second], "rows": rows}


def print_comparison(compared: dict[str, Any], out: TextIO) -> None:
    first, second = compared["modes"]
    header = (
        f"{'rpc':<20} {'calls/s ' + first:>14} {second:>8} {'ratio':>6}   "
        f"{'p50 ms':>7} {second:>7} {'ratio':>6}   {'p99 ms':>7} {second:>7} {'ratio':>6}"
    )
    print(f"{second} vs {first} (ratio {second}/{first}):", file=out)
    print(header, file=out)
    print("-" * len(header), file=out)
    widths = {"calls_per_s": (14, 8), "p50": (7, 7), "p99": (7, 7)}
    for name, row in compared["rows"].items():
        cells = []
        for key, (wx, wy) in widths.items():
            x, y, ratio = row[key][first], row[key][second], row[key]["ratio"]
            shown = "-" if ratio is None else f"{ratio:.2f}"
            cells.append(f"{x:>{wx}.1f} {y:>{wy}.1f} {shown:>6}")
        print(f"{name:<20} " + "   ".join(cells), file=out)
