"""``matcher.service.interceptors.wire``: where request bytes break, named by field path and
byte offset, and found whenever the parser refuses the bytes (a differential test against it
over valid, mangled and random bytes of every request type)."""

from __future__ import annotations

import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import DecodeError
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.service.interceptors.decode import UNLOCATED, undecodable
from matcher.service.interceptors.wire import MAX_ITEMS, WireFault, locate_fault
from matcher.v1 import match_pb2, orders_pb2, volunteers_pb2
from tests.fuzz.proto_strategies import ProtoStrategies
from tests.fuzz.raw_bytes import INVALID_UTF8, length_delimited, manglings, varint
from tests.fuzz.rpc_world import all_rpcs
from tests.support.service import make_valid_request

MATCH = match_pb2.MatchRequest.DESCRIPTOR
SUBMIT = orders_pb2.SubmitOrderRequest.DESCRIPTOR
GET = volunteers_pb2.GetVolunteerRequest.DESCRIPTOR
LIST_ORDERS = orders_pb2.ListOrdersRequest.DESCRIPTOR  # states: packed enums
REQUEST_TYPES = sorted(
    {r.request.DESCRIPTOR.full_name: r.request.DESCRIPTOR for r in all_rpcs()}.items()
)

VALID = make_valid_request().SerializeToString()
SECOND_ID = length_delimited(1, length_delimited(1, b"req-2"))  # requests[1].id

CASES = [
    # (type, bytes, field, description)
    (GET, length_delimited(1, INVALID_UTF8), "volunteer_id", "byte 2: not valid UTF-8"),
    (
        MATCH,
        VALID + length_delimited(1, length_delimited(1, b"ok" + INVALID_UTF8)),
        "requests[2].id",
        f"byte {len(VALID) + 6}: not valid UTF-8",
    ),
    (
        MATCH,
        SECOND_ID + SECOND_ID + b"\x0a\x09\x0a\x07",
        "requests[2]",
        f"byte {2 * len(SECOND_ID) + 1}: a length of 9 bytes runs past the end",
    ),
    (MATCH, VALID + b"\x80", "", f"byte {len(VALID)}: a field tag is cut short"),
    (MATCH, VALID + b"\x00", "", f"byte {len(VALID)}: not a field tag (field 0, wire type 0)"),
    (GET, b"\x0e", "", "byte 0: not a field tag (field 1, wire type 6)"),
    (GET, b"\x0c", "", "byte 0: the end of group 1, which is not open"),
    (GET, b"\x3b\x08\x01", "", "byte 3: group 7 is never closed"),
    (GET, b"\x3b\x14", "", "byte 1: the end of group 2, which is not open"),
    (GET, b"\x78" + b"\xff" * 10 + b"\x01", "", "byte 1: a varint is longer than 10 bytes"),
    (GET, b"\x7d\x01\x02", "", "byte 1: a 4-byte value is cut short"),
    (
        SUBMIT,
        length_delimited(1, b"\x0a\x01"),
        "request.id",
        "byte 3: a length of 1 bytes runs past the end",
    ),
    (LIST_ORDERS, length_delimited(1, b"\x01\x80"), "states", "byte 3: a varint is cut short"),
    (GET, b"\x0b" * 101 + b"\x0c" * 101, "", "byte 101: nested more than 100 deep"),
]


@pytest.mark.parametrize(("descriptor", "data", "field", "description"), CASES)
def test_the_fault_is_named_by_field_and_byte(
    descriptor: Descriptor, data: bytes, field: str, description: str
) -> None:
    with pytest.raises(DecodeError):
        message_factory.GetMessageClass(descriptor).FromString(data)  # the parser refuses them too
    assert locate_fault(descriptor, data) == WireFault(field, description)


def test_a_wrong_wire_type_is_an_unknown_field_as_in_the_parser() -> None:
    data = varint(1 << 3 | 0) + varint(7)  # MatchRequest.requests sent as a varint
    match_pb2.MatchRequest.FromString(data)
    assert locate_fault(MATCH, data) is None


def test_the_walk_is_bounded() -> None:
    data = b"\x08\x01" * (MAX_ITEMS + 10) + b"\x80"  # the fault lies past the bound
    assert locate_fault(MATCH, data) is None
    error = undecodable(MATCH, data)
    assert error.violations[0].field == UNLOCATED.field
    assert (
        str(error)
        == f"request is not a valid matcher.v1.MatchRequest message: {UNLOCATED.description}"
    )


@st.composite
def _bytes_of_some_type(draw: st.DrawFn) -> tuple[Descriptor, bytes]:
    """A request type, and a valid message of it serialized, maybe then broken."""
    _, descriptor = draw(st.sampled_from(REQUEST_TYPES))
    message = draw(ProtoStrategies().message(descriptor, depth=2, huge=False))
    valid = message.SerializeToString()
    return descriptor, draw(st.one_of(st.just(valid), manglings().map(lambda m: m.apply(valid))))


@settings(max_examples=400, deadline=None, database=None, derandomize=True)
@given(case=_bytes_of_some_type())
def test_a_fault_is_found_whenever_the_parser_refuses(case: tuple[Descriptor, bytes]) -> None:
    descriptor, data = case
    try:
        message_factory.GetMessageClass(descriptor).FromString(data)
    except DecodeError:
        assert locate_fault(descriptor, data) is not None
    else:
        if descriptor.fields:  # upb lets field number 0 pass in a message without fields
            assert locate_fault(descriptor, data) is None
