"""Health follows the store: a daemon thread pings it every interval and turns the health of
the services that need it NOT_SERVING while it is unreachable, SERVING again once it answers.

A Redis store's ping also verifies its data-set marker (``matcher.registry.store.data_set``):
when the data set was lost (Redis came back empty) the services go NOT_SERVING in the same way,
with a log line that says what happened and what the operator does about it.

Transitions are logged once (WARNING when the store goes away or loses its data, INFO when it
is back), never every probe. While reachable the probe also brings the pool view up to date,
so the first Match after a bulk import does not pay for rebuilding it. The probe needs no
recovery action: the store's client reconnects by itself, and the marker is read again every
probe. Probes use the store's read timeout, so a frozen Redis shows within one interval plus
that timeout.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from grpc_health.v1 import health, health_pb2

from matcher.errors import StoreUnavailableError
from matcher.registry.store.base import VolunteerStore
from matcher.registry.store.data_set import ACCEPT_COMMAND, LOSS_CAUSES, DataSetLostError

logger = logging.getLogger(__name__)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class StoreProbe:
    """Pings ``store`` every ``interval`` seconds and sets the health of ``services``."""

    def __init__(
        self,
        store: VolunteerStore,
        health_servicer: health.HealthServicer,
        services: Sequence[str],
        interval: float,
        on_reachable: Callable[[], object] | None = None,
    ) -> None:
        self._store = store
        self._health = health_servicer
        self._services = tuple(services)
        self._interval = interval
        self._on_reachable = on_reachable
        self._reachable: bool | None = None
        self._lost = False  # whether the last failure was a lost data set
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="matcher-store-probe", daemon=True)

    @property
    def reachable(self) -> bool | None:
        """The last probe's answer (None before the first)."""
        return self._reachable

    def check(self, *, warm: bool = True) -> bool:
        """Probe once (and, with ``warm``, call ``on_reachable`` if the store answered), update
        health on a change, and return whether the store answered."""
        lost = False
        try:
            self._store.ping()
            if warm and self._on_reachable is not None:
                self._on_reachable()
            reachable, reason = True, ""
        except DataSetLostError as error:
            reachable, reason, lost = False, error.cause, True
        except StoreUnavailableError as error:
            reachable, reason = False, str(error)
        if reachable != self._reachable or lost != self._lost:
            self._report(reachable, lost, reason)
        return reachable

    def _report(self, reachable: bool, lost: bool, reason: str) -> None:
        status = SERVING if reachable else NOT_SERVING
        for name in self._services:
            self._health.set(name, status)
        where = self._store.description
        if reachable and self._reachable is not None:
            logger.info("registry store %s is reachable again; %s SERVING", where, self._names())
        elif lost:
            logger.error(
                "registry store %s lost its data: %s (%s); %s NOT_SERVING, reads and writes "
                "refused, until the data is restored from a backup or an operator accepts the "
                "empty data set with `%s`",
                where,
                reason,
                LOSS_CAUSES,
                self._names(),
                ACCEPT_COMMAND,
            )
        elif not reachable:
            logger.warning(
                "registry store %s is unreachable (%s); %s NOT_SERVING until it answers",
                where,
                reason,
                self._names(),
            )
        self._reachable, self._lost = reachable, lost

    def _names(self) -> str:
        return ", ".join(self._services)

    def start(self) -> None:
        """Ping now (so health is right from the start), then probe in a daemon thread: at
        once and every interval until ``stop()``."""
        self.check(warm=False)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop probing (waits up to ``timeout`` for a probe in progress)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            try:
                self.check()
            except Exception as error:  # a bug: log its type only, keep probing
                logger.error("store probe failed: %s", type(error).__name__)
            if self._stop.wait(self._interval):
                return
