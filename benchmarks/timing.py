"""Timing and memory measurement: repeated runs, percentile summaries, peak resident memory.

Times are wall-clock (``time.perf_counter``) in milliseconds. Percentiles use numpy's
default linear interpolation, so the p99 of a handful of repeats is close to their maximum:
read it as "the worst we saw", not as a tail estimate, unless ``n`` is in the hundreds.

Peak memory is the kernel's high-water mark of a process's resident memory: ``VmHWM`` from
``/proc/<pid>/status`` (Linux), falling back to ``ru_maxrss`` for this process elsewhere. It
never goes down, so a clean reading needs a fresh process.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

#: A JSON-ready summary of some samples: n, p50, p99, mean, min, max (and the samples).
Summary = dict[str, Any]


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """Call ``fn`` once; its result and the wall time in ms."""
    started = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - started) * 1e3


def repeat(fn: Callable[[], T], n: int) -> tuple[T, list[float]]:
    """Call ``fn`` ``n`` times (n >= 1); the last result and every wall time in ms."""
    if n < 1:
        raise ValueError("repeat needs n >= 1")
    out, first = timed(fn)
    times = [first]
    for _ in range(n - 1):
        out, ms = timed(fn)
        times.append(ms)
    return out, times


def summarize(samples_ms: list[float], keep_samples: bool = True) -> Summary:
    """n, p50 (the median), p99, mean, min and max of ``samples_ms`` (ms)."""
    if not samples_ms:
        return {"n": 0}
    a = np.asarray(samples_ms, dtype=np.float64)
    out: Summary = {
        "n": len(a),
        "p50": float(np.percentile(a, 50)),
        "p99": float(np.percentile(a, 99)),
        "mean": float(a.mean()),
        "min": float(a.min()),
        "max": float(a.max()),
    }
    if keep_samples:
        out["samples"] = [round(float(x), 3) for x in a]
    return out


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, MiB: ``VmHWM`` where ``/proc`` exists,
    else ``ru_maxrss``. (On Linux ``ru_maxrss`` survives ``exec``: a child forked from a big
    parent starts with the parent's peak, so it is not a clean reading of the child.)"""
    own = process_memory_mb(os.getpid())
    if own is not None:
        return own["peak_mb"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def process_memory_mb(pid: int) -> dict[str, float] | None:
    """Another process's current (``VmRSS``) and peak (``VmHWM``) resident memory, MiB;
    None where ``/proc`` is not available."""
    status = Path(f"/proc/{pid}/status")
    try:
        text = status.read_text()
    except OSError:
        return None
    found: dict[str, float] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024  # kB
    if len(found) != 2:
        return None
    return {"rss_mb": found["VmRSS"], "peak_mb": found["VmHWM"]}
