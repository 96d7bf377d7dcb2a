"""``python -m matcher.cli serve`` in a child process, for the tests a thread cannot stand in
for: two servers side by side on one store, a server SIGKILLed mid-round and started again on
the same port and store. Its log goes to a temporary file, read back when it stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import IO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.net import free_port, wait_until
from tests.support.paths import ROOT

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
#: The service whose health says the server is up (its store answers, its dispatcher runs).
READY_SERVICE = "matcher.v1.OrderService"


def health_of(channel: grpc.Channel, service: str, timeout: float = 2.0) -> int:
    """The health status of ``service`` (-1 when the check itself fails)."""
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
    except grpc.RpcError:
        return -1
    return int(reply.status)


@dataclass
class ServerProcess:
    """A matcher in a child process, configured by ``env`` (``MATCHER_*`` variables) on its
    own ``port``; start it, stop or kill it, start it again on the same port."""

    env: dict[str, str]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)  # seconds from spawn to SERVING
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        """Spawn it; returns once it reports SERVING (fails if it exits first)."""
        spawned = time.monotonic()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - open while it runs; _end closes it
        proc = subprocess.Popen(
            [sys.executable, "-m", "matcher.cli", "serve"],
            cwd=ROOT,
            env={**os.environ, **self.env, "MATCHER_PORT": str(self.port)},
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        self.proc = proc
        with grpc.insecure_channel(self.target) as channel:

            def serving() -> bool:
                assert proc.poll() is None, f"the server on port {self.port} exited"
                return bool(health_of(channel, READY_SERVICE) == SERVING)

            wait_until(serving, 30, f"the matcher on port {self.port}")
        self.starts.append(time.monotonic() - spawned)

    def stop(self) -> str:
        """SIGTERM (a graceful drain), wait, and return what it logged."""
        return self._end(signal.SIGTERM, timeout=20)

    def kill(self) -> str:
        """SIGKILL: no drain, no cleanup, as a crash or the OOM killer would; returns its log."""
        return self._end(signal.SIGKILL, timeout=10)

    def _end(self, sig: int, timeout: float) -> str:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._log is None:
            return ""
        with self._log:
            self._log.seek(0)
            logged = self._log.read().decode(errors="replace")
        self._log = None
        return logged
