"""HTTP request parts -> request message, and response message -> JSON.

Both directions use the canonical proto3 JSON mapping (``google.protobuf.json_format``):

- A request is built in three steps, each merged into the same message: the JSON body (the
  whole request for ``body: "*"``, one field for ``body: "field"``), then the query parameters
  (only fields bound by neither the path nor the body), then the path variables (which win).
- Field names: the body and query may use the JSON name (``volunteersNeeded``) or the proto
  name (``volunteers_needed``); nested fields in the query are dotted (``center.lat=36.2``),
  repeated fields repeat the key (``branchIds=a&branchIds=b``).
- Unknown fields, wrong types and out-of-range values are 400 INVALID_ARGUMENT naming the field.
- Responses are lowerCamelCase JSON (``preserving_proto_field_name=False``) with every field
  present, defaults included (``"unassigned": []``); 64-bit integers are strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from gateway.errors import GatewayError, bad_request
from gateway.http_rules import Binding, resolve_field

#: Message types whose JSON form is a string, so a query parameter may set them whole.
STRING_MESSAGES = frozenset(
    {
        "google.protobuf.Timestamp",
        "google.protobuf.Duration",
        "google.protobuf.FieldMask",
        *(
            f"google.protobuf.{kind}Value"
            for kind in ("Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool")
        ),
        "google.protobuf.StringValue",
        "google.protobuf.BytesValue",
    }
)
_BOOLS = {"true": True, "false": False, "1": True, "0": False}
_AT_PATH = re.compile(r" at ([A-Za-z_][\w.\[\]]*?)\.*$")
_FAILED = re.compile(r"Failed to parse (\S+) field: ")
_UNKNOWN = re.compile(r'has no field named "([^"]+)" at "([^"]*)"')
_KNOWN = re.compile(r'Available Fields\(except extensions\): "(\[[^\]]*\])"')


def build_request(
    binding: Binding,
    message: Message,
    path_vars: Mapping[str, str],
    query: Sequence[tuple[str, str]],
    body: Any,
) -> Message:
    """Fill ``message`` (a fresh request) from the body, query and path; 400 on bad input.

    ``body`` is the decoded JSON (``None`` when there was no body).
    """
    descriptor: Descriptor = message.DESCRIPTOR  # type: ignore[assignment]
    if binding.body == "*":
        body = {} if body is None else body
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object")
        _parse_into(body, message)
    elif binding.body and body is not None:
        field = message.DESCRIPTOR.fields_by_name[binding.body]
        _parse_into({field.json_name: body}, message)
    if query:
        if binding.body == "*":
            names = ", ".join(sorted({name for name, _ in query}))
            raise bad_request(f"query parameters are not accepted here (got {names})")
        taken = {*binding.template.variables, binding.body}
        _parse_into(query_to_json(descriptor, query, taken), message)
    if path_vars:
        _parse_into(query_to_json(descriptor, list(path_vars.items()), set()), message)
    return message


def decode_json(raw: bytes) -> Any:
    """The JSON value of a body (``None`` if empty); 400 for malformed JSON or NaN literals."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except RecursionError:
        raise bad_request("the request body is nested too deeply") from None
    except ValueError as err:  # JSONDecodeError, UnicodeDecodeError, huge integers
        raise bad_request(f"the request body is not valid JSON: {err}") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (send the string {json.dumps(name)} instead)")


