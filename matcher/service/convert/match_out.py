"""Domain -> proto: requests and pools (for the demo, benchmarks and tests) and the result,
and the window and timestamp fields every outgoing message shares.

Repeated fields are built from plain dicts and lists in bulk (faster than message by
message through upb).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matcher.core.arrays import I64
from matcher.core.model import MatchResult, Reason, RequestBatch, VolunteerPool
from matcher.core.skills import SKILL_CODES, mask_codes
from matcher.v1 import match_pb2


def requests_to_proto(batch: RequestBatch) -> list[match_pb2.ServiceRequest]:
    """One ``ServiceRequest`` per row of ``batch``, the inverse of reading a MatchRequest.

    A request whose location is not finite (a remote request without one) gets no location.
    """
    codes_of: dict[int, list[str]] = {}
    for mask in set(batch.skill_mask.tolist()):
        codes_of[mask] = mask_codes(mask)
    rows = zip(
        batch.ids,
        batch.skill_mask.tolist(),
        batch.lat.tolist(),
        batch.lon.tolist(),
        batch.start.tolist(),
        batch.end.tolist(),
        batch.urgency.tolist(),
        batch.slots.tolist(),
        batch.remote.tolist(),
        batch.max_distance_km.tolist(),
        strict=True,
    )
    out = []
    for rid, mask, lat, lon, start, end, urgency, slots, remote, max_km in rows:
        msg = match_pb2.ServiceRequest(
            id=rid,
            required_skills=codes_of[mask],
            window=_window(start, end),
            urgency=urgency,
            volunteers_needed=slots,
            remote=remote,
            max_distance_km=max_km,
        )
        if np.isfinite(lat) and np.isfinite(lon):
            msg.location.lat = lat
            msg.location.lon = lon
        out.append(msg)
    return out


def pool_to_proto(pool: VolunteerPool) -> list[match_pb2.Volunteer]:
    """One ``Volunteer`` per row of ``pool`` (skills from ``levels``), windows in pool order."""
    skills, windows = _skills_and_windows(pool)
    rows = zip(
        pool.ids,
        skills,
        pool.lat.tolist(),
        pool.lon.tolist(),
        windows,
        pool.max_travel_km.tolist(),
        pool.rating.tolist(),
        pool.rating_count.tolist(),
        pool.recent_hours.tolist(),
        strict=True,
    )
    return [
        match_pb2.Volunteer(
            id=vid,
            skills=held,
            home={"lat": lat, "lon": lon},
            availability=free,
            max_travel_km=travel,
            rating=rating,
            rating_count=count,
            recent_hours=hours,
        )
        for vid, held, lat, lon, free, travel, rating, count, hours in rows
    ]


Fields = list[dict[str, Any]]


def _skills_and_windows(pool: VolunteerPool) -> tuple[list[Fields], list[Fields]]:
    """Each volunteer's skills and windows as plain dicts (faster to build than messages)."""
    holder, skill = np.nonzero(pool.levels)
    skills = [
        {"code": SKILL_CODES[s], "level": lv}
        for s, lv in zip(skill.tolist(), pool.levels[holder, skill].tolist(), strict=True)
    ]
    order = np.argsort(pool.window_owner, kind="stable")
    windows = [
        {"start": {"seconds": s}, "end": {"seconds": e}}
        for s, e in zip(
            pool.window_start[order].tolist(), pool.window_end[order].tolist(), strict=True
        )
    ]
    return (
        _split(skills, np.bincount(holder, minlength=len(pool))),
        _split(windows, np.bincount(pool.window_owner, minlength=len(pool))),
    )


def _split(items: Fields, counts: I64) -> list[Fields]:
    """Cut ``items`` into consecutive runs of ``counts`` items."""
    ends = np.cumsum(counts).tolist()
    return [items[e - c : e] for e, c in zip(ends, counts.tolist(), strict=True)]


def _window(start: int, end: int) -> match_pb2.TimeWindow:
    return match_pb2.TimeWindow(**window_fields(start, end))


