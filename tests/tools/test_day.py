"""The day in simulated time (``benchmarks/day``): seeded days, greedy on arrival that never
double-books and keeps deadlines, the engine arm through the real dispatcher, a bound no
dispatcher beats, and the metrics on hand-made cases."""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from benchmarks.day import bound, metrics
from benchmarks.day.__main__ import main
from benchmarks.day.engine_arm import run_engine
from benchmarks.day.generate import QUICK, Size, generated_day, make_day
from benchmarks.day.greedy_arm import run_greedy
from benchmarks.day.world import (
    DEADLINE_S,
    HOUR,
    MINUTE,
    Answer,
    Day,
    Outcome,
    Trip,
    answers,
    busy_s,
    reach,
    shifts,
)
from benchmarks.suite import DEFAULT_OUT
from matcher.core.model import RequestBatch, Urgency, VolunteerPool
from matcher.core.skills import N_SKILLS
from matcher.orders.model import Actor, Event, OfferState
from tests.support.core import QABQA

T0 = 1_655_251_200  # 2022-06-15 08:00 CST
KM_PER_DEG_LON = 111.2 * np.cos(np.radians(QABQA[0]))


def hand_day(
    orders: list[tuple[float, Urgency, int, float]],
    volunteers: list[tuple[float, list[tuple[float, float]]]],
) -> Day:
    """Orders (arrival min, urgency, slots, km east of Qabqa), each 30 min of service, and
    volunteers (km east, shifts in minutes), anyone fit for anything; a seed where every
    pair accepts."""
    n, m = len(orders), len(volunteers)
    arrival = np.array([T0 + round(a * MINUTE) for a, *_ in orders], dtype=np.int64)
    urgency = np.array([int(u) for _, u, _, _ in orders], dtype=np.int32)
    deadline = arrival + np.array([DEADLINE_S[Urgency(int(u))] for u in urgency])
    needs = RequestBatch(
        ids=tuple(f"o{i}" for i in range(n)),
        skill_mask=np.zeros(n, dtype=np.uint64),
        lat=np.full(n, QABQA[0]),
        lon=QABQA[1] + np.array([km for *_, km in orders]) / KM_PER_DEG_LON,
        start=arrival,
        end=deadline.astype(np.int64),
        urgency=urgency,
        slots=np.array([s for _, _, s, _ in orders], dtype=np.int32),
        remote=np.zeros(n, dtype=np.bool_),
        max_distance_km=np.zeros(n),
    )
    owner = [v for v, (_, spans) in enumerate(volunteers) for _ in spans]
    spans = [span for _, s in volunteers for span in s]
    levels = np.zeros((m, N_SKILLS), dtype=np.uint8)
    levels[:, 0] = 3
    pool = VolunteerPool(
        ids=tuple(f"v{i}" for i in range(m)),
        skill_mask=np.ones(m, dtype=np.uint64),
        levels=levels,
        lat=np.full(m, QABQA[0]),
        lon=QABQA[1] + np.array([km for km, _ in volunteers]) / KM_PER_DEG_LON,
        max_travel_km=np.zeros(m),
        rating=np.zeros(m),
        rating_count=np.zeros(m, dtype=np.int64),
        recent_hours=np.zeros(m),
        window_owner=np.array(owner, dtype=np.int32),
        window_start=np.array([T0 + round(s * MINUTE) for s, _ in spans], dtype=np.int64),
        window_end=np.array([T0 + round(e * MINUTE) for _, e in spans], dtype=np.int64),
    )
    o, v = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
    seed = next(s for s in range(10_000) if (answers(s, o, v)[0] == Answer.ACCEPT).all())
    return Day("hand", seed, T0, T0 + 4 * HOUR, needs, np.full(n, 30 * MINUTE), pool)


