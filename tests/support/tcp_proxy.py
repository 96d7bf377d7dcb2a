"""A loopback TCP proxy whose ``stop()`` cuts every connection, as a server restart would.

Tests point a client at ``proxy.port`` to make its server "go away" and "come back" (on the
same port) without touching the real server.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable


class TcpProxy:
    """Forwards a loopback port to ``target`` (host, port); ``stop()`` cuts every connection
    like a restart."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.port = 0
        self._target = target
        self._running = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self._running.set()
        self._spawn(self._accept, listener)

    def stop(self) -> None:
        self._running.clear()
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while self._running.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                upstream = socket.create_connection(self._target)
                for src, dst in ((client, upstream), (upstream, client)):
                    src.settimeout(0.05)
                    self._spawn(self._pump, src, dst)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        with src:
            while self._running.is_set():
                try:
                    data = src.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not data:
                    break
                try:
                    dst.sendall(data)
                except OSError:
                    break
