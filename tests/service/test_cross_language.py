"""A client in another language, built only from protos/, calls Match and gets the optimum.

clients/node/match.js loads protos/matcher/v1/match.proto at run time with
@grpc/proto-loader (no Python, no generated code) and sends a batch whose greedy answer
is 3.4 km of travel and whose optimum is 1.6 km.
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


@pytest.fixture(scope="module")
def node_client() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        missing_prerequisite("node/npm not installed: the cross-language client check cannot run")
    if not (CLIENT_DIR / "node_modules" / "@grpc" / "grpc-js").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=CLIENT_DIR,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return CLIENT_DIR / "match.js"


@pytest.fixture(scope="module")
def target() -> Iterator[str]:
    with serving(Settings(port=0, workers=2)) as app:
        yield f"127.0.0.1:{app.port}"


def test_node_client_gets_the_optimum(node_client: Path, target: str) -> None:
    done = subprocess.run(
        ["node", str(node_client), target], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    response = json.loads(done.stdout)
    pairs = {(a["request_id"], a["volunteer_id"]) for a in response["assignments"]}
    assert pairs == {("A", "Y"), ("B", "X")}
    assert response["stats"]["total_distance_km"] == pytest.approx(1.6, abs=1e-3)
    assert [(u["request_id"], u["reason"]) for u in response["unassigned"]] == [
        ("C", "REASON_NO_SKILL")
    ]
