"""Reading a ``MatchRequest``: the requests, the policy and either inline volunteers or a
pool selector, validated in one pass (every problem is reported at once).

Defaults: urgency unspecified means routine, ``volunteers_needed`` 0 means 1, a skill level
of 0 means 3, and an absent policy field means the ``Policy`` default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from matcher.config import Settings
from matcher.core.arrays import U64
from matcher.core.model import Policy, RequestBatch, VolunteerPool
from matcher.errors import LimitExceededError
from matcher.registry.model import Selector
from matcher.service.convert.checks import (
    FLOAT_MAX,
    MAX_RADIUS_KM,
    MAX_VALUE,
    MAX_WEIGHT,
    MIN_VALUE,
    UNKNOWN_SKILL,
    Scan,
    Violations,
    bad_real,
    check_ids,
    check_points,
    check_windows,
    f64,
    i64,
    owners,
    skill_bits,
    unknown_code,
)
from matcher.service.convert.volunteer_in import read_volunteers
from matcher.service.convert.volunteers import read_selector
from matcher.v1 import match_pb2

_WEIGHTS = ("distance_weight", "skill_weight", "rating_weight", "fairness_weight")
_VALUES = ("routine_value", "urgent_value", "difficult_value")
_BOTH = "must not be set together with volunteers: send the volunteers or name a pool"
_NO_REQUESTS = "at least one request is needed"


def match_request_to_domain(
    msg: match_pb2.MatchRequest, settings: Settings | None = None
) -> tuple[RequestBatch, VolunteerPool, Policy]:
    """Validate a Match with inline volunteers and convert it to the core's types.

    Raises ``LimitExceededError`` when the batch is over a configured limit (checked first,
    before any per-item work) and ``ValidationError`` listing every invalid field otherwise
    (``pool`` must not be set here; see ``pool_match_to_domain``).
    """
    limits = settings if settings is not None else Settings()
    _check_limits(msg, limits)
    found = Violations()
    if not msg.requests:
        found.add("requests", _NO_REQUESTS)
    requests = _read_requests(msg.requests, found)
    pool = read_volunteers(
        msg.volunteers, found, limits.max_windows_per_volunteer, lambda i: f"volunteers[{i}]"
    )
    policy = _read_policy(msg, found)
    if msg.HasField("pool"):
        found.add("pool", _BOTH)
    found.raise_if_any()
    return requests, pool, policy


@dataclass(frozen=True)
class PoolMatch:
    """A Match against the registered pool: the requests, the policy and whom to draw on."""

    requests: RequestBatch
    policy: Policy
    selector: Selector


def pool_match_to_domain(
    msg: match_pb2.MatchRequest, settings: Settings | None = None
) -> PoolMatch:
    """Validate a Match whose ``pool`` is set (``volunteers`` must be empty) and convert it."""
    limits = settings if settings is not None else Settings()
    _check_limits(msg, limits)
    found = Violations()
    if not msg.requests:
        found.add("requests", _NO_REQUESTS)
    if msg.volunteers:
        found.add("pool", _BOTH)
    requests = _read_requests(msg.requests, found)
    policy = _read_policy(msg, found)
    selector = read_selector(msg.pool, found, "pool")
    found.raise_if_any()
    return PoolMatch(requests, policy, selector)


def _check_limits(msg: match_pb2.MatchRequest, limits: Settings) -> None:
    n_requests, n_volunteers = len(msg.requests), len(msg.volunteers)
    if n_requests > limits.max_requests:
        raise LimitExceededError(
            "MATCHER_MAX_REQUESTS", limits.max_requests, n_requests, "requests in the batch"
        )
    if n_volunteers > limits.max_volunteers:
        raise LimitExceededError(
            "MATCHER_MAX_VOLUNTEERS", limits.max_volunteers, n_volunteers, "volunteers"
        )
    slots = sum(max(1, r.volunteers_needed) for r in msg.requests)
    if slots > limits.max_slots:
        raise LimitExceededError(
            "MATCHER_MAX_SLOTS", limits.max_slots, slots, "slots (sum of volunteers_needed)"
        )


class _RequestScan(Scan):
    """Every field of every request, read in one pass (the fast way through upb)."""

    ids: list[str]
    remote: list[bool]
    has_location: list[bool]
    lat: list[float]
    lon: list[float]
    has_window: list[bool]
    times: list[int]  # start s, start ns, end s, end ns
    urgency: list[int]
    needed: list[int]
    max_km: list[float]
    skill_counts: list[int]
    codes: list[str]


def _scan_requests(reqs: Sequence[match_pb2.ServiceRequest]) -> _RequestScan:
    scan = _RequestScan()
    times = scan.times
    for r in reqs:
        scan.ids.append(r.id)
        scan.remote.append(r.remote)
        scan.has_location.append(r.HasField("location"))
        loc = r.location
        scan.lat.append(loc.lat)
        scan.lon.append(loc.lon)
        scan.has_window.append(r.HasField("window"))
        start, end = r.window.start, r.window.end
        times += (start.seconds, start.nanos, end.seconds, end.nanos)
        scan.urgency.append(r.urgency)
        scan.needed.append(r.volunteers_needed)
        scan.max_km.append(r.max_distance_km)
        skills = r.required_skills
        scan.skill_counts.append(len(skills))
        scan.codes += skills
    return scan


def _read_requests(reqs: Sequence[match_pb2.ServiceRequest], found: Violations) -> RequestBatch:
    """Read and check every request; defaults: routine urgency, one slot."""
    scan = _scan_requests(reqs)
    check_ids(scan.ids, lambda i: f"requests[{i}].id", found)
    remote = np.array(scan.remote, dtype=np.bool_)
    lat, lon = f64(scan.lat), f64(scan.lon)
    has_location = np.array(scan.has_location, dtype=np.bool_)
    check_points(has_location, lat, lon, ~remote, lambda i: f"requests[{i}].location", found)
    absent = ~np.array(scan.has_window, dtype=np.bool_)
    found.rows(absent, lambda i: f"requests[{i}].window", "is required")
    times = i64(scan.times).reshape(-1, 4)
    present = np.flatnonzero(~absent)
    check_windows(
        times[present],
        lambda k: reqs[int(present[k])].window,
        lambda k: f"requests[{present[k]}].window",
        found,
    )
    urgency = i64(scan.urgency)
    found.rows(
        (urgency < 0) | (urgency > 3), lambda i: f"requests[{i}].urgency", "unknown Urgency value"
    )
    max_km = f64(scan.max_km)
    found.rows(
        bad_real(max_km, 0, FLOAT_MAX),
        lambda i: f"requests[{i}].max_distance_km",
        "must be a finite number >= 0 (0 means the policy's default_radius_km)",
    )
    return RequestBatch(
        ids=tuple(scan.ids),
        skill_mask=_read_required_skills(scan, found),
        lat=lat,  # (0, 0) for a remote request without a location
        lon=lon,
        start=times[:, 0].copy(),
        end=times[:, 2].copy(),
        urgency=np.where(urgency == 0, 1, urgency).astype(np.int32),
        slots=np.maximum(i64(scan.needed), 1).astype(np.int32),
        remote=remote,
        max_distance_km=max_km,
    )


def _read_required_skills(scan: _RequestScan, found: Violations) -> U64:
    owner, pos = owners(scan.skill_counts)
    bits = skill_bits(scan.codes)
    unknown = bits == UNKNOWN_SKILL
    found.rows(
        unknown,
        lambda k: f"requests[{owner[k]}].required_skills[{pos[k]}]",
        unknown_code(scan.codes),
    )
    mask = np.zeros(len(scan.ids), dtype=np.uint64)
    np.bitwise_or.at(mask, owner[~unknown], np.left_shift(1, bits[~unknown]).astype(np.uint64))
    return mask


def _read_policy(msg: match_pb2.MatchRequest, found: Violations) -> Policy:
    """The scoring policy; absent fields (or an absent policy) keep the ``Policy`` defaults."""
    if not msg.HasField("policy"):
        return Policy()
    p = msg.policy
    changes: dict[str, Any] = {}
    for name in (*_WEIGHTS, "default_radius_km", *_VALUES):
        if not p.HasField(name):
            continue
        value = getattr(p, name)
        if name in _WEIGHTS:
            ok, rule = 0 <= value <= MAX_WEIGHT, f"must be a finite number in [0, {MAX_WEIGHT:g}]"
        elif name in _VALUES:
            ok, rule = MIN_VALUE <= value <= MAX_VALUE, f"must be in [{MIN_VALUE}, {MAX_VALUE}]"
        else:
            ok, rule = 0 < value <= MAX_RADIUS_KM, f"must be > 0 and at most {MAX_RADIUS_KM:g}"
        if ok:
            changes[name] = value
        else:
            found.add(f"policy.{name}", rule)
    return dataclasses.replace(Policy(), **changes)
