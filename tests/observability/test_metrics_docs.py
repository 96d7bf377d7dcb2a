"""The README's metric table lists exactly the metrics the server and the gateway export."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.metrics import GatewayMetrics
from matcher.observability.metrics import Metrics

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_lists_every_exported_metric() -> None:
    rows = re.findall(r"^\| `(matcher_[a-z_]+)` \| (\w+) \| (.+) \|$", README.read_text(), re.M)
    exported = Metrics().describe() + GatewayMetrics().describe()
    assert sorted(rows) == sorted(exported)
