"""Hypothesis strategies that build any protobuf message from its descriptor, hostile by design.

``messages(descriptor)`` fills every field from its type alone: strings (empty, NUL and control
characters, braces, right-to-left marks, astral and case-folding-unstable letters, very long
runs), integers at their type's extremes (int32 / int64 / uint32 / uint64 min and max, 0, -1),
doubles and floats (NaN, ±inf, -0.0, subnormals, the largest finite values), enums with unknown
numbers, bytes, bools, nested messages to a bounded depth, repeated fields that are sometimes
huge (one element repeated up to ``HUGE_REPEAT`` times, cheap to build and to send), maps,
oneofs (whichever member is set last wins, as in protobuf), and ``google.protobuf.Timestamp`` /
``Duration`` with any int64 seconds and any int32 nanos (binary serialization accepts both, far
beyond the valid range).

``mutants(seeds, descriptor)`` starts from known-valid messages and changes one to three
fields (anywhere in the tree, set or not) to hostile values of the field's type, or clears
them, so that fuzzing reaches the checks and state paths behind the first validation.

``vocabulary`` strings (real ids, codes, page tokens) are mixed into every string field so
random messages also name things that exist.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Sequence
from typing import Any

from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

#: The largest repeated field built (one element repeated).
HUGE_REPEAT = 5000
#: Nesting depth below which message fields are left unset.
MAX_DEPTH = 4

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
UINT32 = (0, 2**32 - 1)
UINT64 = (0, 2**64 - 1)
#: Timestamp.seconds of 0001-01-01 and of 9999-12-31T23:59:59 (the valid range's ends).
TIMESTAMP_MIN, TIMESTAMP_MAX = -62_135_596_800, 253_402_300_799

HOSTILE_TEXT = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\n",
    "\t\r",
    "\x7f",
    "\x1b[31m",
    "{",
    "}",
    "{_}",
    "a{b}c",
    "%00",
    "../..",
    "*",
    "?",
    "\u202e",  # right-to-left override
    "\ufeff",  # byte order mark
    "\u200b",  # zero width space
    "e\u0301",  # combining accent
    "İ",  # lowercases to two code points
    "ß",
    "ǅ",
    "\U0001f4a9",
    "\U0010ffff",
    "\ufffd",
    "志愿者",
    "null",
    "NaN",
    "-1",
    "0",
    "1e309",
    "o1:",
    "o1:-1",
    "bzE6LTE=",  # base64 of "o1:-1"
    "bzE6OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ==",  # base64 of "o1:" + 20 nines
)
#: What follows the prefix in a page-token look-alike: digits int() reads but ASCII does not
#: know, more digits than int() converts, offsets past int64, signs and separators.
TOKEN_TAILS = ("²", "٣", "9" * 5000, str(2**63), str(10**20), "-1", "+1", " 1", "1_0", "0x1", "")
#: Lengths of the long runs (around the id limits, and far beyond them).
LONG_LENGTHS = (64, 65, 128, 129, 200, 201, 500, 501, 4096, 100_000)

_DOUBLE_EDGES = (
    math.nan,
    -math.nan,
    math.inf,
    -math.inf,
    0.0,
    -0.0,
    5e-324,  # smallest subnormal
    -5e-324,
    2.2250738585072014e-308,  # smallest normal
    1.7976931348623157e308,  # largest finite
    -1.7976931348623157e308,
    1e300,
    -1e300,
    1e-9,
    0.001,
    0.5,
    1.0,
    -1.0,
    5.0,
    24.0,
    24.000001,
    90.0,
    -90.0,
    180.0,
    -180.0,
    500.0,
    1000.0,
    1e6,
    2.0**53 + 1,
)
_FLOAT_EDGES = (math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-45, 3.4028234663852886e38, -1.0)


def text(
    vocabulary: Sequence[str] = (), token_prefixes: Sequence[str] = (), longest: int = 100_000
) -> st.SearchStrategy[str]:
    """Hostile strings, random unicode (surrogates excluded: protobuf strings are UTF-8), the
    vocabulary, and page-token look-alikes: URL-safe base64 of a known prefix followed by
    digits that are not ASCII, too many digits, signs or random text."""
    parts: list[st.SearchStrategy[str]] = [
        st.sampled_from(HOSTILE_TEXT),
        st.text(max_size=40),
        st.text(st.characters(codec="ascii"), max_size=12),
        st.builds(
            lambda c, n: c * n,
            st.sampled_from("x{é志\x00\U0001f4a9"),
            st.sampled_from([n for n in LONG_LENGTHS if n <= longest]),
        ),
    ]
    if vocabulary:
        vocab = st.sampled_from(sorted(set(vocabulary)))
        parts.append(vocab)
        parts.append(st.builds(lambda v, s: v + s, vocab, st.sampled_from(HOSTILE_TEXT)))
    if token_prefixes:
        parts.append(tokens(token_prefixes))
    return st.one_of(parts)


def tokens(prefixes: Sequence[str]) -> st.SearchStrategy[str]:
    """Page-token look-alikes: URL-safe base64 of a known prefix and a hostile tail."""
    tails = st.one_of(
        st.sampled_from(TOKEN_TAILS), st.integers(-1, 10**30).map(str), st.text(max_size=8)
    )
    return st.builds(
        lambda p, t: base64.urlsafe_b64encode((p + t).encode()).decode(),
        st.sampled_from(list(prefixes)),
        tails,
    )


def integers(lo: int, hi: int) -> st.SearchStrategy[int]:
    edges = sorted(
        {v for v in (lo, hi, lo + 1, hi - 1, 0, 1, -1, 2, 5, 6, 7, 24, 1000) if lo <= v <= hi}
    )
    return st.one_of(
        st.sampled_from(edges), st.integers(max(lo, -10), min(hi, 1_000)), st.integers(lo, hi)
    )


def doubles() -> st.SearchStrategy[float]:
    return st.one_of(
        st.sampled_from(_DOUBLE_EDGES),
        st.floats(-200, 200),
        st.floats(allow_nan=True, allow_infinity=True),
    )


def floats32() -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from(_FLOAT_EDGES), st.floats(width=32))


def timestamp_seconds() -> st.SearchStrategy[int]:
    """Any int64, weighted towards the valid range's edges and the test day."""
    edges = (TIMESTAMP_MIN, TIMESTAMP_MIN - 1, TIMESTAMP_MAX, TIMESTAMP_MAX + 1, 0, -1, *INT64)
    return st.one_of(
        st.sampled_from(edges),
        st.integers(1_655_280_000, 1_655_380_000),
        st.integers(*INT64),
    )


