"""``matcher store accept-empty [--store URL] [--prefix P]``: the operator's confirmation that
a Redis data set which lost its data may be used as it is now.

When Redis comes back empty (restarted without persistence, flushed, failed over to an empty
replica) the servers on it notice that the data-set marker is gone
(``matcher.registry.store.data_set``): their store-backed services turn NOT_SERVING and every
call is refused. Restore the data from a backup if there is one; the servers then serve again
by themselves. If there is none, run this command: it writes a new marker (origin
``accepted``), the servers adopt it within a probe interval and serve the empty data set.

It does nothing when a live marker is in place (nothing was lost, or the data is back), and
it never deletes data. ``--store`` and ``--prefix`` default to ``MATCHER_STORE`` and
``MATCHER_REDIS_PREFIX``: run it with the servers' settings.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from matcher.config import ConfigError, Settings
from matcher.errors import StoreUnavailableError
from matcher.registry.store.data_set import Marker, accept_empty, marker_key
from matcher.store_url import StoreURLError, connect_redis, parse_store_url

if TYPE_CHECKING:
    import redis


def add_store_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``store`` subcommand and its actions: ``accept-empty`` and ``migrate-keys``."""
    store = sub.add_parser("store", help="operator actions on the Redis data set")
    actions = store.add_subparsers(dest="store_action", required=True)
    accept = actions.add_parser(
        "accept-empty",
        help="let the servers use a data set that lost its data (writes a new marker)",
        description="Run it after Redis came back empty and no backup is to be restored: "
        "the servers on that Redis and prefix adopt the new marker and serve again. Does "
        "nothing if the data set has its marker; never deletes data.",
    )
    migrate = actions.add_parser(
        "migrate-keys",
        help="rewrite keys and ids written before the collision-free key encoding",
        description="Renames the few Redis keys and ledger ids that matcher.ids writes "
        "differently (see docs/operations.md). Idempotent; run it with the servers stopped.",
    )
    migrate.add_argument("--dry-run", action="store_true", help="count, change nothing")
    for action in (accept, migrate):
        action.add_argument("--store", help="the servers' Redis URL (MATCHER_STORE)")
        action.add_argument("--prefix", help="the servers' key prefix (MATCHER_REDIS_PREFIX)")


def on_store_redis(
    args: argparse.Namespace,
    settings: Settings,
    work: Callable[[redis.Redis, str, str], int],
    err: TextIO,
) -> int:
    """Open the Redis that ``--store``/``--prefix`` (or the settings) name and run
    ``work(client, prefix, where)``: 2 for an unusable URL, prefix or the memory store, 1 when
    Redis cannot be reached, else what ``work`` returns. The client is closed after."""
    try:
        settings = settings.with_overrides(store=args.store, redis_prefix=args.prefix)
        location = parse_store_url(settings.store)
    except (ConfigError, StoreURLError) as error:
        print(f"matcher store: {error}", file=err)
        return 2
    if location.in_memory:
        print("matcher store: the memory store keeps no data set between runs", file=err)
        return 2
    from redis.exceptions import RedisError  # not at import: the CLI builds its parser fast

    prefix = settings.redis_prefix
    where = f"{location.description} prefix={prefix}"
    client = connect_redis(location)
    try:
        return work(client, prefix, where)
    except (StoreUnavailableError, RedisError) as error:
        print(f"matcher store: {where}: {error}", file=err)
        return 1
    finally:
        client.close()


def run_store(
    args: argparse.Namespace,
    settings: Settings,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run ``matcher store accept-empty``: 0 when a live marker is in place afterwards, 1 when
    Redis cannot be reached, 2 for an unusable store URL or prefix. Prints to ``out`` and
    ``err`` (standard output and error by default)."""
    printed = out or sys.stdout

    def accept(client: redis.Redis, prefix: str, where: str) -> int:
        marker, written = accept_empty(client, prefix)
        if written:
            print(
                f"accepted the data set under {where} as it is now: wrote "
                f"{marker_key(prefix)} id={marker.id}; the servers serve again within one "
                "health interval",
                file=printed,
            )
        else:
            print(f"nothing to accept: {where} has its marker ({_describe(marker)})", file=printed)
        return 0

    return on_store_redis(args, settings, accept, err or sys.stderr)


def _describe(marker: Marker) -> str:
    created = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(marker.created_ms / 1000))
    return f"id={marker.id}, {marker.origin}, created {created}"
