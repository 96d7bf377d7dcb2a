"""Inputs the fuzzer found that made the server answer INTERNAL, replayed exactly, on both
stores. Each is now INVALID_ARGUMENT naming the field.

* A page token whose offset digits are not ASCII: ``str.isdigit`` accepts ``"²"`` but
  ``int("²")`` raises (ListOrders and GetStatement, any store).
* A page token with more digits than ``int()`` converts (Python refuses > 4300).
* A page token with an offset past int64: Redis refuses the LRANGE index (GetStatement on
  Redis), where a Python slice just came back empty.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator

import grpc
import pytest

from matcher.v1 import orders_pb2, timebank_pb2
from tests.fuzz.rpc_world import World, fuzz_world
from tests.support.registry import rpc_error, violations

TOKENS = {
    "superscript two": "bzE6wrI=",  # base64 of "o1:²"
    "5000 digits": base64.urlsafe_b64encode(b"o1:" + b"9" * 5000).decode(),
    "offset 10**20": "bzE6MTAwMDAwMDAwMDAwMDAwMDAwMDAw",  # base64 of "o1:" + "1" + 20 zeros
    "offset 2**63": base64.urlsafe_b64encode(f"o1:{2**63}".encode()).decode(),
}


@pytest.fixture(scope="module", params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    with fuzz_world(request.param) as seeded:
        yield seeded


def _calls(world: World) -> dict[str, Callable[[str], object]]:
    system = world.system
    return {
        "ListOrders": lambda t: system.orders.ListOrders(
            orders_pb2.ListOrdersRequest(page_token=t), timeout=10
        ),
        "ListOrders by branch": lambda t: system.orders.ListOrders(
            orders_pb2.ListOrdersRequest(page_token=t, branch_ids=["grid-1"]), timeout=10
        ),
        "GetStatement": lambda t: system.bank.GetStatement(
            timebank_pb2.GetStatementRequest(volunteer_id="v-1", page_token=t), timeout=10
        ),
    }


@pytest.mark.parametrize("rpc", ["ListOrders", "ListOrders by branch", "GetStatement"])
@pytest.mark.parametrize("token", list(TOKENS), ids=list(TOKENS))
def test_foreign_page_token_is_invalid_argument(world: World, rpc: str, token: str) -> None:
    call = _calls(world)[rpc]
    err = rpc_error(lambda: call(TOKENS[token]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
    assert violations(err) == {"page_token": "is not a token this server issued"}


def test_the_largest_offset_a_token_carries_is_served(world: World) -> None:
    token = base64.urlsafe_b64encode(b"o1:" + b"9" * 18).decode()
    for call in _calls(world).values():
        call(token)  # an empty page, not an error