def nanos() -> st.SearchStrategy[int]:
    return st.one_of(
        st.just(0), st.sampled_from([-1, 999_999_999, 1_000_000_000, *INT32]), st.integers(*INT32)
    )


_WELL_KNOWN_TIME = ("google.protobuf.Timestamp", "google.protobuf.Duration")


class ProtoStrategies:
    """Strategies for the fields and messages of one vocabulary, cached per descriptor."""

    def __init__(self, vocabulary: Sequence[str] = (), token_prefixes: Sequence[str] = ()) -> None:
        self._text = text(vocabulary, token_prefixes)
        self._tokens = tokens(token_prefixes) if token_prefixes else self._text
        # elements of huge repeated fields: strings short enough that 5000 of them stay small
        self._short_text = text(vocabulary, token_prefixes, longest=600)
        self._cache: dict[tuple[str, int, bool], st.SearchStrategy[Message]] = {}

    def message(
        self, descriptor: Descriptor, depth: int = MAX_DEPTH, huge: bool = True
    ) -> st.SearchStrategy[Message]:
        """Messages of ``descriptor``: each field set or left unset at random."""
        key = (descriptor.full_name, depth, huge)
        if key not in self._cache:
            self._cache[key] = self._build(descriptor, depth, huge)
        return self._cache[key]

    def _build(self, descriptor: Descriptor, depth: int, huge: bool) -> st.SearchStrategy[Message]:
        cls = message_factory.GetMessageClass(descriptor)
        if descriptor.full_name in _WELL_KNOWN_TIME:
            return st.builds(lambda s, n: cls(seconds=s, nanos=n), timestamp_seconds(), nanos())
        fields = [f for f in descriptor.fields if depth > 0 or not _is_message(f)]
        values = {f.name: st.one_of(st.none(), self.value(f, depth, huge)) for f in fields}

        def assemble(drawn: dict[str, Any]) -> Message:
            msg = cls()
            for name, value in drawn.items():
                if value is not None:
                    assign(msg, descriptor.fields_by_name[name], value)
            return msg

        return st.fixed_dictionaries(values).map(assemble)

    def value(
        self, field: FieldDescriptor, depth: int = MAX_DEPTH, huge: bool = True
    ) -> st.SearchStrategy[Any]:
        """A whole value for ``field``: a list (repeated), a dict (map) or one element."""
        if _is_map(field):
            entry = field.message_type
            keys = self.element(entry.fields_by_name["key"], depth - 1, False)
            vals = self.element(entry.fields_by_name["value"], depth - 1, False)
            return st.dictionaries(keys, vals, max_size=4)
        element = self.element(field, depth - 1 if _is_message(field) else depth, huge)
        if not field.is_repeated:
            return element
        if not huge:
            return st.lists(element, max_size=4)
        small = self.element(field, depth - 1 if _is_message(field) else depth, False)
        return st.one_of(
            st.lists(element, max_size=4),
            st.builds(lambda x, n: [x] * n, small, st.integers(50, HUGE_REPEAT)),
        )

    def element(self, field: FieldDescriptor, depth: int, huge: bool) -> st.SearchStrategy[Any]:
        """One (non-repeated) value of ``field``'s type."""
        kind = field.cpp_type
        if kind == FieldDescriptor.CPPTYPE_MESSAGE:
            return self.message(field.message_type, max(depth, 0), huge)
        if kind == FieldDescriptor.CPPTYPE_STRING:
            if field.type == FieldDescriptor.TYPE_BYTES:
                return st.one_of(
                    st.binary(max_size=64), st.sampled_from([b"", b"\x00", b"\xff" * 1000])
                )
            if field.name.endswith("token"):  # page tokens: mostly look-alikes
                return st.one_of(self._tokens, self._text)
            return self._text if huge else self._short_text
        if kind == FieldDescriptor.CPPTYPE_ENUM:
            known = [v.number for v in field.enum_type.values]
            if getattr(field.enum_type, "is_closed", False):
                return st.sampled_from(known)
            return st.one_of(st.sampled_from(known), integers(*INT32))
        return _SCALARS[kind]()