def check_world_rules(day: Day, outcome: Outcome) -> None:
    """No volunteer double-booked, every trip inside a shift, after arrival and by the
    deadline, by a pair that accepts, never a volunteer twice on one order."""
    pairs = reach(day)
    accepting = {
        (int(o), int(v))
        for o, v, a in zip(pairs.order, pairs.volunteer, pairs.answer, strict=True)
        if a == Answer.ACCEPT
    }
    spans = shifts(day.pool)
    by_volunteer: dict[int, list[Trip]] = defaultdict(list)
    per_order: dict[int, list[int]] = defaultdict(list)
    for t in outcome.trips:
        assert (t.order, t.volunteer) in accepting
        assert day.arrival[t.order] <= t.answered_s <= t.start_s <= day.deadline[t.order]
        assert t.busy_s == busy_s(day, t.order, t.km)
        assert any(s <= t.start_s and t.start_s + t.busy_s <= e for s, e in spans[t.volunteer])
        by_volunteer[t.volunteer].append(t)
        per_order[t.order].append(t.volunteer)
    for trips in by_volunteer.values():
        trips.sort(key=lambda t: t.start_s)
        for a, b in itertools.pairwise(trips):
            assert a.start_s + a.busy_s <= b.start_s, f"volunteer {a.volunteer} double-booked"
    for o, vs in per_order.items():
        assert len(vs) == len(set(vs)) <= day.needs.slots[o]


def test_the_same_seed_gives_the_same_day_and_another_seed_another() -> None:
    first, again = make_day("contended", 5, quick=True), make_day("contended", 5, quick=True)
    other = make_day("contended", 6, quick=True)
    for name in ("start", "end", "lat", "skill_mask", "urgency", "slots"):
        assert np.array_equal(getattr(first.needs, name), getattr(again.needs, name))
    assert np.array_equal(first.pool.window_start, again.pool.window_start)
    assert np.array_equal(first.service_s, again.service_s)
    assert not np.array_equal(first.arrival, other.arrival)
    size = QUICK["contended"]
    assert (len(first), len(first.pool)) == (size.orders, size.volunteers)
    assert ((first.arrival >= first.opens) & (first.arrival < first.closes)).all()
    tiers = [DEADLINE_S[Urgency(int(u))] for u in first.needs.urgency]
    assert np.array_equal(first.deadline - first.arrival, tiers)
    assert all(spans for spans in shifts(first.pool))
    slack = make_day("slack", 5, quick=True)
    assert len(slack.pool) == 2 * len(first.pool)
    assert np.array_equal(slack.arrival, first.arrival)


def test_greedy_keeps_the_world_rules_on_a_generated_day() -> None:
    day = generated_day("contended", 11, Size(80, 30, 4))
    outcome = run_greedy(day)
    assert outcome.trips
    check_world_rules(day, outcome)


def test_greedy_retries_when_the_volunteer_frees_up_and_gives_up_at_the_deadline() -> None:
    # one volunteer 1 km away; two routine orders a minute apart, then an urgent one
    day = hand_day(
        [(0, Urgency.ROUTINE, 1, 1.0), (1, Urgency.ROUTINE, 1, 1.0), (2, Urgency.URGENT, 1, 1.0)],
        [(0.0, [(0, 240)])],
    )
    trips = sorted(run_greedy(day).trips, key=lambda t: t.answered_s)
    assert [t.order for t in trips] == [0, 1]
    first, second = trips
    assert second.answered_s >= first.start_s + first.busy_s  # retried when it freed up
    check_world_rules(day, run_greedy(day))


def test_the_engine_arm_goes_through_the_real_dispatcher() -> None:
    day = make_day("contended", 3, quick=True)
    sim = run_engine(day)
    trips = sim.outcome.trips
    assert trips and sim.log.rounds > 0
    check_world_rules(day, sim.outcome)
    accepted = set()
    for o, order_id in enumerate(sim.ids):
        order = sim.desk.get(order_id)
        offered = {e.volunteer_id for e in order.history if e.event is Event.OFFER}
        assert all(e.actor is Actor.DISPATCHER for e in order.history if e.event is Event.OFFER)
        accepted |= {(o, x.volunteer_id) for x in order.offers if x.state is OfferState.ACCEPTED}
        assert {x.volunteer_id for x in order.offers} == offered
    assert accepted == {(t.order, day.pool.ids[t.volunteer]) for t in trips}


