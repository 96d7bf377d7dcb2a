"""The server of a mixed load run, in a child process, and read-only snapshots of a store.

The server runs in its own process (``spawn``) so that the client threads and the server do
not share one interpreter lock; the parent talks to it over a pipe:

* ``"cpu"``: the child's CPU seconds so far;
* ``"quiesce"``: stop the timed dispatch rounds (nothing changes the store any more but the
  clock), then answer with a ``snapshot`` of the order store (holds and ledger);
* ``"stop"``: stop the server and exit.

``snapshot`` reads only: every stored hold and every ledger entry, as plain tuples.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from matcher.config import Settings
from matcher.orders.store.base import OrderStore

START_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class StoreSnapshot:
    """The order store's holds and ledger at ``now_ms``."""

    now_ms: int
    holds: list[tuple[str, str, int, int, int]]  # volunteer, hold (offer) id, start, end, deadline
    entries: list[
        tuple[int, str, int, str, int, str, str]
    ]  # seq, txn, kind, account, min, branch, order


def snapshot(store: OrderStore) -> StoreSnapshot:
    now_ms = int(time.time() * 1000)
    holds = [(h.volunteer_id, h.hold_id, h.start, h.end, h.deadline_ms) for h in store.holds()]
    entries = [
        (e.sequence, e.txn_id, int(e.kind), e.account, e.minutes, e.branch_id, e.order_id)
        for e in store.entries()
    ]
    return StoreSnapshot(now_ms, holds, entries)


def _serve(settings: Settings, conn: Connection) -> None:
    logging.basicConfig(level=logging.WARNING, format="server %(levelname)s %(name)s: %(message)s")
    logging.getLogger("matcher.service.server").setLevel(logging.ERROR)  # the in-memory warning
    from matcher.service.server import create_server

    app = create_server(settings)
    app.start()
    conn.send(app.port)
    try:
        while True:
            command = conn.recv()
            if command == "cpu":
                conn.send(time.process_time())
            elif command == "quiesce":
                assert app.orders is not None
                app.orders.dispatcher.stop()
                conn.send(snapshot(app.orders.store))
            elif command == "stop":
                break
    finally:
        app.stop()
        conn.send("stopped")


class ChildServer:
    """A matcher server in a child process (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(settings, child), name="matcher-load-server", daemon=True
        )
        self._process.start()
        if not self._conn.poll(START_TIMEOUT_S):
            self._process.kill()
            raise RuntimeError("the load server did not start")
        self.port: int = self._conn.recv()

    def ask(self, command: str, timeout: float = 120.0) -> Any:
        self._conn.send(command)
        if not self._conn.poll(timeout):
            raise RuntimeError(f"the load server did not answer {command!r}")
        return self._conn.recv()

    def stop(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(RuntimeError, OSError, EOFError):
                self.ask("stop", timeout=60)
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=10)
