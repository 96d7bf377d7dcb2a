"""The one place where Redis connection failures become ``StoreUnavailableError``, for every
Redis-backed store (volunteers, orders): a decorator for their methods."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from matcher.errors import StoreUnavailableError

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, BusyLoadingError)


class RedisBacked(Protocol):
    """A store that can say which Redis it talks to (never with a password)."""

    @property
    def redis_where(self) -> str: ...


S = TypeVar("S", bound=RedisBacked)
P = ParamSpec("P")
T = TypeVar("T")


def translate_redis_errors(
    method: Callable[Concatenate[S, P], T],
) -> Callable[Concatenate[S, P], T]:
    """Run ``method``; a lost or refused Redis connection becomes ``StoreUnavailableError``."""

    @functools.wraps(method)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(self, *args, **kwargs)
        except UNAVAILABLE as exc:
            raise StoreUnavailableError(f"{self.redis_where} is unreachable: {exc}") from exc

    return wrapper
