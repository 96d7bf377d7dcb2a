"""The order lifecycle's settings: read from MATCHER_* variables, bad values refused at start."""

from __future__ import annotations

import pytest

from matcher.config import ConfigError, Settings


def test_defaults_and_overrides() -> None:
    assert (Settings().dispatch_window_seconds, Settings().offer_ttl_seconds) == (30.0, 300.0)
    read = Settings.from_env(
        {"MATCHER_DISPATCH_WINDOW_SECONDS": "0", "MATCHER_OFFER_TTL_SECONDS": "90"}
    )
    assert (read.dispatch_window_seconds, read.offer_ttl_seconds) == (0.0, 90.0)
    defaults = Settings()
    assert (defaults.completion_grace_hours, defaults.registry_outbox_lease_seconds) == (48, 30)
    assert defaults.test_crash_at == ""
    read = Settings.from_env(
        {
            "MATCHER_COMPLETION_GRACE_HOURS": "0",
            "MATCHER_REGISTRY_OUTBOX_LEASE_SECONDS": "0.5",
            "MATCHER_TEST_CRASH_AT": "after-order-commit",
        }
    )
    assert (read.completion_grace_hours, read.registry_outbox_lease_seconds) == (0, 0.5)
    assert read.test_crash_at == "after-order-commit"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MATCHER_DISPATCH_WINDOW_SECONDS", "-1"),
        ("MATCHER_DISPATCH_WINDOW_SECONDS", "0.01"),
        ("MATCHER_DISPATCH_WINDOW_SECONDS", "nan"),
        ("MATCHER_OFFER_TTL_SECONDS", "0"),
        ("MATCHER_OFFER_TTL_SECONDS", "inf"),
        ("MATCHER_OFFER_TTL_SECONDS", "soon"),
        ("MATCHER_COMPLETION_GRACE_HOURS", "-1"),
        ("MATCHER_COMPLETION_GRACE_HOURS", "inf"),
        ("MATCHER_REGISTRY_OUTBOX_LEASE_SECONDS", "0"),
        ("MATCHER_TEST_CRASH_AT", "after-lunch"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})
