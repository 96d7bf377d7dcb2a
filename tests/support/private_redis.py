"""A ``redis-server`` of a test's own: a free loopback port, its data (an append-only file,
fsync on every write, so whatever Redis acknowledged survives a crash) in a temporary
directory, stopped (SIGTERM) or killed (SIGKILL) and started again on the same port and
directory. The fault tests use it to take Redis away under a running matcher.

Without a ``redis-server`` binary the tests that need one skip, except under ``CI=true``,
where they fail: CI must run them.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.support.net import free_port, wait_until
from tests.support.prerequisites import missing_prerequisite


class PrivateRedis:
    """A ``redis-server`` of this test's own on a free port, its data in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it (again) on the same port and directory; returns once it answers."""
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--appendonly", "yes",
                "--appendfsync", "always",
                "--save", "",
                "--dir", str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = self.client()
        try:
            wait_until(lambda: self._answers(client), 10, "the private redis-server to start")
        finally:
            client.close()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop it with ``sig`` (SIGTERM: a clean shutdown; SIGKILL: a crash) and wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def client(self) -> redis.Redis:
        """A new client of it (short timeouts); the caller closes it."""
        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2)

    @staticmethod
    def _answers(client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
            return False


@contextmanager
def private_redis_server() -> Iterator[PrivateRedis]:
    """A started ``PrivateRedis``, killed and its directory removed afterwards. Skips when
    ``redis-server`` is not installed (fails instead under ``CI=true``)."""
    if shutil.which("redis-server") is None:
        missing_prerequisite(
            "redis-server is not installed: the fault tests need a Redis of their own"
        )
    directory = Path(tempfile.mkdtemp(prefix="matcher-redis-"))
    server = PrivateRedis(directory)
    try:
        server.start()
        yield server
    finally:
        server.stop(signal.SIGKILL)
        shutil.rmtree(directory, ignore_errors=True)
