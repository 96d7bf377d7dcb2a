"""JSON Schemas (OpenAPI 3.0 dialect) of messages and enums, in the proto3 JSON mapping.

=========================== ===================================================================
proto                       JSON schema
=========================== ===================================================================
double, float               number
int32, sint32, sfixed32     integer (int32)
uint32, fixed32             integer in [0, 4294967295]
int64, sint64, sfixed64     string of decimal digits (format int64); numbers are accepted too
uint64, fixed64             string of decimal digits (format uint64)
bool / string / bytes       boolean / string / base64 string
enum                        string, one of the value names
message                     object of lowerCamelCase properties, unknown ones rejected
repeated / map              array / object with string keys
google.protobuf.Timestamp   RFC 3339 date-time string (``2022-06-15T09:00:00Z``)
google.protobuf.Duration    string of seconds with an ``s`` (``1.5s``)
wrappers                    the wrapped scalar
=========================== ===================================================================

Every message and enum becomes one component named by its full name (``matcher.v1.GeoPoint``),
described by its proto comment; each property is described by its field's comment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from gateway.comments import split_example

JsonObject = dict[str, Any]
REF_PREFIX = "#/components/schemas/"

_T = FieldDescriptor
_INT64 = {"type": "string", "format": "int64", "pattern": r"^-?[0-9]{1,19}$"}
_UINT64 = {"type": "string", "format": "uint64", "pattern": r"^[0-9]{1,20}$"}
_UINT32 = {"type": "integer", "format": "int64", "minimum": 0, "maximum": 4_294_967_295}
SCALARS: Mapping[int, JsonObject] = {
    _T.TYPE_DOUBLE: {"type": "number", "format": "double"},
    _T.TYPE_FLOAT: {"type": "number", "format": "float"},
    _T.TYPE_INT32: {"type": "integer", "format": "int32"},
    _T.TYPE_SINT32: {"type": "integer", "format": "int32"},
    _T.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    _T.TYPE_UINT32: _UINT32,
    _T.TYPE_FIXED32: _UINT32,
    _T.TYPE_INT64: _INT64,
    _T.TYPE_SINT64: _INT64,
    _T.TYPE_SFIXED64: _INT64,
    _T.TYPE_UINT64: _UINT64,
    _T.TYPE_FIXED64: _UINT64,
    _T.TYPE_BOOL: {"type": "boolean"},
    _T.TYPE_STRING: {"type": "string"},
    _T.TYPE_BYTES: {"type": "string", "format": "byte"},
}
WELL_KNOWN: Mapping[str, JsonObject] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$"},
    "google.protobuf.FieldMask": {"type": "string"},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Empty": {"type": "object", "additionalProperties": False},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
        "additionalProperties": True,
    },
    "google.protobuf.DoubleValue": {"type": "number", "nullable": True},
    "google.protobuf.FloatValue": {"type": "number", "nullable": True},
    "google.protobuf.Int64Value": {**_INT64, "nullable": True},
    "google.protobuf.UInt64Value": {**_UINT64, "nullable": True},
    "google.protobuf.Int32Value": {"type": "integer", "format": "int32", "nullable": True},
    "google.protobuf.UInt32Value": {**_UINT32, "nullable": True},
    "google.protobuf.BoolValue": {"type": "boolean", "nullable": True},
    "google.protobuf.StringValue": {"type": "string", "nullable": True},
    "google.protobuf.BytesValue": {"type": "string", "format": "byte", "nullable": True},
}


class SchemaBuilder:
    """Collects component schemas while building references to them."""

    def __init__(self, comments: Mapping[str, str]) -> None:
        self.comments = comments
        self.components: dict[str, JsonObject] = {}

    def message(self, descriptor: Descriptor) -> JsonObject:
        """A schema for a message: a reference, or inline for a well-known type."""
        if descriptor.full_name in WELL_KNOWN:
            return dict(WELL_KNOWN[descriptor.full_name])
        name = descriptor.full_name
        if name not in self.components:
            self.components[name] = {}  # reserve first: messages may be recursive
            self.components[name] = self._object(descriptor)
        return {"$ref": REF_PREFIX + name}

    def enum(self, descriptor: EnumDescriptor) -> JsonObject:
        """A reference to a string enum listing the value names (and their comments)."""
        name = descriptor.full_name
        if name not in self.components:
            lines = [self.comments.get(name, "")]
            for value in descriptor.values:
                note = self.comments.get(f"{name}.{value.name}", "").replace("\n", " ")
                lines.append(f"- `{value.name}`: {note}" if note else f"- `{value.name}`")
            self.components[name] = {
                "type": "string",
                "enum": [value.name for value in descriptor.values],
                "description": "\n".join(lines).strip(),
            }
        return {"$ref": REF_PREFIX + name}

    def field(self, field: FieldDescriptor, *, describe: bool = True) -> JsonObject:
        """The schema of a field's JSON value, described by the field's comment."""
        entry = field.message_type
        if entry is not None and entry.GetOptions().map_entry:
            value = entry.fields_by_name["value"]
            schema: JsonObject = {"type": "object", "additionalProperties": self._single(value)}
        elif field.is_repeated:
            schema = {"type": "array", "items": self._single(field)}
        else:
            schema = self._single(field)
        description = self.comments.get(field.full_name, "") if describe else ""
        if description:
            # OpenAPI 3.0 ignores siblings of $ref, so a described reference is wrapped
            schema = {"allOf": [schema]} if "$ref" in schema else schema
            schema["description"] = description
        return schema

    def _single(self, field: FieldDescriptor) -> JsonObject:
        if field.message_type is not None:
            return self.message(field.message_type)
        if field.enum_type is not None:
            return self.enum(field.enum_type)
        return dict(SCALARS[field.type])

    def _object(self, descriptor: Descriptor) -> JsonObject:
        schema: JsonObject = {
            "type": "object",
            "properties": {f.json_name: self.field(f) for f in descriptor.fields},
            "additionalProperties": False,
        }
        description, _ = split_example(self.comments.get(descriptor.full_name, ""))
        if description:  # the example goes on the request body (gateway.openapi)
            schema["description"] = description
        return schema
