"""The mixed load run's table (stdout) and its JSON file (``benchmarks/results/``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO


def result_path(out: Path, store: str, target: str | None) -> Path:
    kind = "target" if target else ("memory" if store == "memory" else "redis")
    return out / f"mixed_load_{kind}.json"


def write_json(results: dict[str, Any], path: Path) -> Path:
    """Write atomically (a ``.tmp`` file, then a rename), as the suite's report does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def _codes(counts: dict[str, int]) -> str:
    return ", ".join(f"{code} {n}" for code, n in sorted(counts.items())) or "-"


def print_table(results: dict[str, Any], out: TextIO) -> None:
    cpu = results["cpu_s"]
    server_cpu = "n/a" if cpu["server"] is None else f"{cpu['server']:.1f}"
    print(
        f"mixed load: {results['config']['clients']} clients {results['roles']}, "
        f"{results['elapsed_s']:.1f} s, store {results['config']['store']}, "
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
