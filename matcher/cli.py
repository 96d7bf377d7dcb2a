"""The ``matcher`` command: ``matcher serve`` runs the gRPC server, ``matcher demo`` runs a
seeded synthetic day for Gonghe County through it and prints a report.

Logging handlers are configured here and only here.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from matcher.config import ConfigError, Settings


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
    demo = sub.add_parser("demo", help="a seeded day in Gonghe County, engine vs greedy")
    demo.add_argument("--seed", type=int, default=20221, help="random seed (default 20221)")
    demo.add_argument("--requests", type=int, default=400, help="requests in the day")
    demo.add_argument("--volunteers", type=int, default=3000, help="volunteers in the pool")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``matcher`` console script."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
        if args.command == "serve":
            settings = settings.with_overrides(
                host=args.host,
                port=args.port,
                workers=args.workers,
                max_requests=args.max_requests,
                max_volunteers=args.max_volunteers,
                log_level=args.log_level.upper() if args.log_level else None,
            )
    except ConfigError as err:
        print(f"matcher: invalid configuration: {err}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "serve":
        from matcher.server import serve

        serve(settings)
        return 0
    from matcher.demo import run_demo

    if args.requests < 1 or args.volunteers < 1:
        print("matcher demo: --requests and --volunteers must be at least 1", file=sys.stderr)
        return 2
    logging.getLogger().setLevel(logging.WARNING)  # the report is the output
    run_demo(args.seed, args.requests, args.volunteers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
