"""A client in another language, built only from protos/, calls Match and gets the optimum.

clients/node is a TypeScript package whose types protoc-gen-es generates from protos/ (no
Python, no shared code). Its example, ``dist/examples/match.js``, sends a batch whose greedy
answer is 3.4 km of travel and whose optimum is 1.6 km and prints the MatchResponse as JSON.
The package's own tests (``npm test`` in clients/node) cover the rest of the client.

The test expects the package installed and built (``.ci/run`` does it before the suite); it
never installs anything itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.config import Settings
from tests.support.paths import ROOT
from tests.support.prerequisites import missing_prerequisite
from tests.support.service import serving

CLIENT_DIR = ROOT / "clients" / "node"
EXAMPLE = CLIENT_DIR / "dist" / "examples" / "match.js"
SETUP = "cd clients/node && npm ci && npm run build"


@pytest.fixture(scope="module")
def node_example() -> Path:
    if shutil.which("node") is None:
        missing_prerequisite("node not installed: the cross-language client check cannot run")
    if not (CLIENT_DIR / "node_modules" / "@connectrpc" / "connect-node").exists():
        missing_prerequisite(f"clients/node has no node_modules: run `{SETUP}` first")
    if not EXAMPLE.exists():
        missing_prerequisite(f"clients/node is not built ({EXAMPLE.name} missing): run `{SETUP}`")
    return EXAMPLE


@pytest.fixture(scope="module")
def target() -> Iterator[str]:
    with serving(Settings(port=0, workers=2)) as app:
        yield f"127.0.0.1:{app.port}"


def test_node_client_gets_the_optimum(node_example: Path, target: str) -> None:
    done = subprocess.run(
        ["node", str(node_example), target, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    response = json.loads(done.stdout)
    pairs = {(a["request_id"], a["volunteer_id"]) for a in response["assignments"]}
    assert pairs == {("A", "Y"), ("B", "X")}
    assert response["stats"]["total_distance_km"] == pytest.approx(1.6, abs=1e-3)
    assert [(u["request_id"], u["reason"]) for u in response["unassigned"]] == [
        ("C", "REASON_NO_SKILL")
    ]
