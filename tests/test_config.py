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
    assert settings.redis_prefix == "matcher"
    assert settings.health_interval_seconds == 2.0


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
        "MATCHER_STORE": " redis://127.0.0.1:6379/3 ",
        "MATCHER_REDIS_PREFIX": "centre-7",
        "MATCHER_HEALTH_INTERVAL_SECONDS": "0.5",
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
        store="redis://127.0.0.1:6379/3",
        redis_prefix="centre-7",
        health_interval_seconds=0.5,
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
        ("MATCHER_STORE", "postgres", "must be 'memory' or a URL redis://host:port/db"),
        ("MATCHER_STORE", "redis", "must be 'memory' or a URL redis://host:port/db"),
        ("MATCHER_STORE", "redis://:secret@:6379/0", "the host is missing"),
        ("MATCHER_STORE", "redis://localhost:http/0", "the port must be a number"),
        ("MATCHER_STORE", "redis://localhost:6379/zero", "the database must be a number"),
        ("MATCHER_REDIS_PREFIX", "", "must be 1 to 64 characters"),
        ("MATCHER_REDIS_PREFIX", "a b", "must be 1 to 64 characters"),
        ("MATCHER_HEALTH_INTERVAL_SECONDS", "0", "[0.05, 3600]"),
        ("MATCHER_HEALTH_INTERVAL_SECONDS", "inf", "[0.05, 3600]"),
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


@pytest.mark.parametrize(
    "url",
    ["memory", "redis://127.0.0.1:6379/0", "redis://cache", "rediss://[::1]:6380/2"],
)
def test_store_accepts_memory_and_redis_urls(url: str) -> None:
    assert Settings.from_env({"MATCHER_STORE": url}).store == url


def test_store_is_case_insensitive_for_memory_only() -> None:
    assert Settings.from_env({"MATCHER_STORE": " Memory "}).store == "memory"


def test_store_password_is_never_shown() -> None:
    settings = Settings(store="redis://:hunter2@cache:6379/0")
    assert "hunter2" not in repr(settings)
    with pytest.raises(ConfigError) as caught:
        Settings(store="redis://:hunter2@cache:port/0")
    assert "hunter2" not in str(caught.value)