_SCALARS: dict[int, Callable[[], st.SearchStrategy[Any]]] = {
    FieldDescriptor.CPPTYPE_INT32: lambda: integers(*INT32),
    FieldDescriptor.CPPTYPE_INT64: lambda: integers(*INT64),
    FieldDescriptor.CPPTYPE_UINT32: lambda: integers(*UINT32),
    FieldDescriptor.CPPTYPE_UINT64: lambda: integers(*UINT64),
    FieldDescriptor.CPPTYPE_DOUBLE: doubles,
    FieldDescriptor.CPPTYPE_FLOAT: floats32,
    FieldDescriptor.CPPTYPE_BOOL: st.booleans,
}


def _is_message(field: FieldDescriptor) -> bool:
    return field.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE


def _is_map(field: FieldDescriptor) -> bool:
    return field.is_repeated and _is_message(field) and field.message_type.GetOptions().map_entry


def assign(msg: Message, field: FieldDescriptor, value: Any) -> None:
    """Set ``field`` of ``msg`` to ``value`` (a list for repeated fields, a dict for maps)."""
    if _is_map(field):
        target = getattr(msg, field.name)
        target.clear()
        for k, v in value.items():
            if _is_message(field.message_type.fields_by_name["value"]):
                target[k].CopyFrom(v)
            else:
                target[k] = v
    elif field.is_repeated:
        target = getattr(msg, field.name)
        del target[:]
        target.extend(value)
    elif _is_message(field):
        getattr(msg, field.name).CopyFrom(value)
    else:
        setattr(msg, field.name, value)


# --- mutations of valid messages ------------------------------------------------------------

Slot = tuple[Message, FieldDescriptor, int | None]  # (parent, field, index in a repeated field)


def slots(msg: Message, depth: int = MAX_DEPTH) -> list[Slot]:
    """Every place a mutation can go: each field of each message in the tree (set or not),
    and each element of each repeated field (the first few)."""
    found: list[Slot] = []
    for field in msg.DESCRIPTOR.fields:
        found.append((msg, field, None))
        if _is_map(field):
            continue
        if field.is_repeated:
            items = getattr(msg, field.name)
            for i in range(min(len(items), 4)):
                found.append((msg, field, i))
                if _is_message(field) and depth > 0:
                    found.extend(slots(items[i], depth - 1))
        elif _is_message(field) and depth > 0 and msg.HasField(field.name):
            found.extend(slots(getattr(msg, field.name), depth - 1))
    return found


def mutants(
    seeds: Sequence[Message], fields: ProtoStrategies, most: int = 3
) -> st.SearchStrategy[Message]:
    """A copy of one seed with up to ``most`` slots (mostly one) set to hostile values or
    cleared; now and then the seed unchanged."""

    @st.composite
    def build(draw: st.DrawFn) -> Message:
        msg = type(seeds[0])()
        msg.CopyFrom(draw(st.sampled_from(seeds)))
        for _ in range(draw(st.sampled_from([0, *range(1, most + 1), 1, 1]))):
            places = slots(msg)
            if not places:
                break
            parent, field, index = draw(st.sampled_from(places))
            if index is None and draw(st.integers(0, 4)) == 0:
                parent.ClearField(field.name)
            elif index is None:
                assign(parent, field, draw(fields.value(field)))
            elif _is_message(field):
                getattr(parent, field.name)[index].CopyFrom(draw(fields.element(field, 2, False)))
            else:
                getattr(parent, field.name)[index] = draw(fields.element(field, 0, False))
        return msg

    return build()
