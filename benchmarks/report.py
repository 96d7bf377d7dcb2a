"""Writing a run's results: ``results.json`` (everything), ``results.md`` (the tables) and the
PNG plots (``plots``). The Markdown is built only from the JSON-ready results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks import sections
from benchmarks.plots import write_plots
from benchmarks.result_files import write_json, write_text
from benchmarks.sections import table

JSON_NAME, MARKDOWN_NAME = "results.json", "results.md"


def write_report(results: dict[str, Any], out: Path) -> list[Path]:
    """Write the plots, the JSON and the Markdown into ``out``; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    results["plots"] = [p.name for p in write_plots(results, out)]
    written = [out / name for name in results["plots"]]
    written.append(write_json(results, out / JSON_NAME))
    written.append(write_text(out / MARKDOWN_NAME, markdown(results)))
    return written


def markdown(results: dict[str, Any]) -> str:
    """The whole Markdown report."""
    scenarios = results["scenarios"]
    parts = [_header(results)]
    if results.get("agreement_failure"):
        parts.append("## EXACT METHODS DISAGREE\n\n```\n" + results["agreement_failure"] + "\n```")
    parts.append("## Targets\n\n" + _targets(results["targets"]))
    for name, render in sections.RENDERERS.items():
        if name in scenarios:
            parts.append(render(scenarios[name]))
    if results["errors"]:
        rows = [
            [name, f"`{msg.strip().splitlines()[-1]}`"] for name, msg in results["errors"].items()
        ]
        parts.append("## Errors\n\n" + table(["scenario", "error"], rows))
    if results.get("plots"):
        parts.append("## Plots\n\n" + "\n".join(f"![{p}]({p})" for p in results["plots"]))
    return "\n\n".join(parts) + "\n"


def _header(results: dict[str, Any]) -> str:
    m = results["machine"]
    v = m["versions"]
    load = m.get("load_average_at_start")
    return (
        "# Benchmark results\n\n"
        f"Command: `{results['command']}` ({'quick' if results['quick'] else 'full'} run, "
        f"seed {results['seed']}), started {results['started_at']}, "
        f"took {results['duration_s']:.0f} s.\n\n"
        f"Machine: {m['nproc']} cores ({m['processor']}), {m['memory_gb']} GB, "
        f"{m['platform']}; Python {m['python']}, numpy {v['numpy']}, scipy {v['scipy']}, "
        f"grpcio {v['grpcio']}, protobuf {v['protobuf']}"
        + (f"; load average at start {load[0]:.2f}" if load else "")
        + ". Times are wall clock on a shared machine: read ratios more than absolute figures."
    )


def _targets(verdicts: list[dict[str, str]]) -> str:
    rows = [[v["target"], v["goal"], v["measured"], f"**{v['status']}**"] for v in verdicts]
    return table(["target", "goal", "measured", "status"], rows)
