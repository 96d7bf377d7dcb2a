"""PNG plots of a run (matplotlib, Agg backend): time against problem size per method on log
axes, and the engine's quality against greedy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from benchmarks.day.plot import PNG as DAY_PNG
from benchmarks.day.plot import write_plot as write_day_plot

SCALING_PNG, QUALITY_PNG = "scaling.png", "quality.png"
Results = dict[str, Any]
#: (label, how to read a case's p50 in ms) per method line.
METHODS: tuple[tuple[str, str, str], ...] = (
    ("engine (index + cold solve)", "engine", "total_ms"),
    ("engine warm solve (registered pool)", "engine", "warm_solve_ms"),
    ("greedy nearest-available", "greedy", "total_ms"),
    ("dense numpy + scipy", "dense", "total_ms"),
)


def write_plots(results: Results, out: Path) -> list[Path]:
    """The plots this run has data for, written into ``out``."""
    scenarios = results["scenarios"]
    written = []
    if "core" in scenarios:
        written.append(_scaling(scenarios["core"], out / SCALING_PNG))
    if "core" in scenarios or "quality" in scenarios:
        written.append(_quality(scenarios, out / QUALITY_PNG))
    if "day" in scenarios:
        written.append(write_day_plot(scenarios["day"], out / DAY_PNG))
    return written


def _label(requests: int, volunteers: int) -> str:
    return f"{requests:,}\nx {volunteers // 1000:,}k"


def _scaling(core: Results, path: Path) -> Path:
    geographies = core["geographies"]
    fig, axes = plt.subplots(1, len(geographies), figsize=(6 * len(geographies), 4.8))
    axes = [axes] if len(geographies) == 1 else list(axes)
    for ax, geography in zip(axes, geographies, strict=True):
        cases = [c for c in core["cases"] if c["geography"] == geography]
        for label, method, key in METHODS:
            points = [
                (c["requests"] * c["volunteers"], c[method][key]["p50"])
                for c in cases
                if c[method].get(key, {}).get("n")
            ]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker="o", label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks([c["requests"] * c["volunteers"] for c in cases])
        ax.set_xticklabels([_label(c["requests"], c["volunteers"]) for c in cases], fontsize=8)
        ax.minorticks_off()
        ax.set_xlabel("requests x volunteers")
        ax.set_ylabel("time, ms (median)")
        ax.set_title(f"{geography} geography")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    return _save(fig, "Time against problem size", path)


def _quality(scenarios: Results, path: Path) -> Path:
    """Engine vs greedy, per batch: total km change and slots filled change, in %."""
    labels: list[str] = []
    travel: list[float] = []
    slots: list[float] = []
    for c in scenarios.get("core", {}).get("cases", []):
        labels.append(f"{c['geography']} {c['requests']:,}x{c['volunteers'] // 1000:,}k")
        travel.append(c["travel_change_vs_greedy_pct"] or 0.0)
        slots.append(_pct(c["engine"]["slots_filled"], c["greedy"]["slots_filled"]))
    for day in scenarios.get("quality", {}).get("days", []):
        labels.append(day["name"])
        travel.append(day["travel_change_pct"] or 0.0)
        slots.append(_pct(day["engine"]["slots_filled"], day["greedy"]["slots_filled"]))
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    positions = range(len(labels))
    left.bar(positions, travel, color=["tab:green" if t <= 0 else "tab:red" for t in travel])
    left.axhline(-15, color="grey", linestyle="--", linewidth=1, label="target: -15%")
    left.set_title("Total travel, engine vs greedy (%; below 0 = less)")
    left.legend(fontsize=8)
    right.bar(positions, slots, color="tab:blue")
    right.set_title("Slots filled, engine vs greedy (%)")
    for ax in (left, right):
        ax.set_xticks(list(positions))
        ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.grid(True, axis="y", alpha=0.3)
    return _save(fig, "Quality against greedy nearest-available", path)


def _save(fig: Figure, title: str, path: Path) -> Path:
    """Title the figure, write it to ``path`` (PNG) and close it."""
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _pct(mine: float, theirs: float) -> float:
    return 100.0 * (mine / theirs - 1.0) if theirs else 0.0
