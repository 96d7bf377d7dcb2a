"""Fuzz settings and the end-of-run summary.

The hypothesis profile ``fuzz`` sets how many examples each fuzz target tries: a bounded,
derandomized run by default (what ``pytest`` and ``.ci/run`` do, about a minute in all), or
``FUZZ_EXAMPLES`` examples per target with fresh randomness for a long run::

    FUZZ_EXAMPLES=2000 .venv/bin/python -m pytest tests/fuzz tests/gateway/test_gateway_fuzz.py -q

Profiles are registered here, not loaded: the rest of the suite keeps its own settings. The
tests take them with ``settings(settings.get_profile("fuzz"))``. At the end the run prints
the inputs tried per rpc and their status codes (and writes them to ``FUZZ_REPORT`` if set).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.fuzz.tally import TALLY

#: Examples per rpc in the bounded run (per store variant).
BOUNDED_EXAMPLES = 50

_LONG = os.environ.get("FUZZ_EXAMPLES", "")
settings.register_profile(
    "fuzz",
    max_examples=int(_LONG) if _LONG else BOUNDED_EXAMPLES,
    deadline=None,
    derandomize=not _LONG,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    rows = TALLY.rows()
    if not rows:
        return
    terminalreporter.section(f"fuzz: {TALLY.total()} inputs tried")
    width = max(len(target) for target, _, _ in rows)
    for target, examples, outcomes in rows:
        terminalreporter.write_line(f"{target:<{width}}  {examples:>6}  {outcomes}")
    report = os.environ.get("FUZZ_REPORT")
    if report:
        TALLY.write_json(Path(report))
        terminalreporter.write_line(f"written to {report}")
