"""RedeemHours over a real channel on both stores: ids and keys holding ``:`` never make two
redemptions one (``matcher.ids``), and a reused idempotency key with other content is
FAILED_PRECONDITION naming the key, as SubmitOrder answers, while a true retry is OK
``posted=false``."""

from __future__ import annotations

import grpc
import pytest

from matcher.v1 import timebank_pb2
from tests.support.orders import OrderSystem, system
from tests.support.registry import rpc_error, upsert

__all__ = ["system"]  # the fixture

T = timebank_pb2


#: One skill per volunteer, so each order goes to the volunteer it is meant for.
SKILLS = ("elderly_care", "tutoring", "cleaning")


def earned(system: OrderSystem, *vids: str) -> None:
    """Register ``vids`` and have each earn two hours."""
    system.register(*(upsert(v, skills=(SKILLS[k],)) for k, v in enumerate(vids)))
    for k, vid in enumerate(vids):
        order = system.submit(f"earn-{k}", skills=(SKILLS[k],))
        [offer] = system.round().offers
        assert offer.volunteer_id == vid
        system.accept(offer.offer_id)
        assert system.complete(order.order_id, 2.0).credited
    minutes = [balance(system, v) for v in vids]
    assert minutes == [120] * len(vids), minutes


def balance(system: OrderSystem, vid: str) -> int:
    reply = system.bank.GetBalance(T.GetBalanceRequest(volunteer_id=vid), timeout=10)
    return reply.balance_minutes


def redeem(
    system: OrderSystem, vid: str, key: str, hours: float = 0.5, **kw: str
) -> T.RedeemHoursResponse:
    kw.setdefault("reason", "a ride to the clinic")
    kw.setdefault("branch_id", "grid-1")
    request = T.RedeemHoursRequest(volunteer_id=vid, hours=hours, idempotency_key=key, **kw)
    return system.bank.RedeemHours(request, timeout=10)


def test_colons_in_ids_and_keys_never_make_two_redemptions_one(system: OrderSystem) -> None:
    earned(system, "adv", "adv:x")
    first = redeem(system, "adv", "x:k")
    second = redeem(system, "adv:x", "k")
    assert (first.posted, first.balance_minutes) == (True, 90)
    assert (second.posted, second.balance_minutes) == (True, 90)
    assert [balance(system, v) for v in ("adv", "adv:x")] == [90, 90]
    for vid, key in (("adv", "x:k"), ("adv:x", "k")):  # each retry finds its own
        assert redeem(system, vid, key).posted is False
    ids = {
        e.transaction_id
        for v in ("adv", "adv:x")
        for e in system.bank.GetStatement(T.GetStatementRequest(volunteer_id=v), timeout=10).entries
        if e.kind == T.LEDGER_ENTRY_KIND_REDEEMED
    }
    assert ids == {"redeem:adv:x:k", "redeem:adv%3Ax:k"}


@pytest.mark.parametrize(
    "change",
    [{"hours": 1.0}, {"branch_id": "grid-2"}, {"reason": "a haircut"}],
    ids=["amount", "branch", "reason"],
)
def test_a_reused_key_with_other_content_is_refused_naming_it(
    system: OrderSystem, change: dict[str, object]
) -> None:
    earned(system, "vol-a")
    assert redeem(system, "vol-a", "r:1").posted
    err = rpc_error(lambda: redeem(system, "vol-a", "r:1", **change))  # type: ignore[arg-type]
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "idempotency key 'r:1' was already used for redemption" in (err.details() or "")
    again = redeem(system, "vol-a", "r:1")
    assert (again.posted, again.balance_minutes) == (False, 90)
    assert balance(system, "vol-a") == 90


def test_submit_order_refuses_a_reused_key_the_same_way(system: OrderSystem) -> None:
    system.submit("k:1", start_h=2, end_h=3)
    err = rpc_error(lambda: system.submit("k:1", start_h=4, end_h=5))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "idempotency key 'k:1' was already used for order ord-" in (err.details() or "")
