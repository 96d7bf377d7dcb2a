"""HTTP bindings read from the ``google.api.http`` options of service descriptors.

The protos are the one source of truth: each rpc's ``HttpRule`` (and its
``additional_bindings``) names an HTTP method, a path template and which part of the request
the body fills. ``bindings_for`` reads them once at start-up and fails loudly on a rule that
names a field the request does not have. ``RouteTable.resolve`` then finds the binding for an
HTTP method and path, or raises the gateway's 404 / 405 error.

Paths are matched as sent, percent-encoded (``request_path``), and a variable's value is
decoded after the match, as ``google/api/http.proto`` specifies: ``/v1/volunteers/a%2Fb`` is
the volunteer ``a/b``, and ``/v1/orders/o-1%3Acancel`` is the order ``o-1:cancel``, not the
``:cancel`` verb. Encoded unreserved characters (``%41`` for ``A``) are decoded first, as
RFC 3986 section 6.2.2.2 allows.

Path templates follow ``google/api/http.proto``: ``/v1/volunteers/{volunteer_id}``,
``/v1/{name=volunteers/*}``, and a custom verb ``/v1/volunteers:batchUpsert``. A variable
matches one segment (``*``) unless its sub-template says otherwise (``**`` = the rest).
Unnamed wildcards outside a variable are not supported (no rpc uses them).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import grpc
from google.api import annotations_pb2, http_pb2  # type: ignore[import-untyped]
from google.protobuf.descriptor import (
    Descriptor,
    FieldDescriptor,
    MethodDescriptor,
    ServiceDescriptor,
)

from gateway.errors import GatewayError, gateway_error

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class PathTemplate:
    """A compiled path template; regex group ``v<i>`` holds ``variables[i]``."""

    text: str
    regex: re.Pattern[str]
    variables: tuple[str, ...]
    openapi_path: str
    specificity: tuple[int, int]

    def match(self, path: str) -> dict[str, str] | None:
        """The variables' values (field path -> decoded text) if ``path`` (percent-encoded)
        matches, else None."""
        found = self.regex.fullmatch(path)
        if found is None:
            return None
        return {field: unquote(found.group(f"v{i}")) for i, field in enumerate(self.variables)}


@dataclass(frozen=True)
class Binding:
    """One HTTP route of one rpc."""

    method: MethodDescriptor
    http_method: str  # upper case
    template: PathTemplate
    body: str  # "" (no body), "*" (the whole request) or a top-level request field
    response_body: str  # "" (the whole response) or a top-level response field

    @property
    def grpc_path(self) -> str:
        """``/package.Service/Method``, the path of the gRPC call."""
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def server_streaming(self) -> bool:
        """Whether the rpc streams responses (served as Server-Sent Events)."""
        return bool(self.method.server_streaming)


def parse_template(text: str) -> PathTemplate:
    """Compile an ``HttpRule`` path template; ``ValueError`` if it is malformed."""
    if not text.startswith("/"):
        raise ValueError(f"path template {text!r} must start with '/'")
    path, verb = _split_verb(text)
    regex: list[str] = []
    openapi: list[str] = []
    variables: list[str] = []
    literals = 0
    for segment in _split_top(path[1:], "/"):
        if segment.startswith("{") and segment.endswith("}"):
            field, equals, sub = segment[1:-1].partition("=")
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", field):
                raise ValueError(f"bad variable {segment!r} in path template {text!r}")
            inner = _wildcards(sub.split("/") if equals else ["*"], text)
            regex.append(f"(?P<v{len(variables)}>{inner})")
            variables.append(field)
            openapi.append(f"{{{field}}}")
        elif segment and not set(segment) & set("{}*"):
            regex.append(re.escape(segment))
            openapi.append(segment)
            literals += 1
        else:
            raise ValueError(f"unsupported segment {segment!r} in path template {text!r}")
    suffix = f":{verb}" if verb else ""
    return PathTemplate(
        text=text,
        regex=re.compile("/" + "/".join(regex) + re.escape(suffix)),
        variables=tuple(variables),
        openapi_path="/" + "/".join(openapi) + suffix,
        specificity=(1 if verb else 0, literals),
    )


def _split_verb(text: str) -> tuple[str, str]:
    """``("/v1/volunteers", "batchUpsert")`` for ``/v1/volunteers:batchUpsert``."""
    depth, last_slash, last_colon = 0, -1, -1
    for i, char in enumerate(text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0 and char == "/":
            last_slash = i
        elif depth == 0 and char == ":":
            last_colon = i
    if last_colon > last_slash:
        return text[:last_colon], text[last_colon + 1 :]
    return text, ""


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside braces."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _wildcards(segments: Sequence[str], text: str) -> str:
    """The regex of a variable's sub-template (``*``, ``**`` and literals)."""
    out = []
    for i, segment in enumerate(segments):
        if segment == "*":
            out.append("[^/]+")
        elif segment == "**" and i == len(segments) - 1:
            out.append(".+")
        elif segment and not set(segment) & set("{}*=:"):
            out.append(re.escape(segment))
        else:
            raise ValueError(f"unsupported sub-template {segment!r} in {text!r}")
    return "/".join(out)


