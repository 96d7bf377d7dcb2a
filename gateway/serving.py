"""Running the gateway under uvicorn: in the foreground (``run_gateway``) or, for tests and
examples, on a background thread (``GatewayThread``, bound before it starts so its port is
known even when 0 was asked for).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from types import TracebackType

import uvicorn
from google.protobuf.descriptor import ServiceDescriptor

from gateway.app import create_app
from gateway.config import GatewaySettings

logger = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 10.0


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (IPv6 when ``host`` is an IPv6 literal)."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, except that after a graceful stop on SIGINT / SIGTERM it returns
    (exit status 0) instead of raising the signal again."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signals can only be handled on the main thread
            return
        signals = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in signals}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _server(settings: GatewaySettings, services: Sequence[ServiceDescriptor] | None) -> _Server:
    app = create_app(settings, services)
    # log_config=None: logging is configured by the entry point only, never here. uvicorn's
    # access log is off: it prints paths and queries, which may hold personal data; the
    # gateway logs route templates instead (gateway.access).
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    return _Server(config)


def run_gateway_forever(settings: GatewaySettings) -> None:
    """Serve until SIGINT / SIGTERM (uvicorn stops gracefully on either)."""
    server = _server(settings, None)  # first: a TLS file that cannot be read stops it here
    sock = bind_socket(settings.host, settings.port)
    host, port = sock.getsockname()[:2]
    logger.info(
        "gateway on http://%s:%d -> grpc %s (%s)",
        host,
        port,
        settings.grpc_target,
        "TLS" if settings.grpc_tls else "plaintext",
    )
    server.run(sockets=[sock])
    logger.info("gateway stopped")


class GatewayThread:
    """The gateway on a daemon thread: ``with GatewayThread(settings) as gw: gw.url``."""

    def __init__(
        self,
        settings: GatewaySettings,
        services: Sequence[ServiceDescriptor] | None = None,
    ) -> None:
        self._sock = bind_socket(settings.host, settings.port)
        self.port: int = self._sock.getsockname()[1]
        host = settings.host if ":" not in settings.host else f"[{settings.host.strip('[]')}]"
        self.url = f"http://{host}:{self.port}"
        self._server = _server(settings, services)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self) -> GatewayThread:
        """Start serving; returns once the app has started (or raises after 10 s)."""
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the gateway did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving (in-flight requests finish) and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout=START_TIMEOUT_SECONDS)
        self._sock.close()

    def __enter__(self) -> GatewayThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
