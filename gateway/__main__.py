"""``python -m gateway --grpc-target HOST:PORT --port P``: run the HTTP/JSON gateway.

``add_gateway_parser(subparsers)`` and ``run_gateway(args)`` let ``matcher gateway`` offer the
same command. Flags override the MATCHER_GATEWAY_* variables (``gateway.config``). Logging
handlers are configured here, at the entry point, and nowhere else in the gateway.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence

from gateway.config import GatewaySettings
from matcher.config import ConfigError

DESCRIPTION = "HTTP/JSON gateway in front of the matcher's gRPC server"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The gateway's flags (each overrides its MATCHER_GATEWAY_* variable)."""
    parser.add_argument(
        "--grpc-target", help="HOST:PORT of the gRPC server (MATCHER_GATEWAY_GRPC_TARGET)"
    )
    parser.add_argument("--host", help="address to bind (MATCHER_GATEWAY_HOST)")
    parser.add_argument("--port", type=int, help="HTTP port, 0 for any (MATCHER_GATEWAY_PORT)")
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        help="largest request body; more is 413 (MATCHER_GATEWAY_MAX_BODY_BYTES)",
    )
    parser.add_argument(
        "--default-timeout",
        type=float,
        help="seconds a call may take without a grpc-timeout header "
        "(MATCHER_GATEWAY_DEFAULT_TIMEOUT_SECONDS)",
    )
    parser.add_argument(
        "--max-timeout",
        type=float,
        help="cap on any deadline, seconds (MATCHER_GATEWAY_MAX_TIMEOUT_SECONDS)",
    )
    parser.add_argument(
        "--grpc-tls-ca",
        metavar="FILE",
        help="call the gRPC server over TLS, trusting this CA (MATCHER_GATEWAY_GRPC_TLS_CA_FILE)",
    )
    parser.add_argument(
        "--grpc-tls-cert",
        metavar="FILE",
        help="client certificate for mutual TLS (MATCHER_GATEWAY_GRPC_TLS_CERT_FILE)",
    )
    parser.add_argument(
        "--grpc-tls-key",
        metavar="FILE",
        help="key of --grpc-tls-cert (MATCHER_GATEWAY_GRPC_TLS_KEY_FILE)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=LOG_LEVELS,
        help="DEBUG, INFO, WARNING or ERROR (default INFO)",
    )


def add_gateway_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add the ``gateway`` subcommand (for ``matcher gateway``); dispatch to ``run_gateway``."""
    parser = subparsers.add_parser("gateway", help=DESCRIPTION.lower(), description=DESCRIPTION)
    add_arguments(parser)
    return parser


def settings_from(args: argparse.Namespace, environ: Mapping[str, str]) -> GatewaySettings:
    """Settings from the environment, overridden by the flags given."""
    return GatewaySettings.from_env(environ).with_overrides(
        grpc_target=args.grpc_target,
        host=args.host,
        port=args.port,
        max_body_bytes=args.max_body_bytes,
        default_timeout_seconds=args.default_timeout,
        max_timeout_seconds=args.max_timeout,
        grpc_tls_ca_file=args.grpc_tls_ca,
        grpc_tls_cert_file=args.grpc_tls_cert,
        grpc_tls_key_file=args.grpc_tls_key,
    )


def run_gateway(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    """Serve until interrupted; 2 for invalid configuration."""
    try:
        settings = settings_from(args, os.environ if environ is None else environ)
    except ConfigError as err:
        print(f"gateway: invalid configuration: {err}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from gateway.serving import run_gateway_forever

    try:
        run_gateway_forever(settings)
    except ConfigError as err:  # a TLS file that cannot be read
        print(f"gateway: invalid configuration: {err}", file=sys.stderr)
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m gateway``."""
    parser = argparse.ArgumentParser(prog="python -m gateway", description=DESCRIPTION)
    add_arguments(parser)
    return run_gateway(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
