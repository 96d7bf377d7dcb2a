"""Tests of the demo: a real in-process server, a real channel, and a report that adds up."""

from __future__ import annotations

import io

import pytest

from matcher.core.greedy import greedy_match
from matcher.core.model import Policy, Urgency
from matcher.core.pool_index import PoolIndex
from matcher.core.solve import solve_match
from matcher.tools.demo import main, run_demo
from matcher.tools.demo_report import TIERS, DemoReport
from matcher.tools.synthetic import TOWNS, gonghe_day

SEED, N_REQUESTS, N_VOLUNTEERS = 7, 150, 500
SECTIONS = ("== Served by tier", "== Value, cost and travel", "== Per town", "== Engine solve")


@pytest.fixture(scope="module")
def demo() -> tuple[DemoReport, str]:
    out = io.StringIO()
    report = run_demo(SEED, N_REQUESTS, N_VOLUNTEERS, out=out)
    return report, out.getvalue()


def test_report_has_every_section_and_town(demo: tuple[DemoReport, str]) -> None:
    _, text = demo
    positions = [text.index(heading) for heading in SECTIONS]
    assert positions == sorted(positions)
    for town in TOWNS:
        assert town.name_en in text


def test_engine_serves_at_least_as_many_urgent_and_as_much_value(
    demo: tuple[DemoReport, str],
) -> None:
    report, _ = demo
    urgent = TIERS.index(Urgency.URGENT)
    assert report.engine.requests_by_tier[urgent] >= report.greedy.requests_by_tier[urgent]
    assert report.engine.slots_by_tier[urgent] >= report.greedy.slots_by_tier[urgent]
    assert report.engine.value >= report.greedy.value


def test_figures_are_consistent(demo: tuple[DemoReport, str]) -> None:
    report, _ = demo
    assert sum(report.requests_by_tier) == N_REQUESTS and report.volunteers == N_VOLUNTEERS
    for side in (report.engine, report.greedy):
        for k in range(len(TIERS)):
            assert side.requests_by_tier[k] <= report.requests_by_tier[k]
            assert side.slots_by_tier[k] <= report.slots_by_tier[k]
        assert side.mean_km * side.slots == pytest.approx(side.total_km)
        assert 0 <= side.p95_km <= report.stats.total_distance_km
    assert report.engine.value == pytest.approx(report.stats.value_served)
    assert report.engine.total_km == pytest.approx(report.stats.total_distance_km)
    assert report.km_reduction_pct == pytest.approx(
        100 * (1 - report.engine.total_km / report.greedy.total_km)
    )
    assert sum(t.requests for t in report.towns) == N_REQUESTS
    assert sum(t.engine_served for t in report.towns) == report.engine.requests
    assert sum(t.greedy_served for t in report.towns) == report.greedy.requests
    assert report.stats.rounds >= 1 and report.stats.candidate_pairs > 0


def test_printed_figures_are_the_returned_ones(demo: tuple[DemoReport, str]) -> None:
    report, text = demo
    lines = text.splitlines()
    urgent_row = next(line for line in lines if line.startswith("urgent"))
    k = TIERS.index(Urgency.URGENT)
    for side in (report.engine, report.greedy):
        assert f"{side.requests_by_tier[k]}/{side.slots_by_tier[k]}" in urgent_row
    engine_row = next(line for line in lines if line.startswith("engine "))
    assert f"{report.engine.total_km:.1f}" in engine_row
    assert f"{abs(report.km_reduction_pct):.1f}%" in text
    assert f"candidate pairs {report.stats.candidate_pairs}" in text


def test_figures_come_from_real_solves(demo: tuple[DemoReport, str]) -> None:
    """Both sides agree with solving the same day directly, in process."""
    report, _ = demo
    requests, pool = gonghe_day(SEED, N_REQUESTS, N_VOLUNTEERS)
    greedy = greedy_match(requests, pool, Policy())
    engine = solve_match(requests, PoolIndex.build(pool), Policy())
    assert report.greedy.slots == len(greedy.request)
    assert report.greedy.total_km == pytest.approx(float(greedy.distance_km.sum()))
    assert report.engine.slots == len(engine.request)
    assert report.engine.value == engine.value_served


def test_main_prints_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--seed", "3", "--requests", "40", "--volunteers", "150"])
    text = capsys.readouterr().out
    assert "seed 3" in text and all(heading in text for heading in SECTIONS)
