"""A property-based API fuzzer (schemathesis) against the live gateway in front of a real
server: for a bounded number of generated requests per unary operation, no answer is a 5xx,
and every status code, content type, header and response body is one the document describes.

Two of schemathesis's checks are left out on purpose, because the document describes the
canonical JSON while the gateway and server are, rightly, not that literal:
``negative_data_rejection`` (proto3 JSON accepts more than the canonical form: ``null`` for any
field, proto field names, numbers as strings) and ``positive_data_acceptance`` (the server
checks what a schema cannot say, e.g. a volunteer needs an id; those are 400s naming the field).

The server has an API key, which the fuzzer sends as the document's security scheme says
(``Authorization: Bearer``); schemathesis also checks that a call without it is refused (401),
so the scheme the document declares is the one the server enforces.

After every request the gateway must still answer ``/healthz`` with 200. ``FUZZ_EXAMPLES``
raises the examples per operation for a long run (see ``tests/fuzz/conftest.py``; run with
``tests/fuzz`` to get the inputs tried per operation in the end-of-run summary).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from tests.fuzz.tally import TALLY
from tests.support.gateway import Stack, matcher_stack
from tests.support.service import TEST_SETTINGS

#: Generated requests per operation (bounded: the whole run takes seconds; FUZZ_EXAMPLES for
#: a long run).
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES") or 40)
TOKEN = "gateway-fuzz-key"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SETTINGS = TEST_SETTINGS.with_overrides(
    api_keys=f"fuzz:admin:{hashlib.sha256(TOKEN.encode()).hexdigest()}"
)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """A server of its own: the fuzzer writes random volunteers into its registry."""
    with matcher_stack(SETTINGS) as running:
        yield running


@pytest.fixture(scope="module")
def api(stack: Stack) -> Any:
    return schemathesis.openapi.from_url(f"{stack.url}/openapi.json")


def _streams(ctx: Any) -> bool:
    """Server-streaming operations: a watch stream lasts until the client leaves, so they are
    tested on their own (tests/gateway/test_gateway_passthrough.py), not fuzzed."""
    return "text/event-stream" in str(ctx.operation.definition.raw.get("responses", {}))


schema = schemathesis.pytest.from_fixture("api").exclude(_streams)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_operation_answers_5xx(case: Any, stack: Stack) -> None:
    response = case.call(headers=AUTH)
    TALLY.record(f"gateway {case.operation.label}", str(response.status_code))
    case.validate_response(
        response, excluded_checks=[negative_data_rejection, positive_data_acceptance]
    )
    assert httpx.get(f"{stack.url}/healthz", timeout=10).status_code == 200
