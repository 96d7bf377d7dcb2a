"""Server-Sent Events: how server-streaming rpcs are served, and a small reader for clients.

A server-streaming rpc answers ``200`` with ``Content-Type: text/event-stream``; each response
message is one event whose ``data`` is the message's JSON (one line)::

    data: {"offer":{"offerId":"o-1.1","state":"OFFER_STATE_OPEN", ...}}

If the stream fails after it started (after its first message, or after its first second),
a last event named ``error`` carries the usual error body, and the stream ends::

    event: error
    data: {"error":{"code":503,"status":"UNAVAILABLE","message":"...","details":[]}}

A failure before the first message and within the first second (bad input, an unknown
volunteer: they fail at once) is an ordinary JSON error answer with its HTTP status.
Every 15 s a comment line (``: keep-alive``) keeps proxies from closing an idle stream;
clients ignore it. The stream ends when the rpc does; closing the connection cancels the rpc.

The framing, the keep-alive comments, the disconnect detection and the end of the streams on
shutdown are ``sse-starlette``'s ``EventSourceResponse`` (``gateway.calls`` feeds it events).
"""

from __future__ import annotations

MEDIA_TYPE = "text/event-stream"
#: The text of the keep-alive comment.
KEEPALIVE_COMMENT = "keep-alive"


def decode_events(text: str) -> list[tuple[str, str]]:
    """``(event, data)`` pairs of a stream (event ``message`` when unnamed); for clients and
    tests. Comments and fields other than ``event`` and ``data`` are ignored."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        if data:
            events.append((name, "\n".join(data)))
    return events
