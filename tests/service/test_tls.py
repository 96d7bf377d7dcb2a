"""gRPC over TLS and mutual TLS, with certificates made in the test (``tests/tls_certs``): who
gets answers, who is refused, the gateway and ``matcher status`` as TLS clients, and start-up
errors naming the variable of a bad TLS setting."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from google.protobuf import json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.app import create_app
from gateway.config import GatewaySettings
from gateway.serving import GatewayThread
from matcher import cli
from matcher.client import MatcherCallError, MatcherClient
from matcher.config import ConfigError, Settings
from matcher.service.server import MatcherServer, create_server
from matcher.tls import SERVER_NAME_OPTION, channel_credentials
from matcher.tools.status import StatusTls, run_status
from tests.support.service import make_valid_request, serving
from tests.support.tls_certs import Pki, make_pki

BASE = Settings(port=0, workers=2, metrics_port=-1, grace_seconds=0.5)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def keep_logging() -> Iterator[None]:
    """``matcher`` commands install their own root handler: put the test's back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="module")
def tls_server(pki: Pki) -> Iterator[MatcherServer]:
    settings = Settings.from_env(
        {
            "MATCHER_PORT": "0",
            "MATCHER_METRICS_PORT": "-1",
            "MATCHER_TLS_CERT_FILE": pki.server_cert,
            "MATCHER_TLS_KEY_FILE": pki.server_key,
        }
    )
    with serving(settings) as app:
        yield app


@pytest.fixture(scope="module")
def mtls_server(pki: Pki) -> Iterator[MatcherServer]:
    tls = {"tls_cert_file": pki.server_cert, "tls_key_file": pki.server_key}
    with serving(BASE.with_overrides(**tls, tls_client_ca_file=pki.ca)) as app:
        yield app


def _target(app: MatcherServer) -> str:
    return f"127.0.0.1:{app.port}"


def _health(channel: grpc.Channel) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
    return int(reply.status)


def _refused(channel: grpc.Channel) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        _health(channel)
    code: grpc.StatusCode = caught.value.code()
    return code


def test_a_client_trusting_the_ca_gets_answers(tls_server: MatcherServer, pki: Pki) -> None:
    credentials = channel_credentials(pki.ca)
    with MatcherClient(_target(tls_server), credentials=credentials, retries=0) as client:
        reply = client.match(make_valid_request().requests, make_valid_request().volunteers)
        assert {a.request_id for a in reply.assignments} == {"req-a", "req-b"}
        assert _health(client.channel) == health_pb2.HealthCheckResponse.SERVING


def test_the_certificate_name_can_be_checked_against_another_name(
    tls_server: MatcherServer, pki: Pki
) -> None:
    options = [(SERVER_NAME_OPTION, "localhost")]
    credentials = channel_credentials(pki.ca)
    with grpc.secure_channel(_target(tls_server), credentials, options=options) as channel:
        assert _health(channel) == health_pb2.HealthCheckResponse.SERVING


def test_a_plaintext_client_is_refused(tls_server: MatcherServer) -> None:
    with grpc.insecure_channel(_target(tls_server)) as channel:
        assert _refused(channel) == grpc.StatusCode.UNAVAILABLE


def test_a_client_trusting_another_ca_is_refused(tls_server: MatcherServer, pki: Pki) -> None:
    credentials = channel_credentials(pki.other_ca)
    client = MatcherClient(_target(tls_server), credentials=credentials, retries=0)
    with client, pytest.raises(MatcherCallError) as caught:
        client.match(make_valid_request().requests, make_valid_request().volunteers)
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE


def test_mutual_tls_refuses_a_client_without_a_certificate(
    mtls_server: MatcherServer, pki: Pki
) -> None:
    credentials = channel_credentials(pki.ca)
    with grpc.secure_channel(_target(mtls_server), credentials) as channel:
        assert _refused(channel) == grpc.StatusCode.UNAVAILABLE


def test_mutual_tls_answers_a_client_with_a_certificate(
    mtls_server: MatcherServer, pki: Pki
) -> None:
    credentials = channel_credentials(pki.ca, pki.client_cert, pki.client_key)
    with MatcherClient(_target(mtls_server), credentials=credentials, retries=0) as client:
        reply = client.match(make_valid_request().requests, make_valid_request().volunteers)
        assert len(reply.assignments) == 2


def test_mutual_tls_refuses_a_certificate_from_another_ca(
    mtls_server: MatcherServer, pki: Pki, tmp_path: Path
) -> None:
    stranger = make_pki(tmp_path)  # same names, but signed by a CA the server does not trust
    credentials = channel_credentials(pki.ca, stranger.client_cert, stranger.client_key)
    with grpc.secure_channel(_target(mtls_server), credentials) as channel:
        assert _refused(channel) == grpc.StatusCode.UNAVAILABLE


def test_the_gateway_calls_a_tls_server(tls_server: MatcherServer, pki: Pki) -> None:
    settings = GatewaySettings.from_env(
        {
            "MATCHER_GATEWAY_GRPC_TARGET": _target(tls_server),
            "MATCHER_GATEWAY_PORT": "0",
            "MATCHER_GATEWAY_GRPC_TLS_CA_FILE": pki.ca,
        }
    )
    body = json_format.MessageToDict(make_valid_request())
    with GatewayThread(settings) as gw, httpx.Client(base_url=gw.url, timeout=30) as http:
        assert http.get("/healthz").status_code == 200
        response = http.post("/v1/match", json=body)
    assert response.status_code == 200, response.text
    assert len(response.json()["assignments"]) == 2


