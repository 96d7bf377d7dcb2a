"""``python -m benchmarks [--quick] [--only SCENARIO ...] [--out DIR]``: run the suite.

Exit status: 0 when every scenario ran, 1 when one failed, 3 when exact methods disagreed
(the results are written in every case). Targets not met do not change the status: they
are reported, with the measured figure, in ``results.md``.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.report import write_report
from benchmarks.runner import run_suite
from benchmarks.scenarios import NAMES
from benchmarks.suite import DEFAULT_OUT, DEFAULT_REDIS, DEFAULT_SEED, Progress, SuiteConfig

EXIT_FAILED, EXIT_DISAGREE = 1, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Benchmark suite of the matching engine."
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, runs in seconds")
    parser.add_argument(
        "--only", nargs="+", choices=NAMES, metavar="SCENARIO", help=f"any of {', '.join(NAMES)}"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}/")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="data seed")
    parser.add_argument(
        "--redis", default=DEFAULT_REDIS, help=f"Redis for pool-load (default {DEFAULT_REDIS})"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Each benchmark server would warn that its in-memory registry is not kept.
    logging.getLogger("matcher.service.server").setLevel(logging.ERROR)
    config = SuiteConfig(quick=args.quick, out=args.out, seed=args.seed, redis_url=args.redis)
    names = tuple(args.only) if args.only else NAMES
    command = shlex.join(["python", "-m", "benchmarks", *(sys.argv[1:] if argv is None else argv)])
    results = run_suite(config, names, command, Progress())
    written = write_report(results, args.out)
    for verdict in results["targets"]:
        print(f"{verdict['status']:>12}  {verdict['target']}: {verdict['measured']}")
    print("wrote " + ", ".join(str(p) for p in written))
    if results["agreement_failure"]:
        print(results["agreement_failure"], file=sys.stderr)
        return EXIT_DISAGREE
    if results["errors"]:
        print(f"scenarios failed: {', '.join(results['errors'])}", file=sys.stderr)
        return EXIT_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
