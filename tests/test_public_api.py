"""What ``import matcher`` offers an integrator: a pinned ``__all__`` whose every name exists
and is documented, loaded only when used (importing the package starts nothing)."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import matcher
from matcher.errors import MatcherError

#: Changing this list changes the public API: say so in the changelog.
PUBLIC = [
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "DeadlineExceededError",
    "FieldViolation",
    "InfeasibleError",
    "LimitExceededError",
    "MatcherCallError",
    "MatcherClient",
    "MatcherError",
    "NotFoundError",
    "PermissionDeniedError",
    "Settings",
    "StoreUnavailableError",
    "ValidationError",
    "VolunteerFilter",
]


def test_all_is_the_pinned_list() -> None:
    assert sorted(matcher.__all__) == PUBLIC


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_exists_and_is_documented(name: str) -> None:
    value = getattr(matcher, name)
    assert value.__name__ == name
    assert (inspect.getdoc(value) or "").strip(), f"{name} has no docstring"
    assert name in dir(matcher)


def test_every_error_of_the_hierarchy_is_public() -> None:
    import matcher.errors

    errors = {
        name
        for name, value in vars(matcher.errors).items()
        if isinstance(value, type) and issubclass(value, MatcherError)
    }
    assert errors <= set(matcher.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Server'"):
        _ = matcher.Server


def test_importing_the_package_loads_and_starts_nothing() -> None:
    probe = (
        "import sys, threading\n"
        "import matcher\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('matcher.', 'grpc', 'redis')))\n"
        "print(loaded, threading.active_count())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["[]", "1"]
