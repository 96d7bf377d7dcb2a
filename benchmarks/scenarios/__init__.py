"""The scenarios, in the order the suite runs them; ``--only NAME`` picks some.

=============  ==========================================================================
name           measures
=============  ==========================================================================
core           solver core scaling: engine, greedy and dense, clustered and uniform
e2e            Match over gRPC, inline and against the registered pool (1,000 x 20,000)
throughput     small batches (10 x a pool of 2,000) with 16 concurrent clients
city           10,000 x 200,000: core in a fresh process and a pool server, peak memory
pool-load      a Redis-backed registry: upsert, and a fresh server loading the pool
quality        engine vs greedy on the demo day and a contended day
day            a day in simulated time: greedy on arrival, the engine's rounds, the bound
=============  ==========================================================================
"""

from __future__ import annotations

from benchmarks.scenarios import (
    city,
    core_scaling,
    day,
    end_to_end,
    pool_load,
    quality,
    throughput,
)
from benchmarks.suite import Scenario

SCENARIOS: tuple[Scenario, ...] = (
    Scenario("core", "Solver core scaling", core_scaling.steps, core_scaling.run),
    Scenario("e2e", "End to end over gRPC", end_to_end.steps, end_to_end.run),
    Scenario("throughput", "Small-batch throughput", throughput.steps, throughput.run),
    Scenario("city", "City scale", city.steps, city.run),
    Scenario("pool-load", "Redis pool load", pool_load.steps, pool_load.run),
    Scenario("quality", "Quality against greedy", quality.steps, quality.run),
    Scenario("day", "A day in simulated time", day.steps, day.run),
)
NAMES: tuple[str, ...] = tuple(s.name for s in SCENARIOS)
