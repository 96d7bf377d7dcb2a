"""``matcher simulate``: a seeded day runs the whole loop end to end over gRPC, and its report
adds up (every order accounted for, the ledger balanced, re-dispatches after declines and
expiries, urgent orders accepted fastest)."""

from __future__ import annotations

import io
import math

import pytest

from matcher.cli import main
from matcher.tools.simulate import DayConfig, run_simulation
from matcher.tools.simulate_report import SimReport

SMALL = DayConfig(seed=7, orders=120, volunteers=600, window_minutes=10)


@pytest.fixture(scope="module")
def day() -> tuple[SimReport, str]:
    out = io.StringIO()
    return run_simulation(SMALL, out), out.getvalue()


def test_every_order_ends_somewhere_sensible(day: tuple[SimReport, str]) -> None:
    report, _ = day
    assert sum(report.by_state.values()) == report.orders == 120
    assert set(report.by_state) <= {"rated", "completed", "cancelled", "expired", "accepted"}
    assert report.by_state["rated"] > report.by_state.get("completed", 0) > 0
    assert "pending" not in report.by_state and "offered" not in report.by_state


def test_the_loop_declines_expires_and_re_dispatches(day: tuple[SimReport, str]) -> None:
    report, _ = day
    assert report.declined_offers > 0 and report.expired_offers > 0
    assert report.redispatched_orders > 0 and report.redispatches >= report.redispatched_orders
    assert report.offers == (
        report.accepted_offers
        + report.declined_offers
        + report.expired_offers
        + report.withdrawn_offers
    )


def test_urgent_orders_are_accepted_fastest(day: tuple[SimReport, str]) -> None:
    report, _ = day
    waits = {w.tier: w for w in report.waits}
    assert waits["urgent"].accepted > 0
    assert waits["urgent"].median_minutes < waits["routine"].median_minutes
    assert all(math.isnan(w.median_minutes) or w.median_minutes >= 0 for w in report.waits)


def test_the_time_bank_balances_and_rolls_up(day: tuple[SimReport, str]) -> None:
    report, text = day
    assert report.ledger_sum_minutes == 0
    assert report.hours_total == pytest.approx(sum(e for e, _ in report.hours_by_branch.values()))
    assert report.hours_total > 0 and report.redeemed_hours > 0
    assert "grid-qabqa" in report.hours_by_branch
    assert "balanced: yes" in text and "Orders by state" in text


def test_the_same_seed_gives_the_same_day(day: tuple[SimReport, str]) -> None:
    again = run_simulation(SMALL, io.StringIO())
    assert again == day[0]


def test_the_cli_runs_a_day_and_checks_its_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--orders", "30", "--volunteers", "200", "--seed", "3"]) == 0
    assert "A day at the centre (seed 3): 30 orders" in capsys.readouterr().out
    assert main(["simulate", "--accept", "0.9", "--decline", "0.2"]) == 2
    assert "--accept + --decline" in capsys.readouterr().err
