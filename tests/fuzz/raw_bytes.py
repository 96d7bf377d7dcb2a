"""Request bytes that do not decode, for any rpc.

``broken_requests(descriptor)`` gives the plain cases the service tests send to every rpc: a
string field of invalid UTF-8, one stray byte after a valid request, and a valid request cut
short, each with the field path the answer must name (``""``: the message itself, between its
fields). ``manglings()`` is the fuzzer's strategy: random bytes, or a way to break valid
request bytes (bits flipped, a byte inserted, the end cut off).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import strategies as st

#: Wire type of a length-delimited field (strings, bytes, messages).
LEN = 2
#: Not UTF-8: a two-byte lead followed by an ASCII byte.
INVALID_UTF8 = b"\xc3\x28"
#: A varint's continuation bit with nothing after it: a tag cut short.
STRAY_BYTE = b"\x80"
#: A field number no request of the API uses.
UNUSED_FIELD = 15


def varint(value: int) -> bytes:
    """``value`` (non-negative) as a protobuf varint."""
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def length_delimited(number: int, payload: bytes) -> bytes:
    """Field ``number`` carrying ``payload`` (wire type 2)."""
    return varint(number << 3 | LEN) + varint(len(payload)) + payload


def string_field_path(descriptor: Descriptor, depth: int = 3) -> list[FieldDescriptor]:
    """The shallowest string field of ``descriptor`` (through message fields, at most
    ``depth`` deep, map entries left out), as the fields leading to it; [] if none."""
    queue: deque[list[FieldDescriptor]] = deque([[]])
    while queue:
        path = queue.popleft()
        message = path[-1].message_type if path else descriptor
        for field in message.fields:
            if field.type == FieldDescriptor.TYPE_STRING:
                return [*path, field]
            nested = field.message_type
            if nested is not None and not nested.GetOptions().map_entry and len(path) < depth:
                queue.append([*path, field])
    return []


def path_name(path: Sequence[FieldDescriptor]) -> str:
    """The proto path of ``path``'s last field, the first element of each repeated one:
    ``volunteers[0].id``."""
    return ".".join(f.name + ("[0]" if f.is_repeated else "") for f in path)


def nest(path: Sequence[FieldDescriptor], payload: bytes) -> bytes:
    """A message whose field ``path`` (string or message fields) carries ``payload``."""
    for field in reversed(path):
        payload = length_delimited(field.number, payload)
    return payload


@dataclass(frozen=True)
class Broken:
    """Request bytes that do not decode, and the field the answer must name."""

    case: str
    data: bytes
    field: str


def broken_requests(descriptor: Descriptor) -> list[Broken]:
    """Invalid UTF-8 in a string field (if the message has one), one stray byte after a
    valid request, and a valid request whose last byte is cut off."""
    path = string_field_path(descriptor)
    if not path:
        cut = length_delimited(UNUSED_FIELD, b"ok")  # an unknown field must be whole too
        return [Broken("stray byte", STRAY_BYTE, ""), Broken("truncated", cut[:-1], "")]
    valid = nest(path, b"ok")
    return [
        Broken("invalid UTF-8", nest(path, INVALID_UTF8), path_name(path)),
        Broken("stray byte", valid + STRAY_BYTE, ""),
        # the outermost length now runs past the end
        Broken("truncated", valid[:-1], path_name(path[:1])),
    ]


@dataclass(frozen=True)
class Mangling:
    """A way to break request bytes, drawn apart from them (so a failure report shows it
    small): replace them by ``noise``, flip bits, cut them short, or insert a byte.
    ``spots`` are positions, taken modulo the length."""

    kind: str
    spots: tuple[int, ...]
    noise: bytes = b""

    def apply(self, data: bytes) -> bytes:
        """``data`` broken this way (bytes that may still decode)."""
        if self.kind == "random" or not data:
            return self.noise
        if self.kind == "cut":
            return data[: self.spots[0] % len(data)]
        if self.kind == "insert":
            at = self.spots[0] % (len(data) + 1)
            return data[:at] + bytes([self.spots[-1] % 256]) + data[at:]
        flipped = bytearray(data)
        for spot in self.spots:
            flipped[spot // 8 % len(data)] ^= 1 << spot % 8
        return bytes(flipped)


def manglings() -> st.SearchStrategy[Mangling]:
    """Random bytes (up to 300), and 1-3 bit flips, a cut or an inserted byte."""
    spots = st.lists(st.integers(0, 2**32), min_size=1, max_size=3).map(tuple)
    return st.one_of(
        st.builds(Mangling, st.just("random"), st.just(()), st.binary(max_size=300)),
        st.builds(Mangling, st.sampled_from(("flip", "cut", "insert")), spots),
    )
