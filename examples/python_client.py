"""Call the matcher from Python with ``matcher.client``: register three volunteers, then match
two residents' requests, once against volunteers sent inline and once against the registered
pool, and print the assignments.

Usage (with a server running, e.g. ``matcher serve --port 50051``)::

    python examples/python_client.py 127.0.0.1:50051

The test suite runs this script against a real server (tests/tools/test_examples.py).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from matcher.client import MatcherCallError, MatcherClient
from matcher.v1 import match_pb2, volunteers_pb2

#: 09:00 in Qabqa (UTC+8) on a December morning.
MORNING = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def window(start_hours: float, end_hours: float) -> match_pb2.TimeWindow:
    """A TimeWindow from hours after MORNING."""
    start, end = Timestamp(), Timestamp()
    start.FromDatetime(MORNING + timedelta(hours=start_hours))
    end.FromDatetime(MORNING + timedelta(hours=end_hours))
    return match_pb2.TimeWindow(start=start, end=end)


def volunteers() -> list[match_pb2.Volunteer]:
    """Three volunteers in and around Qabqa town."""
    return [
        match_pb2.Volunteer(
            id="vol-li",
            skills=[match_pb2.Skill(code="elderly_care", level=4)],
            home=match_pb2.GeoPoint(lat=36.281, lon=100.612),
            availability=[window(0, 4)],
            rating=4.6,
            rating_count=12,
        ),
        match_pb2.Volunteer(
            id="vol-wang",
            skills=[match_pb2.Skill(code="live_stream", level=5)],
            home=match_pb2.GeoPoint(lat=36.072, lon=100.910),
            availability=[window(0, 8)],
        ),
        match_pb2.Volunteer(
            id="vol-zhao",
            skills=[
                match_pb2.Skill(code="elderly_care", level=2),
                match_pb2.Skill(code="cleaning", level=3),
            ],
            home=match_pb2.GeoPoint(lat=36.300, lon=100.600),
            availability=[window(0, 8)],
            recent_hours=10,
        ),
    ]


def requests() -> list[match_pb2.ServiceRequest]:
    """An urgent home visit and a remote live stream."""
    return [
        match_pb2.ServiceRequest(
            id="req-home-visit",
            required_skills=["elderly_care"],
            location=match_pb2.GeoPoint(lat=36.275, lon=100.620),
            window=window(1, 2),
            urgency=match_pb2.URGENCY_URGENT,
        ),
        match_pb2.ServiceRequest(
            id="req-live-class",
            required_skills=["live_stream"],
            window=window(3, 4),
            remote=True,
        ),
    ]


def print_assignments(title: str, reply: match_pb2.MatchResponse) -> None:
    """One line per assignment and per unserved request."""
    print(f"{title}:")
    for a in reply.assignments:
        print(f"  {a.request_id} -> {a.volunteer_id}  {a.distance_km:.2f} km  cost {a.score:.2f}")
    for u in reply.unassigned:
        reason = match_pb2.Unassigned.Reason.Name(u.reason)
        print(f"  {u.request_id} unserved: {reason} ({u.detail})")


def run(target: str, timeout: float) -> None:
    """Register, match inline, match against the pool."""
    with MatcherClient(target, timeout=timeout) as client:
        client.wait_until_ready()
        written = client.upsert_volunteers(
            volunteers_pb2.VolunteerUpsert(volunteer=v, branch_id="qabqa-grid-1")
            for v in volunteers()
        )
        print(
            f"registered {len(written.volunteers)} volunteers "
            f"(registry version {written.registry_version})"
        )
        print_assignments("inline volunteers", client.match(requests(), volunteers()))
        pool = match_pb2.PoolSelector(branch_ids=["qabqa-grid-1"])
        print_assignments("registered pool", client.match(requests(), pool=pool))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="HOST:PORT of the matcher's gRPC server")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per call")
    args = parser.parse_args(argv)
    try:
        run(args.target, args.timeout)
    except MatcherCallError as err:
        print(f"call failed: {err}", file=sys.stderr)
        for violation in err.field_violations:
            print(f"  {violation.field}: {violation.description}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
