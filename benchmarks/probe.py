"""The city core run in a fresh process, for a clean peak-memory reading.

``python -m benchmarks.probe --seed S --requests R --volunteers V`` generates a clustered
day, indexes it, solves it twice on the same index (cold, then warm) and prints one JSON
line: times, the engine's stats, the objective and this process's peak resident memory
(``timing.peak_rss_mb``) after the imports, after generating the data and at the end.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict

from benchmarks.timing import peak_rss_mb, timed
from matcher.core.model import Policy
from matcher.core.pool_index import PoolIndex
from matcher.core.solve import solve_match
from matcher.tools.synthetic import gonghe_day


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--volunteers", type=int, required=True)
    args = parser.parse_args(argv)
    baseline_mb = peak_rss_mb()
    (requests, pool), generate_ms = timed(
        lambda: gonghe_day(args.seed, args.requests, args.volunteers)
    )
    data_mb = peak_rss_mb()
    index, build_ms = timed(lambda: PoolIndex.build(pool))
    policy = Policy()
    cold, cold_ms = timed(lambda: solve_match(requests, index, policy))
    warm, warm_ms = timed(lambda: solve_match(requests, index, policy))
    print(
        json.dumps(
            {
                "requests": args.requests,
                "volunteers": args.volunteers,
                "slots": int(requests.slots.sum()),
                "windows": pool.n_windows,
                "generate_ms": generate_ms,
                "build_ms": build_ms,
                "solve_ms": cold_ms,
                "warm_solve_ms": warm_ms,
                "stats": asdict(cold.stats),
                "warm_stats": asdict(warm.stats),
                "value_served": cold.value_served,
                "total_cost": cold.total_cost,
                "warm_value_served": warm.value_served,
                "warm_total_cost": warm.total_cost,
                "peak_rss_mb_after_imports": baseline_mb,
                "peak_rss_mb_after_data": data_mb,
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )


if __name__ == "__main__":
    main()
