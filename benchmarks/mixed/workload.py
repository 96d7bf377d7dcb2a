"""The seeded data of a mixed load run: volunteers to register, order templates, Match batches.

Orders and volunteers come from ``synthetic.gonghe_day`` on a day in the future (the day
after tomorrow, China Standard Time), so the server's real clock never lapses them during a
run. Each volunteer and order is in the branch (网格分行) of its nearest town.

A small *on-call* group (volunteers in Qabqa free from the start of the run for some hours)
serves *soon* orders, whose service starts seconds after submission: those exercise the
lapse path (the service time comes while offers are open) during the run.

Every id carries the run's ``tag`` so that a run against a shared ``--target`` never
collides with another run's volunteers or idempotency keys.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from matcher.service.convert import pool_to_proto, requests_to_proto
from matcher.tools.synthetic import CST, TOWNS, gonghe_day, nearest_town
from matcher.v1 import match_pb2, volunteers_pb2

ON_CALL_SKILLS = ("community_service", "elderly_care")
ON_CALL_HOURS = 6
#: Soon orders start this many seconds after submission (uniform) and last 30 minutes.
SOON_START_S = (4.0, 20.0)
SOON_MINUTES = 30
MATCH_BATCH, INLINE_VOLUNTEERS, DISTINCT_BATCHES = 5, 60, 32


def branch_of_town(town: int) -> str:
    return f"grid-{TOWNS[town].name_en.lower()}"


@dataclass(frozen=True)
class Template:
    """What one resident orders (the idempotency key and resident are added per submission)."""

    request: match_pb2.ServiceRequest
    branch_id: str


@dataclass(frozen=True)
class Workload:
    tag: str
    volunteers: list[volunteers_pb2.VolunteerUpsert]
    templates: list[Template]
    on_call_ids: list[str]
    inline_matches: list[match_pb2.MatchRequest]
    pool_matches: list[match_pb2.MatchRequest]
    branches: list[str]

    def initial(self) -> dict[str, tuple[float, int]]:
        """Each volunteer's registered (recent_hours, rating_count)."""
        return {
            e.volunteer.id: (e.volunteer.recent_hours, e.volunteer.rating_count)
            for e in self.volunteers
        }


def service_day(now: float) -> dt.date:
    """The day after tomorrow in China Standard Time (orders never lapse during a run)."""
    return (dt.datetime.fromtimestamp(now, CST) + dt.timedelta(days=2)).date()


def build_workload(
    seed: int, n_volunteers: int, n_templates: int, tag: str, now: float
) -> Workload:
    requests, pool = gonghe_day(seed, n_templates, n_volunteers, day=service_day(now))
    vol_towns = nearest_town(pool.lat, pool.lon).tolist()
    volunteers = []
    for v, town in zip(pool_to_proto(pool), vol_towns, strict=True):
        v.id = f"{tag}-{v.id}"
        volunteers.append(
            volunteers_pb2.VolunteerUpsert(volunteer=v, branch_id=branch_of_town(town))
        )
    on_call = _on_call(max(10, n_volunteers // 20), tag, now, np.random.default_rng(seed + 1))
    req_towns = nearest_town(requests.lat, requests.lon).tolist()
    messages = requests_to_proto(requests)
    templates = [Template(m, branch_of_town(t)) for m, t in zip(messages, req_towns, strict=True)]
    inline_pool = [e.volunteer for e in volunteers]
    inline, pooled = [], []
    for k in range(DISTINCT_BATCHES):
        batch = messages[k * MATCH_BATCH : (k + 1) * MATCH_BATCH] or messages[:MATCH_BATCH]
        first = (k * INLINE_VOLUNTEERS) % max(1, len(inline_pool) - INLINE_VOLUNTEERS)
        inline.append(
            match_pb2.MatchRequest(
                requests=batch, volunteers=inline_pool[first : first + INLINE_VOLUNTEERS]
            )
        )
        pooled.append(match_pb2.MatchRequest(requests=batch, pool=match_pb2.PoolSelector()))
    return Workload(
        tag=tag,
        volunteers=volunteers + on_call,
        templates=templates,
        on_call_ids=[e.volunteer.id for e in on_call],
        inline_matches=inline,
        pool_matches=pooled,
        branches=sorted({branch_of_town(t) for t in range(len(TOWNS))}),
    )


def _on_call(
    n: int, tag: str, now: float, rng: np.random.Generator
) -> list[volunteers_pb2.VolunteerUpsert]:
    """Volunteers near Qabqa, free from a minute ago for ``ON_CALL_HOURS`` hours."""
    qabqa = TOWNS[0]
    start = int(now) - 60
    out = []
    for i in range(n):
        volunteer = match_pb2.Volunteer(
            id=f"{tag}-oncall-{i:04d}",
            skills=[match_pb2.Skill(code=c, level=int(rng.integers(2, 6))) for c in ON_CALL_SKILLS],
            home=match_pb2.GeoPoint(
                lat=qabqa.lat + float(rng.normal(0, 0.02)),
                lon=qabqa.lon + float(rng.normal(0, 0.02)),
            ),
            availability=[
                match_pb2.TimeWindow(
                    start={"seconds": start}, end={"seconds": start + ON_CALL_HOURS * 3600}
                )
            ],
        )
        out.append(volunteers_pb2.VolunteerUpsert(volunteer=volunteer, branch_id=branch_of_town(0)))
    return out


def soon_request(rng: np.random.Generator, now: float) -> Template:
    """An order near Qabqa starting a few seconds from ``now`` (it lapses during the run)."""
    qabqa = TOWNS[0]
    start = int(now + rng.uniform(*SOON_START_S)) + 1
    urgency = match_pb2.URGENCY_URGENT if rng.random() < 0.3 else match_pb2.URGENCY_ROUTINE
    request = match_pb2.ServiceRequest(
        required_skills=[ON_CALL_SKILLS[int(rng.integers(0, len(ON_CALL_SKILLS)))]],
        location=match_pb2.GeoPoint(
            lat=qabqa.lat + float(rng.normal(0, 0.02)), lon=qabqa.lon + float(rng.normal(0, 0.02))
        ),
        window=match_pb2.TimeWindow(
            start={"seconds": start}, end={"seconds": start + SOON_MINUTES * 60}
        ),
        urgency=urgency,
        volunteers_needed=1 if rng.random() < 0.8 else 2,
    )
    return Template(request, branch_of_town(0))
