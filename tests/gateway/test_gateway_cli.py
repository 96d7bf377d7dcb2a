"""gateway.config and gateway.__main__: settings from the environment and flags, and
``python -m gateway`` as a real process."""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from gateway.__main__ import add_gateway_parser, main, settings_from
from gateway.config import GatewaySettings
from matcher.config import ConfigError
from tests.support.paths import ROOT
from tests.support.service import RunningServer


def test_defaults() -> None:
    settings = GatewaySettings.from_env({})
    assert settings == GatewaySettings()
    assert settings.max_body_bytes == 64 * 1024 * 1024
    assert settings.default_timeout_seconds == 30.0


def test_environment_then_flags() -> None:
    environ = {
        "MATCHER_GATEWAY_GRPC_TARGET": "10.0.0.1:50051",
        "MATCHER_GATEWAY_PORT": "9000",
        "MATCHER_GATEWAY_DEFAULT_TIMEOUT_SECONDS": "12.5",
    }
    parser = argparse.ArgumentParser()
    add_gateway_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["gateway", "--port", "9100", "--max-body-bytes", "1024"])
    settings = settings_from(args, environ)
    assert settings.grpc_target == "10.0.0.1:50051"
    assert (settings.port, settings.max_body_bytes) == (9100, 1024)
    assert settings.default_timeout_seconds == 12.5


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MATCHER_GATEWAY_PORT": "http"}, "MATCHER_GATEWAY_PORT='http': expected an integer"),
        ({"MATCHER_GATEWAY_PORT": "70000"}, "MATCHER_GATEWAY_PORT must be in"),
        ({"MATCHER_GATEWAY_MAX_BODY_BYTES": "0"}, "MATCHER_GATEWAY_MAX_BODY_BYTES"),
        ({"MATCHER_GATEWAY_DEFAULT_TIMEOUT_SECONDS": "nan"}, "finite"),
        (
            {"MATCHER_GATEWAY_DEFAULT_TIMEOUT_SECONDS": "600"},
            "at most MATCHER_GATEWAY_MAX_TIMEOUT_SECONDS",
        ),
        ({"MATCHER_GATEWAY_GRPC_TARGET": " "}, "must not be empty"),
    ],
)
def test_invalid_settings_name_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        GatewaySettings.from_env(environ)


def test_unknown_override_is_an_error() -> None:
    with pytest.raises(ConfigError, match="colour"):
        GatewaySettings().with_overrides(colour="red")


def test_invalid_configuration_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--default-timeout", "-1"]) == 2
    assert "MATCHER_GATEWAY_DEFAULT_TIMEOUT_SECONDS" in capsys.readouterr().err


def test_python_m_gateway_serves_and_stops_on_sigterm(running_server: RunningServer) -> None:
    with _gateway_process(running_server.target) as (process, url):
        health = httpx.get(f"{url}/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["backend"] == "SERVING"
        os.kill(process.pid, signal.SIGTERM)
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "gateway stopped" in err


def test_sigterm_ends_open_event_streams_and_the_gateway_exits(
    running_server: RunningServer,
) -> None:
    """An open watch stream does not keep a stopping gateway alive (before sse-starlette it
    did, for as long as the client stayed)."""
    with _gateway_process(running_server.target) as (process, url):
        volunteer = {"id": "watched-at-shutdown", "home": {"lat": 36.27, "lon": 100.63}}
        body = {"volunteers": [{"volunteer": volunteer}]}
        assert httpx.post(f"{url}/v1/volunteers:batchUpsert", json=body).status_code == 200
        watch = f"{url}/v1/volunteers/watched-at-shutdown/offers:watch"
        with httpx.stream("GET", watch, timeout=10) as stream:  # keep-alives: every 15 s
            assert stream.status_code == 200
            started = time.monotonic()
            os.kill(process.pid, signal.SIGTERM)
            stream.read()  # the gateway ends the stream instead of waiting for the client
        assert time.monotonic() - started < 10
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err


@contextmanager
def _gateway_process(target: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``python -m gateway`` on a free port in front of ``target``, and its URL; killed at
    the end if still running."""
    command = [sys.executable, "-m", "gateway", "--grpc-target", target, "--port", "0"]
    with subprocess.Popen(
        [*command, "--log-level", "info"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as process:
        try:
            yield process, _reported_address(process)
        finally:
            if process.poll() is None:
                process.kill()


def _reported_address(process: subprocess.Popen[str]) -> str:
    """The URL from the start-up log line ``gateway on http://HOST:PORT -> grpc ...``."""
    assert process.stderr is not None
    for line in process.stderr:
        found = re.search(r"gateway on (http://\S+) ->", line)
        if found:
            return found.group(1)
    pytest.fail("python -m gateway did not report its address")
