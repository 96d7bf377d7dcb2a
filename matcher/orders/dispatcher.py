"""The dispatcher: rounds on a batch window and on demand, and recovery at start-up.

With ``window_seconds`` > 0 a daemon thread runs a round every window (all pending orders,
the whole active pool, the default policy) and as soon as it is woken, which an URGENT
submission does, so an urgent order never waits for the window. With ``window_seconds`` 0
there are no timed rounds and an urgent submission runs its round in the submitting call
(a simulation drives time itself this way). Rounds in one process run one at a time;
several processes may run rounds on one Redis at once (the order store's holds keep them
from booking anybody twice).

Recovery (``start``): expire the offers whose deadline passed while no dispatcher was
running, lapse the orders whose time came and close the accepted ones past their completion
grace, so their volunteers are free again, and replay the registry side effects a dead
process left in the outbox (``registry_sync``). Every round replays the outbox too, so
effects left while their lease still ran are applied soon after it runs out.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback

from matcher.core.model import Policy
from matcher.errors import MatcherError
from matcher.orders.desk import OrderDesk
from matcher.orders.rounds import RoundReport, Scope, run_round, sweep
from matcher.registry.model import Selector
from matcher.registry.view import PoolView

logger = logging.getLogger(__name__)


class Dispatcher:
    """Runs dispatch rounds for one server process."""

    def __init__(self, desk: OrderDesk, view: PoolView, window_seconds: float) -> None:
        self.desk = desk
        self._view = view
        self._window = window_seconds
        self._round_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        desk.on_urgent = self.wake

    def start(self) -> None:
        """Recover, then start the timed rounds (if there is a window)."""
        try:
            self.recover()
        except MatcherError as error:
            logger.warning("dispatch recovery skipped: %s", type(error).__name__)
        if self._window > 0 and self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="matcher-dispatcher", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the timed rounds (waits for a round in progress)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.desk.feed.close()

    def wake(self) -> None:
        """Run a round now: in the thread, or here when there are no timed rounds."""
        if self._thread is not None:
            self._wake.set()
        elif not self._stop.is_set():
            self.run_round()

    def run_round(
        self,
        scope: Scope | None = None,
        selector: Selector | None = None,
        policy: Policy | None = None,
    ) -> RoundReport:
        """One round now (after any round already running in this process)."""
        with self._round_lock:
            started = time.perf_counter()
            try:
                report = run_round(self.desk, self._view, scope, selector, policy or Policy())
            except BaseException:
                self.desk.observer.round_finished(time.perf_counter() - started, 0, True)
                raise
            self.desk.observer.round_finished(
                time.perf_counter() - started, len(report.offers), False
            )
            self._replay()
        parts = ", ".join(f"{k} {ms:.0f}" for k, ms in report.timings_ms.items())
        logger.info(
            "dispatch round: %d orders, %d offers, %d unserved, %d conflicts, %d solves, "
            "%d closed uncompleted (ms: %s)",
            report.orders_considered,
            len(report.offers),
            report.orders_unserved,
            report.reservation_conflicts,
            report.solves,
            report.orders_closed,
            parts,
        )
        return report

    def recover(self) -> None:
        """Free what a stopped dispatcher left held, and replay the registry outbox."""
        with self._round_lock:
            sweep(self.desk, RoundReport())
            self._replay()

    def _replay(self) -> None:
        """Apply the registry side effects whose lease ran out (the round lock is held); an
        unreachable store leaves them for the next time."""
        try:
            self.desk.outbox.replay()
        except MatcherError as error:
            logger.warning("registry outbox replay failed: %s", type(error).__name__)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._window)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.run_round()
            except MatcherError as error:  # the store is down: try again next window
                logger.warning("dispatch round failed: %s: %s", type(error).__name__, error)
            except Exception as error:  # a bug: keep dispatching, but say where
                logger.error(
                    "dispatch round crashed: %s at %s", type(error).__name__, _where(error)
                )


def _where(error: BaseException) -> str:
    """The frames an exception passed through, without its message (which could quote data)."""
    frames = traceback.extract_tb(error.__traceback__)
    return " <- ".join(f"{f.filename}:{f.lineno} ({f.name})" for f in reversed(frames))
