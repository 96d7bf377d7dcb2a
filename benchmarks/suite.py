"""The suite's shared pieces: its configuration, the progress line and the scenario type."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

DEFAULT_OUT = Path("benchmarks/results")
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
DEFAULT_SEED = 20221
_BAR = 20

Results = dict[str, Any]


@dataclass(frozen=True)
class SuiteConfig:
    """How to run: ``quick`` shrinks every scenario to seconds."""

    quick: bool = False
    out: Path = DEFAULT_OUT
    seed: int = DEFAULT_SEED
    redis_url: str = DEFAULT_REDIS


class Progress:
    """One line per step on stderr: elapsed time, scenario, a bar of its steps, the step."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._started = time.perf_counter()
        self._scenario = ""
        self._total = 1
        self._done = 0

    def begin(self, scenario: str, total_steps: int) -> None:
        """Start a scenario of about ``total_steps`` steps."""
        self._scenario, self._total, self._done = scenario, max(total_steps, 1), 0

    def step(self, text: str) -> None:
        """Report the step about to run."""
        self._done += 1
        filled = min(_BAR, round(_BAR * (self._done - 1) / self._total))
        bar = "#" * filled + "-" * (_BAR - filled)
        elapsed = time.perf_counter() - self._started
        count = f"{self._done:>2}/{self._total}"
        line = f"[{elapsed:7.1f}s] {self._scenario:<10} [{bar}] {count} {text}"
        print(line, file=self._stream, flush=True)

    def note(self, text: str) -> None:
        """A line that is not a step (a result, a skip)."""
        print(f"{'':>10} {self._scenario:<10} {text}", file=self._stream, flush=True)


@dataclass(frozen=True)
class Scenario:
    """A named scenario: ``steps`` estimates its progress steps, ``run`` measures."""

    name: str
    title: str
    steps: Callable[[SuiteConfig], int]
    run: Callable[[SuiteConfig, Progress], Results]
