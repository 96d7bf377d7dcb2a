"""Where request bytes stop being a protobuf message of their type, for the decode interceptor.

The parser only says that it failed ("Wire format was corrupt", "String field had bad
UTF-8"). ``locate_fault(descriptor, data)`` reads the bytes again the way the parser does
(field tags, varints, fixed-width values, lengths, the UTF-8 of string fields, nested
messages, packed values, groups of unknown fields) and reports the first thing it cannot read:
the proto path of the field it lies in (``volunteers[0].id``; ``""`` when it lies between the
fields of the request itself) and what is wrong there, by byte offset. Nothing of the payload
is quoted, since it may carry personal data.

As in the parser, a field sent with another wire type than its declared one is read as an
unknown field, and unknown fields are read by their wire type alone. The walk reads at most
``MAX_ITEMS`` tags and values, so a huge request costs a bounded time (past that it reports
nothing), and refuses messages and groups nested deeper than the parser does.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.descriptor import Descriptor, FieldDescriptor

#: Tags and values read at most, whatever the size of the request.
MAX_ITEMS = 20_000
#: The parser refuses messages and groups nested deeper than this.
MAX_DEPTH = 100

_VARINT, _I64, _LEN, _START_GROUP, _END_GROUP, _I32 = range(6)
_FIXED_SIZE = {_I64: 8, _I32: 4}
_F = FieldDescriptor
#: The wire type each field type is written with (packed repeated scalars aside).
_WIRE_OF_TYPE = {
    field_type: wire
    for wire, field_types in (
        (_VARINT, (_F.TYPE_INT32, _F.TYPE_INT64, _F.TYPE_UINT32, _F.TYPE_UINT64)),
        (_VARINT, (_F.TYPE_SINT32, _F.TYPE_SINT64, _F.TYPE_BOOL, _F.TYPE_ENUM)),
        (_I64, (_F.TYPE_DOUBLE, _F.TYPE_FIXED64, _F.TYPE_SFIXED64)),
        (_I32, (_F.TYPE_FLOAT, _F.TYPE_FIXED32, _F.TYPE_SFIXED32)),
        (_LEN, (_F.TYPE_STRING, _F.TYPE_BYTES, _F.TYPE_MESSAGE)),
        (_START_GROUP, (_F.TYPE_GROUP,)),
    )
    for field_type in field_types
}


@dataclass(frozen=True)
class WireFault:
    """The first unreadable spot of a request: the field it lies in, and what is wrong."""

    field: str
    description: str


def locate_fault(descriptor: Descriptor, data: bytes) -> WireFault | None:
    """The first fault of ``data`` read as a ``descriptor`` message; None if none was found
    within the walk's bounds (see the module docstring)."""
    try:
        _Walk(data).message(descriptor, "", 0, len(data), 0)
    except _WireFaultError as fault:
        return WireFault(fault.field, fault.description)
    except _WalkBoundError:
        return None
    return None


class _WireFaultError(Exception):
    def __init__(self, field: str, description: str) -> None:
        super().__init__(description)
        self.field = field
        self.description = description


class _WalkBoundError(Exception):
    """The walk read ``MAX_ITEMS`` tags and values without finding a fault."""


