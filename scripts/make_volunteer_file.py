"""Write a seeded synthetic volunteer file for ``matcher import volunteers`` (CSV or JSONL).

Usage::

    python scripts/make_volunteer_file.py examples/volunteers.csv --rows 36
    python scripts/make_volunteer_file.py /tmp/volunteers-100k.csv --rows 100000

Volunteers cluster around the towns of Gonghe County (``matcher.tools.synthetic.gonghe_day``); each
gets a grid branch of their nearest town, up to two of eight branded teams, and 1-3
availability windows on ``--day`` in local time (UTC+8). About one in twenty is inactive.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from matcher.core.skills import SKILL_CODES
from matcher.tools.synthetic import TOWNS, gonghe_day, nearest_town
from matcher.tools.volunteer_file import COLUMNS

CST = dt.timezone(dt.timedelta(hours=8))
TEAMS = (
    "policy-explainers",
    "minors-care",
    "elderly-care",
    "fire-safety",
    "culture-and-arts",
    "eco-guards",
    "reading-promotion",
    "online-sessions",
)


def volunteer_rows(rows: int, seed: int, day: dt.date) -> list[dict[str, Any]]:
    """``rows`` volunteers as dicts of the file's columns (lists for multi-valued ones)."""
    _, pool = gonghe_day(seed, 0, rows, day=day)
    rng = np.random.default_rng(seed + 1)
    town = nearest_town(pool.lat, pool.lon).tolist()
    grid = rng.integers(1, 5, rows).tolist()
    n_teams = rng.choice(3, size=rows, p=[0.5, 0.35, 0.15]).tolist()
    team_pick = rng.permuted(np.tile(np.arange(len(TEAMS)), (rows, 1)), axis=1)
    active = (rng.random(rows) >= 0.05).tolist()
    windows: list[list[str]] = [[] for _ in range(rows)]
    for owner, start, end in zip(
        pool.window_owner.tolist(),
        pool.window_start.tolist(),
        pool.window_end.tolist(),
        strict=True,
    ):
        windows[owner].append(f"{_local(start)}/{_local(end)}")
    out = []
    for i in range(rows):
        held = np.flatnonzero(pool.levels[i]).tolist()
        out.append(
            {
                "id": f"gonghe-{i + 1:06d}",
                "branch_id": f"{TOWNS[town[i]].name_en.lower()}-grid-{grid[i]}",
                "team_ids": sorted(TEAMS[t] for t in team_pick[i, : n_teams[i]].tolist()),
                "active": active[i],
                "lat": round(float(pool.lat[i]), 5),
                "lon": round(float(pool.lon[i]), 5),
                "skills": [f"{SKILL_CODES[s]}:{pool.levels[i, s]}" for s in held],
                "availability": windows[i],
                "max_travel_km": float(pool.max_travel_km[i]),
                "rating": float(pool.rating[i]),
                "rating_count": int(pool.rating_count[i]),
                "recent_hours": float(pool.recent_hours[i]),
            }
        )
    return out


def _local(epoch_seconds: int) -> str:
    return dt.datetime.fromtimestamp(epoch_seconds, CST).isoformat()


def write(path: Path, rows: list[dict[str, Any]]) -> None:
    """CSV (lists joined with ``;``) or JSON Lines (skills as ``{code: level}``), by extension."""
    if path.suffix.lower() == ".csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for row in rows:
                writer.writerow(
                    ";".join(v) if isinstance(v, list) else _cell(v)
                    for v in (row[c] for c in COLUMNS)
                )
        return
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            skills = dict(code_level.split(":") for code_level in row["skills"])
            record = {**row, "skills": {code: int(level) for code, level in skills.items()}}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="a .csv, .jsonl or .ndjson file to write")
    parser.add_argument("--rows", type=int, default=36, help="volunteers (default 36)")
    parser.add_argument("--seed", type=int, default=2022, help="random seed (default 2022)")
    parser.add_argument(
        "--day", type=dt.date.fromisoformat, default=dt.date(2026, 11, 30), help="YYYY-MM-DD"
    )
    args = parser.parse_args(argv)
    if args.out.suffix.lower() not in (".csv", ".jsonl", ".ndjson") or args.rows < 0:
        parser.error("OUT must end in .csv, .jsonl or .ndjson, and --rows must be >= 0")
    write(args.out, volunteer_rows(args.rows, args.seed, args.day))
    return 0


if __name__ == "__main__":
    sys.exit(main())
