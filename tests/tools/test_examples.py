"""The examples run against a real server and gateway, so they never rot:
examples/python_client.py (matcher.client over gRPC) and examples/curl_walkthrough.sh (curl
through the HTTP/JSON gateway)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.support.gateway import Stack, matcher_stack
from tests.support.paths import ROOT
from tests.support.prerequisites import missing_prerequisite
from tests.support.service import TEST_SETTINGS

EXAMPLES = ROOT / "examples"


@pytest.fixture
def stack() -> Iterator[Stack]:
    """A fresh server (empty registry) and a gateway in front of it, for each example."""
    with matcher_stack(TEST_SETTINGS) as running:
        yield running


def _run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **env},
    )


def test_python_client_example(stack: Stack) -> None:
    result = _run([sys.executable, str(EXAMPLES / "python_client.py"), stack.grpc_target])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "registered 3 volunteers (registry version 1)"
    inline = lines.index("inline volunteers:")
    pool = lines.index("registered pool:")
    for section in (lines[inline + 1 : pool], lines[pool + 1 :]):
        assert [line.split()[:3] for line in section] == [
            ["req-home-visit", "->", "vol-li"],
            ["req-live-class", "->", "vol-wang"],
        ]


def test_python_client_example_reports_an_unreachable_server() -> None:
    script = str(EXAMPLES / "python_client.py")
    result = _run([sys.executable, script, "127.0.0.1:1", "--timeout", "0.5"])
    assert result.returncode == 1
    assert "UNAVAILABLE" in result.stderr


def test_curl_walkthrough(stack: Stack) -> None:
    if shutil.which("curl") is None:
        missing_prerequisite("curl is not installed: examples/curl_walkthrough.sh cannot run")
    result = _run(["bash", str(EXAMPLES / "curl_walkthrough.sh")], GATEWAY=stack.url)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.count("\n== ") == 7
    assert '"volunteerId":"vol-li"' in out and '"volunteerId":"vol-wang"' in out
    assert '"totalSize":2' in out
    assert '"field":"requests[0].location.lat"' in out
    assert out.rstrip().endswith("HTTP status: 400")
