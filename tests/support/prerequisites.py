"""What a test needs from the machine (Redis, redis-server, node, npm, curl): without it the
test skips on a developer's machine and fails under ``CI=true``, where everything must run."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing_prerequisite(reason: str) -> NoReturn:
    """Skip the test for ``reason``, or fail it under ``CI=true``."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)
