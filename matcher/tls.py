"""TLS for gRPC: the server's credentials from ``MATCHER_TLS_*`` and a client's from PEM files.

The server serves TLS when ``MATCHER_TLS_CERT_FILE`` and ``MATCHER_TLS_KEY_FILE`` are set
(``Settings`` checks they come together) and mutual TLS when ``MATCHER_TLS_CLIENT_CA_FILE`` is
set too: every client must then present a certificate that CA signed. Files are read once, at
start-up; one that cannot be read, or holds no PEM block, is a ``ConfigError`` naming the
variable and the path (never the file's content). The /metrics endpoint stays plain HTTP.

Clients (``matcher status``, the gateway, ``MatcherClient``) build ``grpc.ChannelCredentials``
with ``channel_credentials``: the CA that signed the server's certificate and, for mutual
TLS, their own certificate and key.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import grpc

from matcher.config import ConfigError, Settings, env_name

#: Channel option that checks the server's certificate against another name than the target's
#: host (a certificate issued for ``localhost`` reached through ``127.0.0.1``, say).
SERVER_NAME_OPTION = "grpc.ssl_target_name_override"


def read_pem(path: str, variable: str) -> bytes:
    """The bytes of the PEM file ``path``; ``ConfigError`` naming ``variable`` and ``path`` when
    it cannot be read or holds no PEM block."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise ConfigError(f"{variable}={path}: cannot read the file ({err.strerror})") from None
    if b"-----BEGIN " not in data:
        raise ConfigError(f"{variable}={path}: not a PEM file (no -----BEGIN line)")
    return data


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """The server's TLS credentials, or None when TLS is off (plaintext)."""
    if not settings.tls:
        return None
    key = read_pem(settings.tls_key_file, env_name("tls_key_file"))
    chain = read_pem(settings.tls_cert_file, env_name("tls_cert_file"))
    client_ca = settings.tls_client_ca_file
    roots = read_pem(client_ca, env_name("tls_client_ca_file")) if client_ca else None
    return grpc.ssl_server_credentials(
        [(key, chain)], root_certificates=roots, require_client_auth=roots is not None
    )


def describe(settings: Settings) -> str:
    """How the server's gRPC port is secured, for the start-up log line."""
    if not settings.tls:
        return "plaintext (no TLS)"
    return "mutual TLS (client certificates required)" if settings.tls_client_ca_file else "TLS"


def channel_credentials(
    ca_file: str,
    cert_file: str = "",
    key_file: str = "",
    *,
    names: Sequence[str] = ("--tls-ca", "--tls-cert", "--tls-key"),
) -> grpc.ChannelCredentials:
    """A client's credentials: trust the CA in ``ca_file`` (the system's roots when empty) and,
    for mutual TLS, present ``cert_file`` with ``key_file`` (both or neither). ``names`` are
    the flags or variables the three paths came from, for ``ConfigError`` messages."""
    ca_name, cert_name, key_name = names
    if (cert_file == "") != (key_file == ""):
        raise ConfigError(f"{cert_name} and {key_name} must be given together")
    return grpc.ssl_channel_credentials(
        root_certificates=read_pem(ca_file, ca_name) if ca_file else None,
        private_key=read_pem(key_file, key_name) if key_file else None,
        certificate_chain=read_pem(cert_file, cert_name) if cert_file else None,
    )