def test_an_urgent_order_is_offered_in_the_submission_round() -> None:
    day = hand_day([(10, Urgency.URGENT, 1, 1.0)], [(0.0, [(0, 240)])])
    sim = run_engine(day, round_s=HOUR)  # no timed round before the deadline
    order = sim.desk.get(sim.ids[0])
    offer = next(e for e in order.history if e.event is Event.OFFER)
    assert offer.at_ms == int(day.arrival[0]) * 1000
    assert [t.order for t in sim.outcome.trips] == [0]


@pytest.mark.parametrize("seed", [1, 2])
def test_the_bound_is_at_least_what_every_dispatcher_serves(seed: int) -> None:
    day = generated_day("contended", seed, Size(40, 12, 3))
    found = bound.solve(day, time_limit_s=30)
    assert found.method == "exact"
    served = {
        "greedy": metrics.figures(day, run_greedy(day))["served"],
        "engine": metrics.figures(day, run_engine(day).outcome)["served"],
    }
    assert all(found.served >= n for n in served.values()), (found.served, served)
    assert metrics.figures(day, found.schedule)["served"] == found.served


def test_the_bound_of_a_hand_made_day() -> None:
    # one volunteer, two urgent orders at once, each a job of 50 min or more: only one can be
    # answered by its deadline (30 min)
    day = hand_day([(0, Urgency.URGENT, 1, 5.0), (0, Urgency.URGENT, 1, 6.0)], [(0.0, [(0, 240)])])
    found = bound.solve(day)
    assert (found.served, found.method) == (1, "exact")
    assert [t.order for t in found.schedule.trips] == [0]  # the nearer, with the km minimised


def test_metrics_of_a_hand_made_outcome() -> None:
    day = hand_day(
        [(0, Urgency.ROUTINE, 1, 3.0), (0, Urgency.URGENT, 1, 1.0), (0, Urgency.DIFFICULT, 2, 0)],
        [(0.0, [(0, 240)]), (5.0, [(0, 240)]), (9.0, [(0, 240)])],
    )
    trips = [
        Trip(0, 0, T0 + 10 * MINUTE, T0 + 10 * MINUTE, 3.0, 42 * MINUTE),
        Trip(1, 1, T0 + 20 * MINUTE, T0 + 20 * MINUTE, 4.0, 46 * MINUTE),
        Trip(2, 2, T0 + 30 * MINUTE, T0 + 30 * MINUTE, 9.0, 66 * MINUTE),  # 1 slot of 2
    ]
    got = metrics.figures(day, Outcome("hand", trips))
    assert got["served"] == 2 and got["slots_filled"] == 3
    assert got["by_tier"]["routine"] == {
        "asked": 1,
        "served": 1,
        "wait_min_p50": 10.0,
        "wait_min_p90": 10.0,
    }
    assert got["by_tier"]["difficult"]["served"] == 0
    assert got["urgent_on_time"] == got["urgent_on_site"] == 1
    assert got["travel_km"] == 16.0 and got["km_per_served"] == 8.0
    # every 5 min: the routine order is answered at 10 min, the urgent one at 20, the
    # difficult one never (it waits until its deadline, 4 hours)
    assert got["waiting"]["orders"][:6] == [3, 3, 2, 2, 1, 1]
    assert got["waiting"]["orders"][47:] == [1, 0]
    assert metrics.gini(np.array([0.0, 0.0, 0.0, 4.0])) == pytest.approx(0.75)
    assert metrics.gini(np.array([2.0, 2.0])) == 0.0 == metrics.gini(np.zeros(3))
    assert metrics.gap_closed(12, 10, 14) == 0.5 and metrics.gap_closed(3, 5, 5) is None


def test_the_quick_command_writes_its_files_and_never_over_the_results(tmp_path: Path) -> None:
    argv = ["--quick", "--seeds", "1", "--variants", "contended", "--out", str(tmp_path)]
    assert main(argv) == 0
    assert (tmp_path / "day_waiting.png").read_bytes()[:4] == b"\x89PNG"
    assert "greedy on arrival" in (tmp_path / "day.md").read_text()
    assert main(["--quick", "--out", str(DEFAULT_OUT)]) == 2