def bindings_for(services: Iterable[ServiceDescriptor]) -> list[Binding]:
    """Every binding of every annotated rpc of ``services``.

    Raises ``ValueError`` for a rule that names a field the request (or response) lacks, or
    for a client-streaming rpc (HTTP/1.1 request bodies are not streams of messages). Rpcs
    without an annotation are not exposed.
    """
    bindings: list[Binding] = []
    for service in services:
        for method in service.methods:
            options = method.GetOptions()
            if not options.HasExtension(annotations_pb2.http):
                continue
            if method.client_streaming:
                raise ValueError(f"{method.full_name}: client-streaming rpcs cannot be mapped")
            rule = options.Extensions[annotations_pb2.http]
            for one in (rule, *rule.additional_bindings):
                bindings.append(_binding(method, one))
    return bindings


def _binding(method: MethodDescriptor, rule: http_pb2.HttpRule) -> Binding:
    kind = rule.WhichOneof("pattern")
    if kind not in HTTP_METHODS:
        raise ValueError(f"{method.full_name}: unsupported HTTP pattern {kind!r}")
    template = parse_template(getattr(rule, kind))
    for variable in template.variables:
        field = resolve_field(method.input_type, variable.split("."))
        if field is None or field.is_repeated or field.message_type:
            raise ValueError(
                f"{method.full_name}: path variable {variable!r} is not a scalar field"
            )
    for name, message in ((rule.body, method.input_type), (rule.response_body, method.output_type)):
        if name not in ("", "*") and name not in message.fields_by_name:
            raise ValueError(f"{method.full_name}: {message.full_name} has no field {name!r}")
    return Binding(method, kind.upper(), template, rule.body, rule.response_body)


def resolve_field(message: Descriptor, path: Sequence[str]) -> FieldDescriptor | None:
    """The field at a dotted path (each part its proto name or JSON name), or None."""
    field: FieldDescriptor | None = None
    current: Descriptor | None = message
    for part in path:
        if current is None or (field is not None and field.is_repeated):
            return None
        field = current.fields_by_name.get(part) or current.fields_by_camelcase_name.get(part)
        if field is None:
            return None
        current = field.message_type
    return field


class RouteTable:
    """Finds the binding of an HTTP request.

    A path that matches a template with a custom verb (``/v1/orders/o-1:cancel``) is that
    verb's route only, as grpc-gateway reads it: it is not also ``/v1/orders/{order_id}`` with
    the id ``o-1:cancel``. Otherwise templates with more literal segments come first.
    """

    def __init__(self, bindings: Iterable[Binding]) -> None:
        self.bindings = sorted(bindings, key=lambda b: b.template.specificity, reverse=True)

    def resolve(self, http_method: str, path: str) -> tuple[Binding, dict[str, str]]:
        """The binding and path variables for a request, or a 404 / 405 ``GatewayError``."""
        matches = [(b, v) for b in self.bindings if (v := b.template.match(path)) is not None]
        if any(b.template.specificity[0] for b, _ in matches):
            matches = [(b, v) for b, v in matches if b.template.specificity[0]]
        for binding, variables in matches:
            if binding.http_method == http_method:
                return binding, variables
        if matches:
            raise method_not_allowed(http_method, path, {b.http_method for b, _ in matches})
        raise not_found(path)


def request_path(scope: Mapping[str, Any]) -> str:
    """The request's path below the app's root, percent-encoded as the client sent it (with
    encoded unreserved characters decoded). Falls back to the decoded path when the server
    gives no ``raw_path`` that agrees with it."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root + "/"):
        path = path[len(root) :]
    try:
        raw = bytes(scope.get("raw_path") or b"").decode("ascii")
    except UnicodeDecodeError:
        return path
    for candidate in (raw, raw[len(root) :] if root and raw.startswith(root + "/") else ""):
        if candidate and unquote(candidate) == path:
            return _ESCAPE.sub(_decode_unreserved, candidate)
    return path


def _decode_unreserved(escape: re.Match[str]) -> str:
    char = chr(int(escape.group(1), 16))
    return char if char in _UNRESERVED else escape.group(0).upper()


def method_not_allowed(http_method: str, path: str, allowed: Iterable[str]) -> GatewayError:
    """405 for a path that exists with other methods, naming them in ``Allow``."""
    methods = ", ".join(sorted(set(allowed)))
    return gateway_error(
        405,
        grpc.StatusCode.UNIMPLEMENTED,
        f"method {http_method} is not allowed on {path}; allowed: {methods}",
        "METHOD_NOT_ALLOWED",
        headers={"Allow": methods},
    )


def not_found(path: str) -> GatewayError:
    """404 for a path no rpc is bound to."""
    return gateway_error(
        404,
        grpc.StatusCode.NOT_FOUND,
        f"no rpc is bound to {path} (see /openapi.json or /docs)",
        "NO_ROUTE",
    )
