"""A day in simulated time (issue #14): greedy on arrival, the engine's own dispatch rounds and
the hindsight bound on the contended, slack and demo days, ``SEEDS`` seeds from the suite's
seed (one in a quick run, on small days). The work is in ``benchmarks/day/``; the plot of
orders waiting over the day is ``benchmarks.day.plot``'s, written with the suite's plots."""

from __future__ import annotations

from benchmarks.day.generate import VARIANTS
from benchmarks.day.run import run_days
from benchmarks.day.targets import judge_all
from benchmarks.suite import Progress, Results, SuiteConfig

SEEDS, QUICK_SEEDS = 3, 1


def steps(config: SuiteConfig) -> int:
    return len(VARIANTS) * (QUICK_SEEDS if config.quick else SEEDS)


def run(config: SuiteConfig, progress: Progress) -> Results:
    seeds = [config.seed + k for k in range(QUICK_SEEDS if config.quick else SEEDS)]
    results = run_days(VARIANTS, seeds, quick=config.quick, step=progress.step, note=progress.note)
    results["targets"] = judge_all(results)
    return results
