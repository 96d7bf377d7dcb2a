"""How many inputs each fuzz target tried and what it answered, for the end-of-run summary.

One process-wide ``TALLY``: the fuzz tests count every example they send (``record``);
``tests/fuzz/conftest.py`` prints the table at the end of the run and, when ``FUZZ_REPORT``
names a file, writes it there as JSON.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, defaultdict
from pathlib import Path


class Tally:
    """Examples per target (``variant rpc``) by outcome (a status code name)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, Counter[str]] = defaultdict(Counter)

    def record(self, target: str, outcome: str) -> None:
        with self._lock:
            self._counts[target][outcome] += 1

    def rows(self) -> list[tuple[str, int, str]]:
        """(target, examples, outcomes) sorted by target."""
        with self._lock:
            return [
                (target, sum(c.values()), ", ".join(f"{k} {n}" for k, n in c.most_common()))
                for target, c in sorted(self._counts.items())
            ]

    def total(self) -> int:
        with self._lock:
            return sum(sum(c.values()) for c in self._counts.values())

    def write_json(self, path: Path) -> None:
        with self._lock:
            data = {t: dict(c) for t, c in sorted(self._counts.items())}
        path.write_text(json.dumps({"total": self.total(), "targets": data}, indent=1) + "\n")


TALLY = Tally()
