"""The metric table in docs/operations.md lists exactly the metrics the server and the
gateway export."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.metrics import GatewayMetrics
from matcher.observability.metrics import Metrics

OPERATIONS_DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_the_operations_doc_lists_every_exported_metric() -> None:
    text = OPERATIONS_DOC.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(matcher_[a-z_]+)` \| (\w+) \| (.+) \|$", text, re.M)
    exported = Metrics().describe() + GatewayMetrics().describe()
    assert sorted(rows) == sorted(exported)
