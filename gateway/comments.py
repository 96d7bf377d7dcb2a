"""The protos' comments, keyed by full name, for the OpenAPI descriptions.

The descriptors compiled into the ``*_pb2`` modules carry no comments (protoc leaves out
``source_code_info``), so they are read from, in order:

1. ``matcher/v1/descriptor_set.binpb``, a ``FileDescriptorSet`` with source info written next
   to the stubs, when it exists;
2. the ``protos/`` directory of a source checkout, compiled at start-up with
   ``grpc_tools.protoc --include_source_info`` (about 0.1 s);
3. otherwise nothing: the document then has no descriptions (it is still complete).

Keys are full names: ``matcher.v1.MatchService.Match`` (a method), ``matcher.v1.GeoPoint.lat``
(a field), ``matcher.v1.Urgency.URGENCY_URGENT`` (an enum value).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError

import matcher.v1

logger = logging.getLogger(__name__)

DESCRIPTOR_SET = Path(matcher.v1.__file__).resolve().parent / "descriptor_set.binpb"
PROTO_ROOT = Path(__file__).resolve().parent.parent / "protos"  # in a source checkout

# Field numbers of the descriptor protos, as used in SourceCodeInfo.Location.path.
_FILE_MESSAGE, _FILE_ENUM, _FILE_SERVICE = 4, 5, 6
_MESSAGE_FIELD, _MESSAGE_NESTED, _MESSAGE_ENUM = 2, 3, 4
_ENUM_VALUE, _SERVICE_METHOD = 2, 2


def load_comments(
    file_names: Iterable[str],
    descriptor_set: Path = DESCRIPTOR_SET,
    proto_root: Path = PROTO_ROOT,
) -> dict[str, str]:
    """Comments of the named ``.proto`` files (e.g. ``matcher/v1/match.proto``) by full name."""
    wanted = sorted(set(file_names))
    files = _from_descriptor_set(descriptor_set) or _compile(proto_root, wanted)
    comments: dict[str, str] = {}
    for proto in files:
        if proto.name in wanted:
            comments.update(file_comments(proto))
    return comments


def _from_descriptor_set(path: Path) -> list[descriptor_pb2.FileDescriptorProto]:
    try:
        return list(descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes()).file)
    except (OSError, DecodeError):
        return []


def _compile(proto_root: Path, names: Sequence[str]) -> list[descriptor_pb2.FileDescriptorProto]:
    """Run protoc with source info on those of ``names`` found under ``proto_root``."""
    present = [name for name in names if (proto_root / name).is_file()]
    if not present:
        return []
    try:
        import grpc_tools  # type: ignore[import-untyped]
        from grpc_tools import protoc
    except ImportError:
        logger.info("grpcio-tools is not installed: the API document has no descriptions")
        return []
    include = Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.binpb"
        args = ["protoc", f"-I{proto_root}", f"-I{include}", "--include_source_info"]
        if protoc.main([*args, f"--descriptor_set_out={out}", *present]) != 0:
            logger.warning("protoc failed on %s: the API document has no descriptions", proto_root)
            return []
        return _from_descriptor_set(out)


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