def window_fields(start: int, end: int) -> dict[str, Any]:
    """A ``TimeWindow`` as plain fields, from epoch seconds."""
    return {"start": {"seconds": start}, "end": {"seconds": end}}


def timestamp_fields(epoch_ms: int) -> dict[str, int]:
    """A ``Timestamp`` as plain fields, from epoch milliseconds."""
    return {"seconds": epoch_ms // 1000, "nanos": (epoch_ms % 1000) * 1_000_000}


_DETAIL = {
    Reason.NO_SKILL: "no volunteer in the batch holds every required skill",
    Reason.OUT_OF_RANGE: "volunteers with the required skills exist, but none is within range",
    Reason.NOT_AVAILABLE: (
        "skilled volunteers in range exist, but none is available for the whole window"
    ),
    Reason.OUTCOMPETED: (
        "feasible volunteers exist, but the optimum gave them to higher-value requests "
        "or to requests that could use no one else"
    ),
}


def match_result_to_proto(
    result: MatchResult, requests: RequestBatch, pool: VolunteerPool
) -> match_pb2.MatchResponse:
    """The response for ``result``, solved over ``requests`` and ``pool``."""
    response = match_pb2.MatchResponse()
    _add_assignments(response, result, requests, pool)
    _add_unassigned(response, result, requests)
    _fill_stats(response.stats, result, requests, pool)
    return response


def _add_assignments(
    response: match_pb2.MatchResponse,
    result: MatchResult,
    requests: RequestBatch,
    pool: VolunteerPool,
) -> None:
    terms = result.cost_terms.reshape(-1, 4)
    rows = zip(
        result.request.tolist(),
        result.volunteer.tolist(),
        result.distance_km.tolist(),
        terms.sum(axis=1).tolist(),
        terms.tolist(),
        result.slot.tolist(),
        pool.window_start[result.window].tolist(),
        pool.window_end[result.window].tolist(),
        strict=True,
    )
    add = response.assignments.add
    for r, v, km, score, (dist, skill, rating, fair), slot, w_start, w_end in rows:
        add(
            request_id=requests.ids[r],
            volunteer_id=pool.ids[v],
            distance_km=km,
            score=score,
            breakdown=match_pb2.CostBreakdown(
                distance=dist, skill=skill, rating=rating, fairness=fair
            ),
            slot=slot,
            volunteer_window=_window(w_start, w_end),
        )


def _add_unassigned(
    response: match_pb2.MatchResponse, result: MatchResult, requests: RequestBatch
) -> None:
    rows = zip(
        result.unserved_request.tolist(),
        result.unserved_slots.tolist(),
        result.unserved_reason.tolist(),
        strict=True,
    )
    for r, unfilled, reason in rows:
        needed = int(requests.slots[r])
        what = "unserved" if unfilled >= needed else f"{unfilled} of {needed} slots unfilled"
        response.unassigned.add(
            request_id=requests.ids[r],
            reason=reason,
            detail=f"Request {what}: {_DETAIL[Reason(reason)]}.",
            unfilled_slots=unfilled,
        )


def _fill_stats(
    stats: match_pb2.MatchStats, result: MatchResult, requests: RequestBatch, pool: VolunteerPool
) -> None:
    stats.requests = len(requests)
    stats.volunteers = len(pool)
    stats.slots = int(requests.slots.sum())
    stats.assigned_slots = len(result.request)
    stats.fully_served_requests = len(requests) - len(np.unique(result.unserved_request))
    stats.value_served = float(result.value_served)
    stats.total_cost = result.total_cost
    stats.total_distance_km = float(result.distance_km.sum())
    stats.candidate_pairs = result.stats.candidate_pairs
    stats.rounds = result.stats.rounds
    stats.candidates_ms = result.stats.candidates_ms
    stats.scoring_ms = result.stats.scoring_ms
    stats.solve_ms = result.stats.solve_ms
    stats.total_ms = result.stats.total_ms
