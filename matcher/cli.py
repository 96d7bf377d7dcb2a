"""The ``matcher`` command: ``matcher serve`` runs the gRPC server, ``matcher demo`` runs a
seeded synthetic day for Gonghe County through it and prints a report, ``matcher import
volunteers FILE`` loads a volunteer file into a running server's registry, ``matcher
status`` prints a running server's health, registry and counters, ``matcher simulate``
runs a seeded day of orders, offers, services, ratings and the time bank, ``matcher keys
new`` prints a fresh API key and its keys-file entry, ``matcher store accept-empty``
lets the servers use a Redis data set that lost its data (``matcher.tools.store_admin``),
and ``matcher store migrate-keys`` rewrites keys written before ``matcher.ids``.

Logging handlers are configured here and only here.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from matcher.config import ConfigError, Settings
from matcher.observability.logs import configure_logging
from matcher.tools.volunteer_file import COLUMNS
from matcher.tools.volunteer_import import DEFAULT_BATCH_SIZE, DEFAULT_MAX_ERRORS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="matcher", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the gRPC server (MATCHER_* variables configure it)")
    serve.add_argument("--host", help="address to bind (MATCHER_HOST)")
    serve.add_argument("--port", type=int, help="port to bind, 0 for any (MATCHER_PORT)")
    serve.add_argument("--workers", type=int, help="server threads (MATCHER_WORKERS)")
    serve.add_argument("--max-requests", type=int, help="requests per Match (MATCHER_MAX_REQUESTS)")
    serve.add_argument(
        "--max-volunteers", type=int, help="volunteers per Match (MATCHER_MAX_VOLUNTEERS)"
    )
    serve.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR (MATCHER_LOG_LEVEL)")
    serve.add_argument("--log-format", help="text or json (MATCHER_LOG_FORMAT)")
    serve.add_argument(
        "--metrics-port", type=int, help="Prometheus /metrics port, -1 off (MATCHER_METRICS_PORT)"
    )
    serve.add_argument("--tracing", help="off, console or otlp (MATCHER_TRACING)")
    status = sub.add_parser("status", help="health, registry and counters of a running server")
    status.add_argument("--target", help="HOST:PORT of the server (MATCHER_HOST:MATCHER_PORT)")
    status.add_argument("--timeout", type=float, default=5.0, help="seconds per call (default 5)")
    status.add_argument(
        "--api-key",
        default=os.environ.get("MATCHER_API_KEY"),
        help="admin or dispatcher API key, when access control is on (MATCHER_API_KEY)",
    )
    _add_tls_flags(status)
    demo = sub.add_parser("demo", help="a seeded day in Gonghe County, engine vs greedy")
    demo.add_argument("--seed", type=int, default=20221, help="random seed (default 20221)")
    demo.add_argument("--requests", type=int, default=400, help="requests in the day")
    demo.add_argument("--volunteers", type=int, default=3000, help="volunteers in the pool")
    _add_import(sub)
    _add_simulate(sub)
    from matcher.tools.keys import add_keys_parser

    add_keys_parser(sub)
    from matcher.tools.store_admin import add_store_parser

    add_store_parser(sub)
    from gateway.__main__ import add_gateway_parser

    add_gateway_parser(sub)
    return parser


def _add_tls_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tls-ca", metavar="FILE", help="connect over TLS, trusting the CA certificate in FILE"
    )
    parser.add_argument("--tls-cert", metavar="FILE", help="client certificate (mutual TLS)")
    parser.add_argument("--tls-key", metavar="FILE", help="key of --tls-cert (mutual TLS)")
    parser.add_argument(
        "--tls-server-name",
        metavar="NAME",
        help="name to check the server's certificate against (default: the target's host)",
    )


def _add_simulate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    day = sub.add_parser(
        "simulate", help="a seeded day at the centre: orders, rounds, offers, ratings, hours"
    )
    day.add_argument("--seed", type=int, default=20221, help="random seed (default 20221)")
    day.add_argument("--orders", type=int, default=300, help="orders in the day (default 300)")
    day.add_argument("--volunteers", type=int, default=1500, help="volunteers (default 1500)")
    day.add_argument(
        "--window-minutes", type=float, default=5.0, help="batch window of rounds (default 5)"
    )
    day.add_argument("--accept", type=float, default=0.7, help="chance to accept (default 0.7)")
    day.add_argument("--decline", type=float, default=0.2, help="chance to decline (default 0.2)")


def _add_import(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    what = sub.add_parser("import", help="bulk-load data into a running server")
    kinds = what.add_subparsers(dest="kind", required=True)
    volunteers = kinds.add_parser(
        "volunteers",
        help="check every row of a CSV or JSON Lines file, then upsert them in batches",
        description="Columns: " + ", ".join(COLUMNS) + " (see matcher.tools.volunteer_file).",
    )
    volunteers.add_argument("file", type=Path, help="a .csv, .jsonl or .ndjson file")
    volunteers.add_argument("--target", help="HOST:PORT of the server (MATCHER_HOST:MATCHER_PORT)")
    volunteers.add_argument(
        "--only-valid", action="store_true", help="write the valid rows even if some are bad"
    )
    volunteers.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"volunteers per call (default {DEFAULT_BATCH_SIZE})",
    )
    volunteers.add_argument(
        "--max-errors",
        type=int,
        default=DEFAULT_MAX_ERRORS,
        help=f"problems printed at most, 0 for all (default {DEFAULT_MAX_ERRORS})",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``matcher`` console script."""
    args = _parser().parse_args(argv)
    try:
        settings = _settings(args)
    except ConfigError as err:
        return _invalid_configuration(err)
    configure_logging(settings.log_level, settings.log_format)
    return _COMMANDS[args.command](args, settings)