def test_the_gateway_presents_its_certificate_to_a_mutual_tls_server(
    mtls_server: MatcherServer, pki: Pki
) -> None:
    settings = GatewaySettings(
        grpc_target=_target(mtls_server),
        port=0,
        grpc_tls_ca_file=pki.ca,
        grpc_tls_cert_file=pki.client_cert,
        grpc_tls_key_file=pki.client_key,
    )
    with GatewayThread(settings) as gw, httpx.Client(base_url=gw.url, timeout=30) as http:
        assert http.get("/healthz").status_code == 200
    without = GatewaySettings(grpc_target=_target(mtls_server), port=0, grpc_tls_ca_file=pki.ca)
    with GatewayThread(without) as gw, httpx.Client(base_url=gw.url, timeout=30) as http:
        assert http.get("/healthz").status_code == 503


def test_status_over_tls(tls_server: MatcherServer, pki: Pki) -> None:
    out = io.StringIO()
    assert run_status(_target(tls_server), out=out, tls=StatusTls(ca=pki.ca)) == 0
    assert "health (server)" in out.getvalue()
    plain = io.StringIO()
    assert run_status(_target(tls_server), out=plain, timeout=2.0) == 2


def test_status_command_with_tls_flags(
    mtls_server: MatcherServer,
    pki: Pki,
    capsys: pytest.CaptureFixture[str],
    keep_logging: None,
) -> None:
    flags = ["--tls-ca", pki.ca, "--tls-cert", pki.client_cert, "--tls-key", pki.client_key]
    target = f"localhost:{mtls_server.port}"
    code = cli.main(["status", "--target", target, *flags, "--tls-server-name", "localhost"])
    assert code == 0, capsys.readouterr().err  # 0: reached, and every service SERVING


def test_status_names_an_unreadable_file(
    pki: Pki,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    keep_logging: None,
) -> None:
    missing = str(tmp_path / "nope.pem")
    assert cli.main(["status", "--target", "127.0.0.1:1", "--tls-ca", missing]) == 2
    err = capsys.readouterr().err
    assert "--tls-ca" in err and missing in err


# --- configuration errors: at start-up, naming the variable ------------------------------------


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"MATCHER_TLS_CERT_FILE": "cert.pem"}, "MATCHER_TLS_CERT_FILE needs MATCHER_TLS_KEY_FILE"),
        ({"MATCHER_TLS_KEY_FILE": "key.pem"}, "MATCHER_TLS_KEY_FILE needs MATCHER_TLS_CERT_FILE"),
        ({"MATCHER_TLS_CLIENT_CA_FILE": "ca.pem"}, "MATCHER_TLS_CLIENT_CA_FILE needs"),
    ],
    ids=["cert only", "key only", "client CA only"],
)
def test_half_a_tls_setting_is_refused(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(environ)


@pytest.mark.parametrize("which", ["tls_cert_file", "tls_key_file", "tls_client_ca_file"])
def test_an_unreadable_file_stops_the_start(pki: Pki, tmp_path: Path, which: str) -> None:
    missing = str(tmp_path / "missing.pem")
    tls = {"tls_cert_file": pki.server_cert, "tls_key_file": pki.server_key, which: missing}
    with pytest.raises(ConfigError) as caught:
        create_server(BASE.with_overrides(**tls))
    assert f"MATCHER_{which.upper()}={missing}" in str(caught.value)


def test_a_file_that_is_not_pem_stops_the_start(pki: Pki, tmp_path: Path) -> None:
    garbage = tmp_path / "key.txt"
    garbage.write_text("not a key\n")
    settings = BASE.with_overrides(tls_cert_file=pki.server_cert, tls_key_file=str(garbage))
    with pytest.raises(ConfigError, match=r"MATCHER_TLS_KEY_FILE=.*not a PEM file"):
        create_server(settings)


def test_matcher_serve_reports_a_missing_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    keep_logging: None,
) -> None:
    monkeypatch.setenv("MATCHER_PORT", "0")
    monkeypatch.setenv("MATCHER_METRICS_PORT", "-1")
    monkeypatch.setenv("MATCHER_TLS_CERT_FILE", str(tmp_path / "server.pem"))
    monkeypatch.setenv("MATCHER_TLS_KEY_FILE", str(tmp_path / "server.key"))
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "MATCHER_TLS_" in err and "cannot read the file" in err


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"grpc_tls_cert_file": "c.pem"}, "MATCHER_GATEWAY_GRPC_TLS_CERT_FILE needs"),
        (
            {"grpc_tls_cert_file": "c.pem", "grpc_tls_key_file": "k.pem"},
            "needs MATCHER_GATEWAY_GRPC_TLS_CA_FILE",
        ),
    ],
    ids=["cert without key", "client cert without CA"],
)
def test_gateway_tls_settings_come_together(fields: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        GatewaySettings(**fields)


def test_gateway_names_an_unreadable_ca_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "ca.pem")
    with pytest.raises(ConfigError, match=f"MATCHER_GATEWAY_GRPC_TLS_CA_FILE={missing}"):
        create_app(GatewaySettings(grpc_tls_ca_file=missing))
