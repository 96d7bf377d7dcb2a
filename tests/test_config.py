"""Settings: defaults, reading MATCHER_* variables, overrides, and clear errors."""

from __future__ import annotations

import pytest

from matcher.config import ConfigError, Settings, env_name


def test_defaults_are_safe_and_documented() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.host == "127.0.0.1"
    assert settings.port == 50051
    assert settings.workers == 8
    assert settings.max_requests == 20_000
    assert settings.max_volunteers == 300_000
    assert settings.max_slots == 50_000
    assert settings.max_windows_per_volunteer == 64
    assert settings.max_message_bytes == 256 * 1024 * 1024
    assert settings.grace_seconds == 5.0
    assert settings.log_level == "INFO"
    assert settings.store == "memory"


def test_reads_every_variable() -> None:
    environ = {
        "MATCHER_HOST": "::",
        "MATCHER_PORT": "0",
        "MATCHER_WORKERS": "2",
        "MATCHER_MAX_REQUESTS": "10",
        "MATCHER_MAX_VOLUNTEERS": "20",
        "MATCHER_MAX_SLOTS": "30",
        "MATCHER_MAX_WINDOWS_PER_VOLUNTEER": "4",
        "MATCHER_MAX_MESSAGE_BYTES": "1048576",
        "MATCHER_GRACE_SECONDS": "0.5",
        "MATCHER_LOG_LEVEL": "debug",
        "MATCHER_STORE": " Redis ",
    }
    assert Settings.from_env(environ) == Settings(
        host="::",
        port=0,
        workers=2,
        max_requests=10,
        max_volunteers=20,
        max_slots=30,
        max_windows_per_volunteer=4,
        max_message_bytes=1_048_576,
        grace_seconds=0.5,
        log_level="DEBUG",
        store="redis",
    )


def test_ignores_other_variables() -> None:
    assert Settings.from_env({"PATH": "/bin", "MATCHERPORT": "x"}) == Settings()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("MATCHER_PORT", "http", "expected an integer"),
        ("MATCHER_PORT", "70000", "[0, 65535]"),
        ("MATCHER_PORT", "-1", "[0, 65535]"),
        ("MATCHER_WORKERS", "0", "[1, 1024]"),
        ("MATCHER_WORKERS", "2.5", "expected an integer"),
        ("MATCHER_MAX_REQUESTS", "0", "[1, "),
        ("MATCHER_MAX_VOLUNTEERS", "-5", "[1, "),
        ("MATCHER_MAX_SLOTS", "", "expected an integer"),
        ("MATCHER_MAX_WINDOWS_PER_VOLUNTEER", "0", "[1, "),
        ("MATCHER_MAX_MESSAGE_BYTES", "4294967296", "signed 32-bit"),
        ("MATCHER_GRACE_SECONDS", "soon", "expected a number"),
        ("MATCHER_GRACE_SECONDS", "nan", "finite"),
        ("MATCHER_GRACE_SECONDS", "-1", ">= 0"),
        ("MATCHER_LOG_LEVEL", "LOUD", "one of DEBUG"),
        ("MATCHER_STORE", "postgres", "one of memory, redis"),
        ("MATCHER_HOST", "  ", "must not be empty"),
    ],
)
def test_invalid_value_names_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=variable) as caught:
        Settings.from_env({variable: value})
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_with_overrides_replaces_and_validates() -> None:
    base = Settings.from_env({"MATCHER_PORT": "6000"})
    changed = base.with_overrides(port=0, host=None, workers=3)
    assert (changed.port, changed.host, changed.workers) == (0, base.host, 3)
    assert base.port == 6000  # frozen: the original is untouched
    with pytest.raises(ConfigError, match="MATCHER_PORT"):
        base.with_overrides(port=65_536)
    with pytest.raises(ConfigError, match="MATCHER_WORKERS must be of type int"):
        base.with_overrides(workers="8")
    with pytest.raises(ConfigError, match="unknown setting"):
        base.with_overrides(prot=1)


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]


def test_env_name() -> None:
    assert env_name("max_windows_per_volunteer") == "MATCHER_MAX_WINDOWS_PER_VOLUNTEER"
