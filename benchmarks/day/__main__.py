"""``python -m benchmarks.day [--quick] [--seeds 3] [--seed S] [--variants ...] [--out DIR]``.

Runs greedy on arrival, the engine's dispatch rounds and the hindsight bound on the same days
and seeds, prints the tables and writes ``day.json``, ``day.md`` and ``day_waiting.png``.
A full run writes to ``benchmarks/results/``; a quick one (small days, seconds) to a
temporary folder, and never over the committed results.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.day.engine_arm import WINDOWS
from benchmarks.day.generate import VARIANTS
from benchmarks.day.plot import PNG, write_plot
from benchmarks.day.report import section
from benchmarks.day.run import run_days
from benchmarks.day.targets import judge_all
from benchmarks.result_files import write_json, write_text
from benchmarks.suite import DEFAULT_OUT, DEFAULT_SEED

QUICK_OUT = Path(tempfile.gettempdir()) / "matcher-bench-day-quick"
JSON_NAME, MARKDOWN_NAME = "day.json", "day.md"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.day",
        description="A day in simulated time: greedy, the engine's rounds and the bound.",
    )
    parser.add_argument("--quick", action="store_true", help="small days, runs in seconds")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per variant (default 3)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the first seed")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument(
        "--engine-window",
        choices=WINDOWS,
        default="service",
        help="the engine's orders ask for their service time from the deadline (default), "
        "or one minute at it (a diagnosis)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help=f"default {DEFAULT_OUT}/ ({QUICK_OUT}/ if quick)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = args.out or (QUICK_OUT if args.quick else DEFAULT_OUT)
    if args.quick and out.resolve() == DEFAULT_OUT.resolve():
        print(
            f"a quick run does not write over {DEFAULT_OUT}/: give another --out", file=sys.stderr
        )
        return 2
    if args.seeds < 1:
        print("--seeds must be at least 1", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    seeds = [args.seed + k for k in range(args.seeds)]
    results = run_days(
        args.variants,
        seeds,
        quick=args.quick,
        window=args.engine_window,
        step=lambda text: print(f"... {text}", file=sys.stderr, flush=True),
        note=lambda text: print(f"    {text}", file=sys.stderr, flush=True),
    )
    results["targets"] = judge_all(results)
    results["command"] = shlex.join(
        ["python", "-m", "benchmarks.day", *(sys.argv[1:] if argv is None else argv)]
    )
    plot = write_plot(results, out / PNG)
    text = f"# A day in simulated time\n\nCommand: `{results['command']}`\n\n"
    text += section(results, PNG).split("\n\n", 1)[1] + "\n"
    write_json(results, out / JSON_NAME)
    write_text(out / MARKDOWN_NAME, text)
    print(text)
    print(f"wrote {out / JSON_NAME}, {out / MARKDOWN_NAME}, {plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
