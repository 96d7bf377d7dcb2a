"""The example alert rules only name metrics the engine exports."""

from __future__ import annotations

import re
from pathlib import Path

from matcher.metrics import Metrics

RULES = Path(__file__).resolve().parent.parent / "deploy" / "prometheus" / "alerts.yml"


def test_alert_rules_use_exported_metrics() -> None:
    exported = {name for name, _, _ in Metrics().describe()}
    used = set(re.findall(r"\bmatcher_[a-z_]+", RULES.read_text()))
    assert used, "the rules name no metric"
    for name in used:
        base = re.sub(r"_(bucket|count|sum)$", "", name)
        assert name in exported or base in exported, f"{name} is not exported"
