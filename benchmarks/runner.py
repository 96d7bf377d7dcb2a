"""Running the chosen scenarios: progress, errors kept per scenario, targets judged."""

from __future__ import annotations

import datetime as dt
import time
import traceback
from typing import Any

from benchmarks.checks import AgreementError
from benchmarks.machine import machine_info
from benchmarks.scenarios import SCENARIOS
from benchmarks.suite import Progress, SuiteConfig
from benchmarks.targets import evaluate


def run_suite(
    config: SuiteConfig, names: tuple[str, ...], command: str, progress: Progress
) -> dict[str, Any]:
    """Run the scenarios in ``names`` (suite order) and collect everything for the report.

    A scenario that raises is recorded under ``errors`` and the others still run; an
    ``AgreementError`` is also kept whole under ``agreement_failure``.
    """
    started = time.perf_counter()
    results: dict[str, Any] = {
        "suite": "volunteer-matcher benchmarks",
        "command": command,
        "quick": config.quick,
        "seed": config.seed,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "scenarios": {},
        "errors": {},
        "agreement_failure": None,
    }
    for scenario in SCENARIOS:
        if scenario.name not in names:
            continue
        progress.begin(scenario.name, scenario.steps(config))
        try:
            results["scenarios"][scenario.name] = scenario.run(config, progress)
        except AgreementError as err:
            results["agreement_failure"] = str(err).strip()
            results["errors"][scenario.name] = traceback.format_exc()
            progress.note(str(err))
        except Exception:
            results["errors"][scenario.name] = traceback.format_exc()
            progress.note("FAILED:\n" + results["errors"][scenario.name])
    results["targets"] = [v.as_dict() for v in evaluate(results["scenarios"])]
    results["duration_s"] = time.perf_counter() - started
    return results
