"""A small typed Python client for the matcher's gRPC API (the integrator's kit).

::

    from matcher.client import MatcherClient, MatcherCallError

    with MatcherClient("127.0.0.1:50051") as client:
        reply = client.match(requests, volunteers)            # match_pb2.MatchResponse
        for volunteer in client.iter_volunteers(skill="elderly_care"):
            ...

Defaults, each a keyword argument:

- **Deadline** ``timeout=10.0`` seconds per call, retries included (``timeout=`` on a method
  overrides it for that call).
- **Retries** ``retries=3``: a call that fails with UNAVAILABLE (server restarting, store
  down) is sent again after 0.1 s, 0.2 s, 0.4 s, ... (doubling, at most 2 s, ±20% jitter),
  within the deadline, **only when resending cannot change the outcome**: Match (read-only),
  the gets, lists and statuses, and UpsertVolunteers / ReplaceAvailability without an
  ``expected_version`` (resending the same records changes nothing). DeleteVolunteer is never
  retried (if the first attempt did delete, the retry would answer NOT_FOUND), nor is a write
  with an ``expected_version`` (the retry would answer FAILED_PRECONDITION).
- **Keep-alive** pings every 5 minutes while calls are open (``KEEPALIVE_OPTIONS``; gRPC
  servers by default refuse pings more often than that), so a dead connection is noticed.
- **Messages** up to 256 MiB each way, as the server allows by default.
- **TLS** when ``credentials`` are given: ``matcher.tls.channel_credentials("ca.pem")``, with
  a client certificate and key for a server that requires one; plaintext otherwise.
- **API key** ``api_key="<token>"`` sends ``authorization: Bearer <token>`` with every call
  (needed when the server has access control on); ``metadata=`` adds any other entries.

Every failed call raises ``MatcherCallError`` carrying the status code, message, the
``google.rpc.BadRequest`` field violations and the ``google.rpc.ErrorInfo`` reason/metadata.

``matcher_client`` holds the typed methods, ``calls`` how one call is made (options, deadline,
retries, the error).
"""

from __future__ import annotations

from matcher.client.calls import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    KEEPALIVE_OPTIONS,
    MAX_MESSAGE_BYTES,
    MatcherCallError,
    backoff_delays,
)
from matcher.client.matcher_client import MatcherClient, VolunteerFilter

__all__ = [
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "KEEPALIVE_OPTIONS",
    "MAX_MESSAGE_BYTES",
    "MatcherCallError",
    "MatcherClient",
    "VolunteerFilter",
    "backoff_delays",
]