def query_to_json(
    descriptor: Descriptor, pairs: Sequence[tuple[str, str]], taken: set[str]
) -> dict[str, Any]:
    """Nested proto3 JSON from ``name=value`` pairs (dotted names; repeated keys for lists)."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        parts = name.split(".")
        field = resolve_field(descriptor, parts)
        if field is None:
            raise bad_request(f"unknown query parameter {name!r}", [(name, "no such field")])
        if _canonical(descriptor, parts) & taken:
            raise bad_request(
                f"query parameter {name!r} is set by the path or body",
                [(name, "set by the path or body")],
            )
        _set_leaf(out, descriptor, parts, field, name, value)
    return out


def _canonical(descriptor: Descriptor, parts: Sequence[str]) -> set[str]:
    """The dotted proto-name prefixes of a (possibly camelCase) path, for the taken-check."""
    names: list[str] = []
    current: Descriptor | None = descriptor
    for part in parts:
        if current is None:
            break
        field = current.fields_by_name.get(part) or current.fields_by_camelcase_name.get(part)
        if field is None:
            break
        names.append(field.name)
        current = field.message_type
    return {".".join(names[: i + 1]) for i in range(len(names))}


def _set_leaf(
    out: dict[str, Any],
    descriptor: Descriptor,
    parts: Sequence[str],
    field: FieldDescriptor,
    name: str,
    value: str,
) -> None:
    if field.message_type is not None and field.message_type.full_name not in STRING_MESSAGES:
        raise bad_request(
            f"query parameter {name!r} is a message: set its fields ({name}.<field>=...)",
            [(name, "is a message")],
        )
    node, current = out, descriptor
    for part in parts[:-1]:  # resolve_field has checked that each part exists
        sub = current.fields_by_name.get(part) or current.fields_by_camelcase_name[part]
        node = node.setdefault(sub.json_name, {})
        current = sub.message_type  # type: ignore[assignment]  # not None: a message field
    converted = _scalar(field, name, value)
    if field.is_repeated:
        node.setdefault(field.json_name, []).append(converted)
    elif field.json_name in node:
        raise bad_request(f"query parameter {name!r} is given more than once", [(name, "repeated")])
    else:
        node[field.json_name] = converted


def _scalar(field: FieldDescriptor, name: str, value: str) -> Any:
    """Text to the JSON value json_format expects (it parses numbers and enums from strings)."""
    if field.type == FieldDescriptor.TYPE_BOOL:
        if value.lower() not in _BOOLS:
            raise bad_request(f"query parameter {name!r}: expected true or false, got {value!r}")
        return _BOOLS[value.lower()]
    return value


def _parse_into(data: dict[str, Any], message: Message) -> None:
    """``json_format.ParseDict`` (unknown fields rejected), errors as 400 naming the field."""
    try:
        json_format.ParseDict(data, message, ignore_unknown_fields=False)
    except json_format.ParseError as err:
        raise _parse_error(message.DESCRIPTOR.full_name, str(err)) from None
    except RecursionError:
        raise bad_request("the request body is nested too deeply") from None


def _parse_error(type_name: str, text: str) -> GatewayError:
    """A json_format error as 400 naming the field (json_format's text is parsed best-effort:
    the message is always the full reason, the field violation only when a path is found)."""
    text = " ".join(text.split())
    unknown = _UNKNOWN.search(text)
    if unknown:
        parent = unknown.group(2).partition(".")[2]
        field = f"{parent}.{unknown.group(1)}" if parent else unknown.group(1)
        known = _KNOWN.search(text)
        hint = f" (known fields: {known.group(1)})" if known else ""
        return bad_request(
            f"invalid {type_name}: unknown field {field!r}{hint}", [(field, "unknown field")]
        )
    at = _AT_PATH.search(text)
    reason = _FAILED.sub("", text[: at.start()] if at else text).rstrip(". ")
    field = at.group(1).partition(".")[2] if at else ""
    field = field or ".".join(_FAILED.findall(text))
    violations = [(field, reason)] if field else []
    where = f"{field}: " if field else ""
    return bad_request(f"invalid {type_name}: {where}{reason}", violations)


def message_to_json(message: Message, response_body: str = "") -> bytes:
    """The response as canonical proto3 JSON (lowerCamelCase, defaults included)."""
    data: Any = json_format.MessageToDict(
        message,
        preserving_proto_field_name=False,
        always_print_fields_with_no_presence=True,
    )
    if response_body:
        data = data.get(message.DESCRIPTOR.fields_by_name[response_body].json_name)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
