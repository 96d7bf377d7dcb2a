"""The benchmark suite never rots: ``python -m benchmarks --quick`` runs end to end and writes
its files, the exact-agreement check runs at every quick size, and a corrupted result makes
that check raise."""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.checks import REL_TOL, AgreementError, Objective, check_agreement
from benchmarks.report import markdown
from benchmarks.scenarios.core_scaling import GEOGRAPHIES, QUICK_SIZES, compare
from benchmarks.suite import Progress
from benchmarks.targets import MET, NOT_MEASURED, NOT_MET
from tests.support.paths import ROOT

QUICK_TIMEOUT_S = 300
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One ``--quick`` run in a subprocess, as a user would type it."""
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=QUICK_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out, json.loads((out / "results.json").read_text())


@pytest.mark.slow
def test_quick_run_writes_json_markdown_and_plots(quick_run: tuple[Path, dict[str, Any]]) -> None:
    out, results = quick_run
    assert results["quick"] is True
    assert results["command"].startswith("python -m benchmarks --quick")
    assert results["machine"]["nproc"] >= 1
    assert results["errors"] == {}
    assert results["agreement_failure"] is None
    for name in ("scaling.png", "quality.png"):
        assert (out / name).read_bytes()[:8] == PNG_SIGNATURE
    text = (out / "results.md").read_text()
    assert "## Targets" in text and "## Solver core scaling" in text
    for verdict in results["targets"]:
        assert verdict["status"] in (MET, NOT_MET, NOT_MEASURED)
        assert verdict["target"] in text


@pytest.mark.slow
def test_quick_run_checked_engine_against_dense_at_every_size(
    quick_run: tuple[Path, dict[str, Any]],
) -> None:
    _, results = quick_run
    cases = results["scenarios"]["core"]["cases"]
    shapes = {(c["geography"], c["requests"], c["volunteers"]) for c in cases}
    assert shapes == {(g, r, v) for g in GEOGRAPHIES for r, v in QUICK_SIZES}
    for case in cases:
        engine, dense = case["engine"], case["dense"]
        assert dense["ran"], case["agreement"]
        assert engine["value_served"] == dense["value_served"] > 0
        assert engine["total_cost"] == pytest.approx(dense["total_cost"], rel=REL_TOL)
        assert engine["total_ms"]["p50"] > 0 and dense["total_ms"]["p50"] > 0
        assert "engine = dense" in case["agreement"]


@pytest.mark.slow
def test_markdown_is_rebuilt_from_the_json(quick_run: tuple[Path, dict[str, Any]]) -> None:
    out, results = quick_run
    assert markdown(results) == (out / "results.md").read_text()


def test_agreement_passes_within_tolerance() -> None:
    reference = Objective("dense", 35_980, 2945.5627782804595)
    same = Objective("engine", 35_980, 2945.5627782804595 * (1 + REL_TOL / 10))
    assert "engine = dense" in check_agreement("case", reference, same)


@pytest.mark.parametrize(
    "corrupt",
    [
        Objective("engine", 35_970, 2945.5627782804595),  # one fewer routine slot
        Objective("engine", 35_980, 2945.5627782804595 * (1 + 10 * REL_TOL)),
        Objective("engine", 35_980, 2945.0),
    ],
)
def test_agreement_raises_on_a_corrupted_objective(corrupt: Objective) -> None:
    reference = Objective("dense", 35_980, 2945.5627782804595)
    with pytest.raises(AgreementError, match="EXACT METHODS DISAGREE on clustered 1,000"):
        check_agreement("clustered 1,000x20,000", reference, corrupt)


@pytest.mark.slow
@pytest.mark.parametrize("field", ["value_served", "total_cost"])
def test_suite_comparison_raises_on_a_corrupted_case(
    quick_run: tuple[Path, dict[str, Any]], field: str
) -> None:
    """The comparison the suite runs per case, fed a real case with one figure corrupted."""
    _, results = quick_run
    case = copy.deepcopy(results["scenarios"]["core"]["cases"][0])
    compare(copy.deepcopy(case), "as measured", Progress(io.StringIO()))  # the real one passes
    case["engine"][field] += 1
    with pytest.raises(AgreementError, match="EXACT METHODS DISAGREE"):
        compare(case, "corrupted", Progress(io.StringIO()))
