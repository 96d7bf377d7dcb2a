"""The server's interceptors, one per module, and their chain (``server_interceptors``).

Outermost first, as each call meets them:

1. ``observe``: the access log, metrics and tracing; outermost, so it logs and counts the
   code every call ends with, refused ones included;
2. ``status``: whatever the rest raise ends the call with its status
   (``matcher.service.errors``), a bug with INTERNAL;
3. ``access``: deadline, API key, role and rate limit (``matcher.access``);
4. ``message_size``: requests over ``MATCHER_MAX_MESSAGE_BYTES``, refused before parsing;
5. ``decode``: request bytes that do not parse, INVALID_ARGUMENT instead of gRPC's INTERNAL
   (``wire`` finds where they broke).

Each check raises, so the status interceptor answers it and the observing one logs and counts
it. The two innermost wrap the request's deserializer: the size check's runs first and only
hands bytes within the limit to the decode check's, which cannot raise.

``handlers`` holds what they share: the handler types and the ways of wrapping a handler.
"""

from __future__ import annotations

from matcher.config import Settings
from matcher.observability.metrics import Metrics
from matcher.observability.tracing import Tracing
from matcher.service.interceptors.access import access_interceptor
from matcher.service.interceptors.decode import DecodeInterceptor
from matcher.service.interceptors.handlers import ServerInterceptor
from matcher.service.interceptors.message_size import MessageLimitInterceptor
from matcher.service.interceptors.observe import AccessLogInterceptor
from matcher.service.interceptors.status import StatusInterceptor


def server_interceptors(
    settings: Settings, metrics: Metrics, tracing: Tracing
) -> list[ServerInterceptor]:
    """The chain, outermost first (API keys are loaded here: ``ConfigError`` if malformed)."""
    return [
        AccessLogInterceptor(metrics, tracing),
        StatusInterceptor(),
        access_interceptor(settings),
        MessageLimitInterceptor(settings.max_message_bytes),
        DecodeInterceptor(),
    ]
