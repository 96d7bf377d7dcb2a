"""The protos' comments, keyed by full name, for the OpenAPI descriptions.

The descriptors compiled into the ``*_pb2`` modules carry no comments (protoc leaves out
``source_code_info``), so they are read from ``matcher/v1/descriptor_set.binpb``: a
``FileDescriptorSet`` of the same protos with source info, written beside the stubs by
``scripts/generate_stubs.py`` (whose ``--check`` keeps it in step with the protos) and shipped
in the wheel as package data. Nothing is compiled at start-up, and the protos' source files
are not needed: an installed package documents the API as fully as a source checkout. Without
the file (a broken install) the document has no descriptions, but is still complete.

Keys are full names: ``matcher.v1.MatchService.Match`` (a method), ``matcher.v1.GeoPoint.lat``
(a field), ``matcher.v1.Urgency.URGENCY_URGENT`` (an enum value).

A request message's comment may end with an example body: a line that starts with ``Example``
and ends with ``:``, then the JSON (``split_example`` separates the two; the OpenAPI document
puts the JSON on the operation's request body, where Swagger UI offers it to try out).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError

import matcher.v1

logger = logging.getLogger(__name__)

DESCRIPTOR_SET = Path(matcher.v1.__file__).resolve().parent / "descriptor_set.binpb"

# Field numbers of the descriptor protos, as used in SourceCodeInfo.Location.path.
_FILE_MESSAGE, _FILE_ENUM, _FILE_SERVICE = 4, 5, 6
_MESSAGE_FIELD, _MESSAGE_NESTED, _MESSAGE_ENUM = 2, 3, 4
_ENUM_VALUE, _SERVICE_METHOD = 2, 2
_EXAMPLE = re.compile(r"^Example\b[^\n]*:$", re.MULTILINE)


def load_comments(
    file_names: Iterable[str], descriptor_set: Path = DESCRIPTOR_SET
) -> dict[str, str]:
    """Comments of the named ``.proto`` files (e.g. ``matcher/v1/match.proto``) by full name."""
    wanted = set(file_names)
    comments: dict[str, str] = {}
    for proto in read_descriptor_set(descriptor_set):
        if proto.name in wanted:
            comments.update(file_comments(proto))
    return comments


def read_descriptor_set(path: Path = DESCRIPTOR_SET) -> list[descriptor_pb2.FileDescriptorProto]:
    """The files of a descriptor set; none (and a warning) if it is missing or unreadable."""
    try:
        return list(descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes()).file)
    except (OSError, DecodeError) as err:
        logger.warning("no proto comments (%s): the API document has no descriptions", err)
        return []


def file_comments(proto: descriptor_pb2.FileDescriptorProto) -> dict[str, str]:
    """Leading comments (else trailing ones) of every element of one file, by full name."""
    by_path = {
        tuple(loc.path): clean(loc.leading_comments or loc.trailing_comments)
        for loc in proto.source_code_info.location
    }
    names = _element_paths(proto)
    return {name: by_path[path] for path, name in names.items() if by_path.get(path)}


def _element_paths(proto: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], str]:
    """Source path -> full name of every service, method, message, field, enum and value."""
    package = f"{proto.package}." if proto.package else ""
    paths: dict[tuple[int, ...], str] = {}
    for i, service in enumerate(proto.service):
        name = package + service.name
        paths[(_FILE_SERVICE, i)] = name
        for j, method in enumerate(service.method):
            paths[(_FILE_SERVICE, i, _SERVICE_METHOD, j)] = f"{name}.{method.name}"
    for i, message in enumerate(proto.message_type):
        _message_paths(message, (_FILE_MESSAGE, i), package + message.name, paths)
    for i, enum in enumerate(proto.enum_type):
        _enum_paths(enum, (_FILE_ENUM, i), package + enum.name, paths)
    return paths


def _message_paths(
    message: descriptor_pb2.DescriptorProto,
    path: tuple[int, ...],
    name: str,
    paths: dict[tuple[int, ...], str],
) -> None:
    paths[path] = name
    for k, field in enumerate(message.field):
        paths[(*path, _MESSAGE_FIELD, k)] = f"{name}.{field.name}"
    for k, nested in enumerate(message.nested_type):
        _message_paths(nested, (*path, _MESSAGE_NESTED, k), f"{name}.{nested.name}", paths)
    for k, enum in enumerate(message.enum_type):
        _enum_paths(enum, (*path, _MESSAGE_ENUM, k), f"{name}.{enum.name}", paths)


def _enum_paths(
    enum: descriptor_pb2.EnumDescriptorProto,
    path: tuple[int, ...],
    name: str,
    paths: dict[tuple[int, ...], str],
) -> None:
    paths[path] = name
    for k, value in enumerate(enum.value):  # keyed under the enum, unlike protobuf's scoping
        paths[(*path, _ENUM_VALUE, k)] = f"{name}.{value.name}"


def clean(comment: str) -> str:
    """A comment without the one space after ``//`` and without surrounding blank lines."""
    lines = [line[1:] if line.startswith(" ") else line for line in comment.split("\n")]
    return "\n".join(lines).strip()


def split_example(comment: str) -> tuple[str, Any]:
    """The comment's text before its ``Example ...:`` line, and the JSON value after that line
    (None when there is no example); ``ValueError`` naming the problem if the JSON is bad."""
    found = _EXAMPLE.search(comment)
    if found is None:
        return comment, None
    try:
        example = json.loads(comment[found.end() :])
    except ValueError as err:
        raise ValueError(f"the example after {found.group(0)!r} is not JSON: {err}") from None
    return comment[: found.start()].strip(), example