class _Walk:
    """One walk over ``data``; positions are offsets into it."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._items = 0

    def message(
        self,
        descriptor: Descriptor | None,
        path: str,
        pos: int,
        end: int,
        depth: int,
        group: int | None = None,
    ) -> int:
        """Read the fields of a message from ``pos`` to ``end``, or those of the unknown
        group ``group`` (a field number) to its end tag; where it stopped."""
        if depth > MAX_DEPTH:
            raise _WireFaultError(path, f"byte {pos}: nested more than {MAX_DEPTH} deep")
        seen: dict[int, int] = {}
        while pos < end:
            at = pos
            tag, pos = self._varint(path, pos, end, "a field tag")
            number, wire = tag >> 3, tag & 7
            if number == 0 or wire > _I32 or tag >> 32 or pos - at > 5:
                raise _WireFaultError(
                    path, f"byte {at}: not a field tag (field {number}, wire type {wire})"
                )
            if wire == _END_GROUP:
                if number == group:
                    return pos
                raise _WireFaultError(
                    path, f"byte {at}: the end of group {number}, which is not open"
                )
            field = descriptor.fields_by_number.get(number) if descriptor else None
            if field is not None and _reads_as(field, wire):
                pos = self._field(field, wire, _child(path, field, wire, seen), pos, end, depth)
            else:
                pos = self._value(number, wire, path, pos, end, depth)
        if group is not None:
            raise _WireFaultError(path, f"byte {end}: group {group} is never closed")
        return pos

    def _field(
        self, field: FieldDescriptor, wire: int, path: str, pos: int, end: int, depth: int
    ) -> int:
        """Read the value of a known field sent with a wire type it reads as."""
        if wire != _LEN:
            return self._value(field.number, wire, path, pos, end, depth)
        start, stop = self._length(path, pos, end)
        if field.type == _F.TYPE_STRING:
            try:
                self._data[start:stop].decode("utf-8")
            except UnicodeDecodeError as error:
                raise _WireFaultError(
                    path, f"byte {start + error.start}: not valid UTF-8"
                ) from None
        elif field.type == _F.TYPE_MESSAGE:
            self.message(field.message_type, path, start, stop, depth + 1)
        elif field.type != _F.TYPE_BYTES:  # packed scalars
            self._packed(_WIRE_OF_TYPE[field.type], path, start, stop)
        return stop

    def _value(self, number: int, wire: int, path: str, pos: int, end: int, depth: int) -> int:
        """Skip one value of field ``number`` sent as wire type ``wire`` (a group: up to its
        end tag)."""
        if wire == _VARINT:
            return self._varint(path, pos, end, "a varint")[1]
        if wire == _LEN:
            return self._length(path, pos, end)[1]
        if wire == _START_GROUP:
            return self.message(None, path, pos, end, depth + 1, number)
        size = _FIXED_SIZE[wire]
        if pos + size > end:
            raise _WireFaultError(path, f"byte {pos}: a {size}-byte value is cut short")
        self._count()
        return pos + size

    def _packed(self, wire: int, path: str, pos: int, end: int) -> None:
        if wire != _VARINT:
            size = _FIXED_SIZE[wire]
            if (end - pos) % size:
                raise _WireFaultError(path, f"byte {pos}: packed {size}-byte values do not fill it")
            return
        while pos < end:
            pos = self._varint(path, pos, end, "a varint")[1]

    def _length(self, path: str, pos: int, end: int) -> tuple[int, int]:
        """The span of a length-delimited value whose length starts at ``pos``."""
        length, start = self._varint(path, pos, end, "a length")
        if start + length > end:
            raise _WireFaultError(path, f"byte {pos}: a length of {length} bytes runs past the end")
        return start, start + length

    def _varint(self, path: str, pos: int, end: int, what: str) -> tuple[int, int]:
        """The varint at ``pos`` (``what`` it is, for the fault) and the position after it."""
        self._count()
        value, shift, at = 0, 0, pos
        while pos < end and shift < 70:
            byte = self._data[pos]
            value |= (byte & 0x7F) << shift
            pos, shift = pos + 1, shift + 7
            if not byte & 0x80:
                return value, pos
        if shift >= 70:
            raise _WireFaultError(path, f"byte {at}: {what} is longer than 10 bytes")
        raise _WireFaultError(path, f"byte {at}: {what} is cut short")

    def _count(self) -> None:
        self._items += 1
        if self._items > MAX_ITEMS:
            raise _WalkBoundError


def _reads_as(field: FieldDescriptor, wire: int) -> bool:
    """Whether the parser reads ``wire`` as ``field``'s value (packed scalars included)."""
    declared = _WIRE_OF_TYPE.get(field.type)
    return wire == declared or (wire == _LEN and field.is_repeated and declared != _START_GROUP)


def _child(path: str, field: FieldDescriptor, wire: int, seen: dict[int, int]) -> str:
    """The path of ``field`` in the message at ``path``; each element of a repeated field is
    numbered in the order read (packed values are named as the field)."""
    name = f"{path}.{field.name}" if path else field.name
    if not field.is_repeated or (wire == _LEN and _WIRE_OF_TYPE[field.type] != _LEN):
        return name
    index = seen.get(field.number, 0)
    seen[field.number] = index + 1
    return f"{name}[{index}]"
