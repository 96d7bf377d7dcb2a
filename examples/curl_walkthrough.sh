#!/usr/bin/env bash
# A walk through the HTTP/JSON gateway with curl: match with inline volunteers, register
# volunteers, read them back, match against the registered pool, and see what an error looks
# like. Each step prints the command's JSON answer.
#
#   matcher serve --port 50051 &
#   python -m gateway --grpc-target 127.0.0.1:50051 --port 8080 &
#   GATEWAY=http://127.0.0.1:8080 bash examples/curl_walkthrough.sh
#
# The test suite runs this script against a real server and gateway (tests/test_examples.py).
set -euo pipefail

GATEWAY="${GATEWAY:-http://127.0.0.1:8080}"

step() { printf '\n== %s\n' "$*"; }

# curl for a call that must succeed: prints the body, fails the script on an HTTP error.
call() { curl -sS --fail-with-body -H 'Content-Type: application/json' "$@"; echo; }

step "Is the gateway up, and the gRPC server behind it?"
call "$GATEWAY/healthz"

step "Match two requests against volunteers sent inline (POST /v1/match)"
call -X POST "$GATEWAY/v1/match" -d @- <<'JSON'
{
  "requests": [
    {"id": "req-home-visit", "requiredSkills": ["elderly_care"],
     "location": {"lat": 36.275, "lon": 100.620},
     "window": {"start": "2026-12-01T02:00:00Z", "end": "2026-12-01T03:00:00Z"},
     "urgency": "URGENCY_URGENT"},
    {"id": "req-live-class", "requiredSkills": ["live_stream"], "remote": true,
     "window": {"start": "2026-12-01T04:00:00Z", "end": "2026-12-01T05:00:00Z"}}
  ],
  "volunteers": [
    {"id": "vol-li", "skills": [{"code": "elderly_care", "level": 4}],
     "home": {"lat": 36.281, "lon": 100.612},
     "availability": [{"start": "2026-12-01T01:00:00Z", "end": "2026-12-01T05:00:00Z"}]},
    {"id": "vol-wang", "skills": [{"code": "live_stream", "level": 5}],
     "home": {"lat": 36.072, "lon": 100.910},
     "availability": [{"start": "2026-12-01T01:00:00Z", "end": "2026-12-01T09:00:00Z"}]}
  ]
}
JSON

step "Register the volunteers (POST /v1/volunteers:batchUpsert)"
call -X POST "$GATEWAY/v1/volunteers:batchUpsert" -d @- <<'JSON'
{
  "volunteers": [
    {"branchId": "qabqa-grid-1",
     "volunteer": {"id": "vol-li", "skills": [{"code": "elderly_care", "level": 4}],
                   "home": {"lat": 36.281, "lon": 100.612},
                   "availability": [{"start": "2026-12-01T01:00:00Z",
                                     "end": "2026-12-01T05:00:00Z"}]}},
    {"branchId": "qabqa-grid-1",
     "volunteer": {"id": "vol-wang", "skills": [{"code": "live_stream", "level": 5}],
                   "home": {"lat": 36.072, "lon": 100.910},
                   "availability": [{"start": "2026-12-01T01:00:00Z",
                                     "end": "2026-12-01T09:00:00Z"}]}}
  ]
}
JSON

step "Read one back (GET /v1/volunteers/{volunteer_id})"
call "$GATEWAY/v1/volunteers/vol-li"

step "List them, one page of 10 (GET /v1/volunteers?pageSize=10&branchIds=...)"
call "$GATEWAY/v1/volunteers?pageSize=10&branchIds=qabqa-grid-1"

step "Match against the registered pool instead (\"pool\": {...}), with a 5 s deadline"
call -X POST "$GATEWAY/v1/match" -H 'grpc-timeout: 5S' -d @- <<'JSON'
{
  "requests": [
    {"id": "req-home-visit", "requiredSkills": ["elderly_care"],
     "location": {"lat": 36.275, "lon": 100.620},
     "window": {"start": "2026-12-01T02:00:00Z", "end": "2026-12-01T03:00:00Z"},
     "urgency": "URGENCY_URGENT"}
  ],
  "pool": {"branchIds": ["qabqa-grid-1"]}
}
JSON

step "An error: a latitude out of range is 400 INVALID_ARGUMENT naming the field"
body=$(mktemp)
trap 'rm -f "$body"' EXIT
status=$(curl -sS -o "$body" -w '%{http_code}' \
  -H 'Content-Type: application/json' -X POST "$GATEWAY/v1/match" \
  -d '{"requests": [{"id": "r1", "location": {"lat": 123, "lon": 100},
       "window": {"start": "2026-12-01T02:00:00Z", "end": "2026-12-01T03:00:00Z"}}]}')
cat "$body"
echo
echo "HTTP status: $status"
[ "$status" = 400 ]
