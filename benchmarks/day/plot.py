"""The plot of the day (matplotlib, Agg, PNG): orders waiting over the day per dispatcher, one
panel per variant, on each variant's first seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

PNG = "day_waiting.png"
COLOURS = {"greedy": "tab:red", "engine": "tab:blue", "bound": "tab:green"}
LABELS = {"greedy": "greedy on arrival", "engine": "engine rounds", "bound": "hindsight"}


def write_plot(results: dict[str, Any], path: Path) -> Path:
    """Write the waiting plot of ``results`` (``run.run_days``) to ``path``."""
    firsts: dict[str, dict[str, Any]] = {}
    for day in results["days"]:
        firsts.setdefault(day["variant"], day)
    fig, axes = plt.subplots(
        1, max(len(firsts), 1), figsize=(5.5 * max(len(firsts), 1), 4.2), squeeze=False
    )
    for ax, (variant, day) in zip(axes[0], firsts.items(), strict=False):
        for arm, colour in COLOURS.items():
            curve = day["arms"][arm]["waiting"]
            ax.plot(curve["hour"], curve["orders"], color=colour, label=LABELS[arm], lw=1.4)
        ax.set_title(
            f"{variant}: {day['orders']:,} orders, {day['volunteers']:,} volunteers "
            f"(seed {day['seed']})",
            fontsize=9,
        )
        ax.set_xlabel("hours from opening")
        ax.set_ylabel("orders waiting for an answer")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Orders waiting over the day")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
