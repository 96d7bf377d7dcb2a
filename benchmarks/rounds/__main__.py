"""``python -m benchmarks.rounds``: how a dispatch round's time grows with the backlog.

For each store (``--stores``: ``memory`` and/or a Redis URL; on Redis a fresh key prefix per
run, deleted afterwards) and each backlog size (``--sizes``, live orders), builds the seeded
backlog of ``benchmarks.rounds.backlog`` (PENDING / OFFERED / ACCEPTED orders with
histories, some offers overdue, a few orders lapsing) against ``--volunteers`` registered
volunteers, then times the first round (which expires the overdue offers, lapses, solves and
offers) and the next one a second later (little is due: the floor a round costs at that
backlog), with the parts of each from ``RoundReport.timings_ms``: sweep (reading and
sweeping the live orders), holds (reading the held time), solve (pool cuts, requests and the
solve) and reserve (committing the offers). Each repeat builds the backlog afresh; figures
are medians over ``--repeats``. ``--profile`` writes a cProfile listing of the first round
at the largest size (per store) next to the JSON.

Prints a table and writes ``--out``/round_scaling.json. The volunteer registry is in memory
in every run (a round reads the registry's version only); the order store is what varies.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.rounds.measure import RoundPlan, measure
from benchmarks.rounds.report import print_table, write_results
from benchmarks.suite import DEFAULT_OUT, DEFAULT_SEED

PROG = "python -m benchmarks.rounds"
SIZES = (1_000, 5_000, 20_000)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="live orders")
    p.add_argument(
        "--stores", nargs="+", default=["memory", "redis://127.0.0.1:6379/8"], metavar="STORE"
    )
    p.add_argument("--volunteers", type=int, default=3_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument(
        "--busy-threads",
        type=int,
        nargs="+",
        default=[0, 1],
        help="threads running Python code beside the rounds, as a server's request threads "
        "do (each count measured apart; default 0 1)",
    )
    p.add_argument("--profile", action="store_true", help="cProfile the largest first round")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}/")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    plan = RoundPlan(
        volunteers=args.volunteers,
        repeats=args.repeats,
        seed=args.seed,
        out=args.out,
        profile_size=max(args.sizes) if args.profile else None,
    )
    rows = [
        measure(url, size, busy_threads, plan)
        for busy_threads in args.busy_threads
        for url in args.stores
        for size in args.sizes
    ]
    print_table(rows)
    words = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join([*PROG.split(), *words])
    print(f"wrote {write_results(rows, plan, command)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
