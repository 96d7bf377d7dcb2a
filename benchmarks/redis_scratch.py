"""Redis for benchmarks that write into it: whether it answers before a run starts, and
deleting a run's own key prefix afterwards (every Redis run writes under a fresh prefix)."""

from __future__ import annotations

import redis

DELETE_BATCH = 1000


def ping_error(url: str) -> Exception | None:
    """Why the Redis at ``url`` does not answer a PING within 2 s, or None when it does."""
    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    except ValueError as err:  # not a Redis URL
        return err
    try:
        client.ping()
    except (redis.RedisError, OSError) as err:
        return err
    finally:
        client.close()
    return None


def delete_under(client: redis.Redis, prefix: str) -> int:
    """Delete every key ``prefix:*`` (in batches); how many were deleted."""
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=f"{prefix}:*", count=DELETE_BATCH):
        batch.append(key)
        if len(batch) >= DELETE_BATCH:
            deleted += int(client.unlink(*batch))
            batch = []
    if batch:
        deleted += int(client.unlink(*batch))
    return deleted


def delete_prefix(url: str, prefix: str) -> int:
    """``delete_under`` on a client of its own for ``url``."""
    client = redis.Redis.from_url(url, socket_timeout=10)
    try:
        return delete_under(client, prefix)
    finally:
        client.close()
