"""The dispatch rounds' table (stdout) and their JSON file, ``round_scaling.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.machine import machine_info
from benchmarks.result_files import write_json
from benchmarks.rounds.measure import OFFER_TTL_S, PARTS, RoundPlan

JSON_NAME = "round_scaling.json"


def print_table(rows: list[dict[str, Any]]) -> None:
    """One line per row: the backlog, the first round and its parts, the next round."""
    head = (
        f"{'store':<7} {'busy':>4} {'live':>6} {'pend/offd/acc':>17} {'overdue':>7} "
        f"{'round ms':>9} "
        + " ".join(f"{p:>8}" for p in PARTS)
        + f" {'offers':>6} {'expired':>7} {'lapsed':>6} {'next ms':>8}"
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        c, first = row["counts"], row["first"]
        mix = f"{c['PENDING']}/{c['OFFERED']}/{c['ACCEPTED']}"
        parts = " ".join(f"{first['parts_ms'][p]:>8.0f}" for p in PARTS)
        print(
            f"{row['store']:<7} {row['busy_threads']:>4} {row['size']:>6} {mix:>17} "
            f"{c['overdue_offers']:>7} "
            f"{first['ms']:>9.0f} {parts} {first['offers']:>6.0f} {first['expired']:>7.0f} "
            f"{first['lapsed']:>6.0f} {row['next']['ms']:>8.0f}"
        )


def write_results(rows: list[dict[str, Any]], plan: RoundPlan, command: str) -> Path:
    """``plan.out``/round_scaling.json: the command, the machine, the settings, every row."""
    results = {
        "command": command,
        "machine": machine_info(),
        "config": {
            "volunteers": plan.volunteers,
            "repeats": plan.repeats,
            "seed": plan.seed,
            "offer_ttl_s": OFFER_TTL_S,
        },
        "rows": rows,
    }
    return write_json(results, plan.out / JSON_NAME)
