"""A ``VolunteerRecord`` as compact, canonical JSON (the value of a Redis record key).

The text is ``{"v":<version>,"c":<created_ms>,"u":<updated_ms>,`` followed by the *body*,
which holds everything the caller writes::

    {"v":3,"c":1764000000000,"u":1764000123456,"id":"vol-1","b":"branch-7","t":["team-2"],
     "a":true,"p":{"s":[["elderly_care",4]],"lat":36.28,"lon":100.63,"w":[[1655280000,1655287200]],
     "km":20.0,"r":4.5,"rc":10,"rh":3.0}}

The three store-managed numbers come first, in that order, so the Redis write script can read
them with one pattern match and compare bodies as strings: the same record always encodes to
the same body (numbers are normalised to ``float`` / ``int``; NaN and infinities are refused),
so an identical re-upsert is recognised as a no-op without decoding anything.
"""

from __future__ import annotations

import json
from typing import Any

from matcher.registry.model import Profile, VolunteerRecord


def encode_body(record: VolunteerRecord) -> str:
    """The body of ``record``: JSON text after the metadata, without the opening brace.

    Raises ``ValueError`` for a NaN or infinite number.
    """
    p = record.profile
    body = {
        "id": record.id,
        "b": record.branch_id,
        "t": list(record.team_ids),
        "a": bool(record.active),
        "p": {
            "s": [[code, int(level)] for code, level in p.skills],
            "lat": float(p.lat),
            "lon": float(p.lon),
            "w": [[int(start), int(end)] for start, end in p.windows],
            "km": float(p.max_travel_km),
            "r": float(p.rating),
            "rc": int(p.rating_count),
            "rh": float(p.recent_hours),
        },
    }
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text[1:]


def with_meta(body: str, version: int, created_ms: int, updated_ms: int) -> str:
    """The full stored text: the metadata prefix, then ``body``."""
    return f'{{"v":{version},"c":{created_ms},"u":{updated_ms},{body}'


def encode(record: VolunteerRecord) -> str:
    """The full stored text of ``record``."""
    return with_meta(encode_body(record), record.version, record.created_ms, record.updated_ms)


def decode(text: str | bytes) -> VolunteerRecord:
    """The record stored as ``text`` (the inverse of ``encode``)."""
    data: dict[str, Any] = json.loads(text)
    p = data["p"]
    profile = Profile(
        skills=tuple((code, level) for code, level in p["s"]),
        lat=p["lat"],
        lon=p["lon"],
        windows=tuple((start, end) for start, end in p["w"]),
        max_travel_km=p["km"],
        rating=p["r"],
        rating_count=p["rc"],
        recent_hours=p["rh"],
    )
    return VolunteerRecord(
        id=data["id"],
        profile=profile,
        branch_id=data["b"],
        team_ids=tuple(data["t"]),
        active=data["a"],
        version=data["v"],
        created_ms=data["c"],
        updated_ms=data["u"],
    )