def _settings(args: argparse.Namespace) -> Settings:
    """The MATCHER_* settings, with ``matcher serve``'s flags over them."""
    settings = Settings.from_env(os.environ)
    if args.command != "serve":
        return settings
    return settings.with_overrides(
        host=args.host,
        port=args.port,
        workers=args.workers,
        max_requests=args.max_requests,
        max_volunteers=args.max_volunteers,
        log_level=args.log_level.upper() if args.log_level else None,
        log_format=args.log_format.lower() if args.log_format else None,
        metrics_port=args.metrics_port,
        tracing=args.tracing.lower() if args.tracing else None,
    )


def _invalid_configuration(err: ConfigError) -> int:
    return _refuse(f"matcher: invalid configuration: {err}")


def _refuse(message: str) -> int:
    """Print why the command cannot run; the exit status of a usage error."""
    print(message, file=sys.stderr)
    return 2


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from matcher.service.server import serve

    try:
        serve(settings)
    except ConfigError as err:  # a TLS file that cannot be read, a malformed API key
        return _invalid_configuration(err)
    return 0


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from matcher.tools.status import StatusTls, run_status

    tls = StatusTls(args.tls_ca, args.tls_cert, args.tls_key, args.tls_server_name)
    target = args.target or _default_target(settings)
    return run_status(target, timeout=args.timeout, tls=tls, api_key=args.api_key)


def _keys(args: argparse.Namespace, settings: Settings) -> int:
    from matcher.tools.keys import run_keys

    return run_keys(args)


def _store(args: argparse.Namespace, settings: Settings) -> int:
    if args.store_action == "migrate-keys":
        from matcher.tools.migrate_keys import run_migrate_keys

        return run_migrate_keys(args, settings)
    from matcher.tools.store_admin import run_store

    return run_store(args, settings)


def _gateway(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.__main__ import run_gateway

    return run_gateway(args)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from matcher.tools.demo import run_demo

    if args.requests < 1 or args.volunteers < 1:
        return _refuse("matcher demo: --requests and --volunteers must be at least 1")
    logging.getLogger().setLevel(logging.ERROR)  # the report is the output
    run_demo(args.seed, args.requests, args.volunteers)
    return 0


def _simulate(args: argparse.Namespace, settings: Settings) -> int:
    from matcher.tools.simulate import DayConfig, run_simulation

    chances_ok = min(args.accept, args.decline) >= 0 and args.accept + args.decline <= 1
    if args.orders < 1 or args.volunteers < 1 or not args.window_minutes > 0 or not chances_ok:
        return _refuse(
            "matcher simulate: --orders and --volunteers must be at least 1, --window-minutes "
            "> 0, and --accept + --decline at most 1"
        )
    logging.getLogger().setLevel(logging.ERROR)  # the report is the output
    config = DayConfig(
        seed=args.seed,
        orders=args.orders,
        volunteers=args.volunteers,
        window_minutes=args.window_minutes,
        accept=args.accept,
        decline=args.decline,
    )
    run_simulation(config)
    return 0


def _default_target(settings: Settings) -> str:
    from matcher.service.server import bind_address

    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "[::]") else settings.host
    return bind_address(host, settings.port)


def _import_volunteers(args: argparse.Namespace, settings: Settings) -> int:
    from matcher.tools.volunteer_file import FileFormatError
    from matcher.tools.volunteer_import import run_import

    if not 1 <= args.batch_size <= settings.max_volunteers or args.max_errors < 0:
        return _refuse(
            "matcher import: --batch-size must be in [1, MATCHER_MAX_VOLUNTEERS] and "
            "--max-errors >= 0"
        )
    try:
        return run_import(
            args.file,
            args.target or _default_target(settings),
            settings,
            only_valid=args.only_valid,
            batch_size=args.batch_size,
            max_errors=args.max_errors,
            out=sys.stdout,
            err=sys.stderr,
        )
    except (FileFormatError, OSError) as err:
        return _refuse(f"matcher import: {err}")


#: What each command runs (after the settings are read and logging configured).
_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "serve": _serve,
    "status": _status,
    "import": _import_volunteers,
    "keys": _keys,
    "store": _store,
    "simulate": _simulate,
    "gateway": _gateway,
    "demo": _demo,
}

if __name__ == "__main__":
    sys.exit(main())
