"""The example alert rules parse and only name metrics the engine or the gateway exports."""

from __future__ import annotations

import re

import yaml

from gateway.metrics import GatewayMetrics
from matcher.observability.metrics import Metrics
from tests.support.paths import ROOT

RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"


def test_alert_rules_use_exported_metrics() -> None:
    exported = {name for name, _, _ in Metrics().describe() + GatewayMetrics().describe()}
    used = set(re.findall(r"\bmatcher_[a-z_]+", RULES.read_text()))
    assert used, "the rules name no metric"
    for name in used:
        base = re.sub(r"_(bucket|count|sum)$", "", name)
        assert name in exported or base in exported, f"{name} is not exported"


def test_alert_rules_are_well_formed() -> None:
    document = yaml.safe_load(RULES.read_text())
    [group] = document["groups"]
    names = [rule["alert"] for rule in group["rules"]]
    assert len(names) == len(set(names))
    assert {"MatcherStoreUnreachable", "MatcherErrorRatioHigh", "MatcherOrdersWaitingTooLong"} <= (
        set(names)
    )
    for rule in group["rules"]:
        assert rule["expr"].strip() and rule["annotations"]["summary"]
        assert rule["labels"]["severity"] in ("page", "ticket")
        assert re.fullmatch(r"\d+[smh]", rule["for"])
