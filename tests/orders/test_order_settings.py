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


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MATCHER_DISPATCH_WINDOW_SECONDS", "-1"),
        ("MATCHER_DISPATCH_WINDOW_SECONDS", "0.01"),
        ("MATCHER_DISPATCH_WINDOW_SECONDS", "nan"),
        ("MATCHER_OFFER_TTL_SECONDS", "0"),
        ("MATCHER_OFFER_TTL_SECONDS", "inf"),
        ("MATCHER_OFFER_TTL_SECONDS", "soon"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})
