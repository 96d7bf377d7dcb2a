"""What the order lifecycle tells an observer (the operators' metrics), without knowing who
listens: the desk reports every order it wrote, the dispatcher every round it ran."""

from __future__ import annotations

from typing import Protocol

from matcher.orders.model import Order, Transaction


class LifecycleObserver(Protocol):
    """Receives the lifecycle's events; must be cheap and must not raise."""

    def order_written(self, before: Order | None, after: Order, txn: Transaction | None) -> None:
        """An order was created (``before`` None) or changed, with the ledger transaction
        posted in the same write, if any."""
        ...

    def round_finished(self, seconds: float, offers: int, failed: bool) -> None:
        """A dispatch round ended after ``seconds``, having made ``offers`` offers."""
        ...


class NoObserver:
    """The observer when nobody listens."""

    def order_written(self, before: Order | None, after: Order, txn: Transaction | None) -> None:
        return None

    def round_finished(self, seconds: float, offers: int, failed: bool) -> None:
        return None
