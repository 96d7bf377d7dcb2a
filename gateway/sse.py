"""Server-Sent Events framing for server-streaming rpcs.

A server-streaming rpc answers ``200`` with ``Content-Type: text/event-stream``; each response
message is one event whose ``data`` is the message's JSON (one line)::

    data: {"offerId":"o-1","state":"OPEN"}

If the stream fails after it started (after its first message, or after its first second),
a last event named ``error`` carries the usual error body, and the stream ends::

    event: error
    data: {"error":{"code":503,"status":"UNAVAILABLE","message":"...","details":[]}}

A failure before the first message and within the first second (bad input fails at once) is
an ordinary JSON error answer with its HTTP status.
While the stream is idle, a comment line (``: keep-alive``) is sent every 15 s; clients
ignore it. The stream ends when the rpc does; closing the connection cancels the rpc.
"""

from __future__ import annotations

MEDIA_TYPE = "text/event-stream"
#: Headers that keep proxies from buffering or caching the stream.
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
#: A comment event: keeps an idle connection open through proxies.
KEEPALIVE = b": keep-alive\n\n"


def encode_event(data: str, event: str | None = None) -> bytes:
    """One event: an optional ``event:`` line, one ``data:`` line per line of ``data``, and
    the blank line that ends the event."""
    lines = []
    if event is not None:
        if "\n" in event or "\r" in event:
            raise ValueError("an event name must be one line")
        lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    return ("\n".join(lines) + "\n\n").encode()


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
