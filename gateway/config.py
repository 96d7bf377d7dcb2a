"""Gateway settings: every default in one place, read once from MATCHER_GATEWAY_* variables.

``GatewaySettings.from_env(os.environ)`` at the entry point (tests pass a plain dict); the
command-line flags of ``python -m gateway`` / ``matcher gateway`` override them. Invalid values
raise ``matcher.config.ConfigError`` naming the variable, so a bad deployment fails at start-up.

======================================== ================ =========================================
variable                                 default          meaning
======================================== ================ =========================================
MATCHER_GATEWAY_GRPC_TARGET              127.0.0.1:50051  the gRPC server the gateway calls
MATCHER_GATEWAY_HOST                     127.0.0.1        address the HTTP server binds
MATCHER_GATEWAY_PORT                     8080             HTTP port; 0 picks a free one
MATCHER_GATEWAY_MAX_BODY_BYTES           67108864         largest request body (64 MiB); more is 413
MATCHER_GATEWAY_DEFAULT_TIMEOUT_SECONDS  30               deadline of a unary call without
                                                          a ``grpc-timeout`` header
MATCHER_GATEWAY_MAX_TIMEOUT_SECONDS      300              cap on any deadline a client asks for
MATCHER_GATEWAY_MAX_MESSAGE_BYTES        268435456        largest gRPC response accepted (256 MiB,
                                                          the server's default limit)
MATCHER_GATEWAY_GRPC_TLS_CA_FILE         (empty)          PEM CA the server's certificate must
                                                          chain to: set it to call a TLS server
MATCHER_GATEWAY_GRPC_TLS_CERT_FILE       (empty)          client certificate for a server that
                                                          requires one (mutual TLS)
MATCHER_GATEWAY_GRPC_TLS_KEY_FILE        (empty)          key of that client certificate
======================================== ================ =========================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from matcher.config import ConfigError, env_values, parse_number, replace_fields

PREFIX = "MATCHER_GATEWAY_"
_INT32_MAX = 2**31 - 1


def env_name(field_name: str) -> str:
    """The variable of a field (``max_body_bytes`` -> ``MATCHER_GATEWAY_MAX_BODY_BYTES``)."""
    return PREFIX + field_name.upper()


@dataclass(frozen=True)
class GatewaySettings:
    """Everything the gateway can be configured with; validated on construction."""

    grpc_target: str = "127.0.0.1:50051"
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = 64 * 1024 * 1024
    default_timeout_seconds: float = 30.0
    max_timeout_seconds: float = 300.0
    max_message_bytes: int = 256 * 1024 * 1024
    grpc_tls_ca_file: str = ""
    grpc_tls_cert_file: str = ""
    grpc_tls_key_file: str = ""

    def __post_init__(self) -> None:
        _check(self.grpc_target.strip() != "", "grpc_target", "must not be empty (HOST:PORT)")
        _check(self.host.strip() != "", "host", "must not be empty")
        _check(0 <= self.port <= 65_535, "port", "must be in [0, 65535]")
        _check(1 <= self.max_body_bytes <= _INT32_MAX, "max_body_bytes", "must be >= 1")
        for name in ("default_timeout_seconds", "max_timeout_seconds"):
            value = getattr(self, name)
            _check(math.isfinite(value) and value > 0, name, "must be a finite number > 0")
        _check(
            self.default_timeout_seconds <= self.max_timeout_seconds,
            "default_timeout_seconds",
            f"must be at most {env_name('max_timeout_seconds')}",
        )
        _check(
            1024 <= self.max_message_bytes <= _INT32_MAX,
            "max_message_bytes",
            f"must be in [1024, {_INT32_MAX}]",
        )
        for name, other in (
            ("grpc_tls_cert_file", "grpc_tls_key_file"),
            ("grpc_tls_key_file", "grpc_tls_cert_file"),
        ):
            _check(
                getattr(self, name) == "" or getattr(self, other) != "",
                name,
                f"needs {env_name(other)} too",
            )
        _check(
            self.grpc_tls_cert_file == "" or self.grpc_tls_ca_file != "",
            "grpc_tls_cert_file",
            f"needs {env_name('grpc_tls_ca_file')} (a client certificate is sent over TLS only)",
        )

    @property
    def grpc_tls(self) -> bool:
        """Whether the gateway calls the gRPC server over TLS."""
        return self.grpc_tls_ca_file != ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> GatewaySettings:
        """Settings from the MATCHER_GATEWAY_* entries of ``environ``; absent ones keep their
        default."""
        return cls(**env_values(cls, environ, PREFIX, _parse))

    def with_overrides(self, **changes: Any) -> GatewaySettings:
        """A copy with some fields replaced (for flags); ``None`` values are ignored."""
        return replace_fields(self, changes, "gateway setting")


def _parse(name: str, raw: str, kind: str) -> object:
    return parse_number(env_name(name), raw, kind) if kind in ("int", "float") else raw


def _check(ok: bool, name: str, problem: str) -> None:
    if not ok:
        raise ConfigError(f"{env_name(name)} {problem}")
