"""The test day's clock: ``T0`` (2022-06-15 08:00 UTC, the morning every builder starts
from), ``HOUR`` in seconds, and a ``TimeWindow`` from epoch seconds."""

from __future__ import annotations

from matcher.v1 import match_pb2

#: 2022-06-15 08:00 UTC, the morning of the test day (epoch seconds).
T0 = 1_655_280_000
HOUR = 3600


def window(start: int, end: int) -> match_pb2.TimeWindow:
    """A TimeWindow from epoch seconds."""
    return match_pb2.TimeWindow(start={"seconds": start}, end={"seconds": end})
