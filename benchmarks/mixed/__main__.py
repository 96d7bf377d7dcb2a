"""``python -m benchmarks.mixed``: the mixed load test of issue #7.

Starts a server on a loopback port of its own (in a child process; ``--store`` memory or a
Redis URL, on a fresh key prefix deleted afterwards) unless ``--target HOST:PORT`` names one,
registers a seeded volunteer library, then runs ``--clients`` concurrent clients for
``--seconds``: residents ordering (urgent ones, retries with the same idempotency key, lost
replies), dispatch rounds, volunteer apps answering offers (accept, decline, let expire,
answer late), the centre completing orders (time-bank credit) and redeeming hours, residents
rating and cancelling, and Match calls (inline and against the pool).

Prints per-rpc calls, calls/s, p50/p99 latency and errors by code (expected race outcomes
such as FAILED_PRECONDITION apart from failures), then checks the run's consistency (see
``benchmarks.mixed``), and writes everything to ``--out``/mixed_load_<store>.json.

Exit status: 0 passed; 1 an unexpected error, a client crash or a consistency violation;
2 the run could not start (Redis or the target unreachable, bad arguments).

With ``--target`` the server should be otherwise idle; the checks then cover the orders and
volunteers of this run, and the holds and the ledger only when ``--store`` (with
``--store-prefix``) lets them read the server's Redis.

``--auth keys`` runs the own server with access control on: the run makes its own API keys
(a dispatcher, a registry and an admin key, one resident_app key per resident client, one
volunteer_app key per volunteer; see ``benchmarks.mixed.auth``), writes them to a
``MATCHER_API_KEYS_FILE`` in a temporary directory, sends every call with the
least-privileged key that may make it (UNAUTHENTICATED or PERMISSION_DENIED fails the run)
and, after the load, probes that the server refuses calls without a key, of a role outside
its row and on someone else's objects. ``--auth both`` runs open, then keyed, with the same
seed and settings, and prints the two side by side (ratio keys/open).
``--rate-limit N`` sets the own server's MATCHER_RATE_LIMIT_PER_SECOND (per key; with open
access per peer address, and every client shares 127.0.0.1): refusals naming it are counted
apart as "rate-limited" (the refused client waits about 1/N s), at least one is wanted and
no key may get more calls through than its bucket allows; RESOURCE_EXHAUSTED naming anything
else still fails the run.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc

from benchmarks.mixed.audit import failures
from benchmarks.mixed.auth import ROLE_NAMES
from benchmarks.mixed.report import comparison, print_comparison, print_table, result_path
from benchmarks.mixed.run import AUTH_MODES, LoadConfig, run_mixed_load
from benchmarks.redis_scratch import ping_error
from benchmarks.result_files import write_json
from benchmarks.suite import DEFAULT_OUT

EXIT_FAILED, EXIT_SETUP = 1, 2
PROG = "python -m benchmarks.mixed"


def _parser() -> argparse.ArgumentParser:
    d = LoadConfig()
    p = argparse.ArgumentParser(prog=PROG, description=__doc__)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument(
        "--seconds", type=float, default=d.seconds, help=f"load time (default {d.seconds:g})"
    )
    p.add_argument(
        "--clients", type=int, default=d.clients, help=f"client threads (default {d.clients})"
    )
    p.add_argument("--store", default=d.store, help="memory (default) or redis://127.0.0.1:6379/9")
    p.add_argument("--target", help="HOST:PORT of a running server (default: start one)")
    p.add_argument(
        "--store-prefix", default=d.store_prefix, help="with --target: its Redis key prefix"
    )
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--volunteers", type=int, default=d.volunteers, help=f"default {d.volunteers}")
    p.add_argument("--workers", type=int, default=d.workers, help="own server's threads")
    p.add_argument("--offer-ttl", type=float, default=d.offer_ttl_seconds, help="own server, s")
    p.add_argument("--dispatch-window", type=float, default=d.dispatch_window_seconds, help="s")
    p.add_argument(
        "--auth",
        choices=[*AUTH_MODES, "both"],
        default="open",
        help="open (default): no keys; keys: the own server enforces keys the run makes; "
        "both: open, then keys, side by side",
    )
    p.add_argument(
        "--rate-limit",
        type=float,
        default=0.0,
        metavar="N",
        help="own server's MATCHER_RATE_LIMIT_PER_SECOND (default 0: none)",
    )
    p.add_argument("--api-key", help="key sent by every role (default: none, the open mode)")
    p.add_argument(
        "--role-key",
        action="append",
        default=[],
        metavar="ROLE=KEY",
        help=f"a key for one role ({', '.join(ROLE_NAMES)}); repeatable",
    )
    p.add_argument("--api-key-header", default=d.api_key_header, help="authorization: Bearer KEY")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}/")
    p.add_argument("--keep-data", action="store_true", help="keep the Redis keys of the run")
    return p


def config_from(args: argparse.Namespace) -> LoadConfig:
    keys = {"*": args.api_key} if args.api_key else {}
    for item in args.role_key:
        role, sep, key = item.partition("=")
        if not sep or role not in ROLE_NAMES or not key:
            raise ValueError(f"--role-key {item!r}: expected ROLE=KEY, ROLE one of {ROLE_NAMES}")
        keys[role] = key
    if args.seconds <= 0 or args.clients < 6:
        raise ValueError("--seconds must be > 0 and --clients at least 6")
    return LoadConfig(
        seconds=args.seconds,
        clients=args.clients,
        store=args.store,
        target=args.target,
        store_prefix=args.store_prefix,
        seed=args.seed,
        volunteers=args.volunteers,
        workers=args.workers,
        offer_ttl_seconds=args.offer_ttl,
        dispatch_window_seconds=args.dispatch_window,
        api_keys=keys,
        api_key_header=args.api_key_header,
        keep_data=args.keep_data,
        auth="keys" if args.auth == "both" else args.auth,
        rate_limit=args.rate_limit,
    )


def _reachable(config: LoadConfig) -> str | None:
    """Why the run cannot start, or None."""
    if config.store != "memory":
        error = ping_error(config.store)
        if error is not None:
            return f"Redis at {config.store} is unreachable ({error})"
    if config.target:
        with grpc.insecure_channel(config.target) as channel:
            try:
                grpc.channel_ready_future(channel).result(timeout=10)
            except grpc.FutureTimeoutError:
                return f"no server answers at {config.target}"
    return None


def _run_modes(
    config: LoadConfig, modes: Sequence[str], command: str
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """One run per access mode, each printed as it ends; the results by mode and every
    problem found (prefixed with the mode when there are two)."""
    runs: dict[str, dict[str, Any]] = {}
    found: list[str] = []
    for mode in modes:
        results = run_mixed_load(
            dataclasses.replace(config, auth=mode),
            lambda line: print(line, file=sys.stderr, flush=True),
        )
        results["command"] = command
        problems = failures(results)
        results["passed"] = not problems
        found += [f"{mode}: {p}" if len(modes) > 1 else p for p in problems]
        print_table(results, sys.stdout)
        runs[mode] = results
    return runs, found


def _write(runs: dict[str, dict[str, Any]], config: LoadConfig, out: Path, passed: bool) -> Path:
    """The JSON file: one run's results, or both modes side by side."""
    where = (out, config.store, config.target)
    if len(runs) > 1:
        compared = comparison(runs)
        print_comparison(compared, sys.stdout)
        document = {"comparison": compared, "runs": runs, "passed": passed}
        return write_json(document, result_path(*where, "open_vs_keys"))
    variant = "" if config.auth == "open" else config.auth
    if config.rate_limit:
        variant = f"{variant}_ratelimit".strip("_")
    (results,) = runs.values()
    return write_json(results, result_path(*where, variant))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = config_from(args)
    except ValueError as error:
        print(error, file=sys.stderr)
        return EXIT_SETUP
    problem = _reachable(config)
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_SETUP
    words = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join([*PROG.split(), *words])
    modes = AUTH_MODES if args.auth == "both" else (config.auth,)
    runs, found = _run_modes(config, modes, command)
    print(f"wrote {_write(runs, config, args.out, not found)}")
    if found:
        print(f"FAILED: {len(found)} problem(s):", file=sys.stderr)
        for line in found[:50]:
            print(f"  {line}", file=sys.stderr)
        return EXIT_FAILED
    print("passed: no unexpected errors, every consistency check held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
