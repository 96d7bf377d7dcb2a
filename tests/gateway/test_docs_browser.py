"""``/docs`` in a real browser (Debian's headless chromium, ``tests.gateway.chromium``): Swagger
UI renders every service and operation of ``/openapi.json`` from the gateway alone, shows the
example bodies of the proto comments, and *Try it out* sends them through the gateway, with the
API key that *Authorize* takes. The screenshots are written under the test's ``tmp_path``
(their paths are printed: ``pytest -s`` shows them).

Also here, without a browser: every example body is accepted by the live gateway, so a reader
who sends one gets an answer, not a 400.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import default_services
from gateway.http_rules import bindings_for
from tests.gateway.chromium import DevTools, chromium_or_skip, run_chromium
from tests.support.gateway import Stack, matcher_stack
from tests.support.service import TEST_SETTINGS

TOKEN = "docs-browser-test-key"
SETTINGS = TEST_SETTINGS.with_overrides(
    api_keys=f"docs:admin:{hashlib.sha256(TOKEN.encode()).hexdigest()}"
)
BINDINGS = bindings_for(default_services())
#: The open operation's parts in Swagger UI's page.
OPEN = ".opblock.is-open"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with matcher_stack(SETTINGS) as running:
        yield running


@pytest.fixture(scope="module")
def document(stack: Stack) -> dict[str, Any]:
    reply = httpx.get(f"{stack.url}/openapi.json", timeout=10)
    assert reply.status_code == 200
    body: dict[str, Any] = reply.json()
    return body


def _check_png(path: Path) -> None:
    print(f"screenshot: {path}")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 20_000  # a rendered page, not a blank one


def test_the_page_renders_every_service_and_operation(stack: Stack, tmp_path: Path) -> None:
    chromium = chromium_or_skip()
    profile, shot = tmp_path / "profile", tmp_path / "docs.png"
    flags = ("--window-size=1280,2000", "--virtual-time-budget=5000")
    run_chromium(chromium, profile, f"{stack.url}/docs", f"--screenshot={shot}", *flags)
    _check_png(shot)
    dom = run_chromium(chromium, profile, f"{stack.url}/docs", "--dump-dom", *flags)
    assert "volunteer-matcher HTTP/JSON API" in dom
    for service in {b.method.containing_service.name for b in BINDINGS}:
        assert f'data-tag="{service}"' in dom, service
    for binding in BINDINGS:
        assert f'data-path="{binding.template.openapi_path}"' in dom, binding.template.text
    assert "Authorize" in dom
    assert f"{stack.url} - this gateway" in dom  # the servers entry: the gateway itself


def test_a_deep_link_opens_the_operation_with_its_example(stack: Stack, tmp_path: Path) -> None:
    chromium = chromium_or_skip()
    url = f"{stack.url}/docs#/MatchService/MatchService_Match"
    dom = run_chromium(
        chromium, tmp_path / "profile", url, "--dump-dom", "--virtual-time-budget=5000"
    )
    assert "is-open" in dom and "elderly_care" in dom and "URGENCY_URGENT" in dom


def test_try_it_out_sends_the_example_through_the_gateway_with_the_key(
    stack: Stack, document: dict[str, Any], tmp_path: Path
) -> None:
    example = document["paths"]["/v1/match"]["post"]["requestBody"]["content"]["application/json"][
        "example"
    ]
    with DevTools(chromium_or_skip(), tmp_path / "profile") as page:
        page.send("Page.navigate", url=f"{stack.url}/docs#/MatchService/MatchService_Match")
        page.wait_for(f"!!document.querySelector('{OPEN} .try-out__btn')", "Try it out")
        page.evaluate(f"document.querySelector('{OPEN} .try-out__btn').click()")
        body = page.wait_for(f"document.querySelector('{OPEN} textarea')?.value", "the body")
        assert json.loads(body) == example

        assert _execute(page) == 401  # no key yet: the server's UNAUTHENTICATED
        page.evaluate("document.querySelector('.btn.authorize').click()")
        page.wait_for("!!document.querySelector('input[aria-label=auth-bearer-value]')", "a field")
        page.evaluate("document.querySelector('input[aria-label=auth-bearer-value]').focus()")
        page.send("Input.insertText", text=TOKEN)  # typed, as a person would
        page.evaluate("document.querySelector('.auth-btn-wrapper .authorize').click()")
        page.evaluate("document.querySelector('.auth-btn-wrapper .btn-done').click()")

        assert _execute(page) == 200
        curl = page.evaluate(f"document.querySelector('{OPEN} .curl-command')?.innerText")
        assert f"{stack.url}/v1/match" in curl and f"Authorization: Bearer {TOKEN}" in curl
        answer = json.loads(
            page.evaluate(
                f"document.querySelector('{OPEN} .live-responses-table .microlight').innerText"
            )
        )
        pairs = [(a["requestId"], a["volunteerId"]) for a in answer["assignments"]]
        assert pairs == [("r-1", "v-1"), ("r-2", "v-2")]  # the optimum of the example
        _check_png(page.screenshot(tmp_path / "try-it-out.png"))


def _execute(page: DevTools) -> int:
    """Clear the last answer, click Execute, and wait for the new answer's status code."""
    page.evaluate(f"document.querySelector('{OPEN} .btn-clear')?.click()")
    page.wait_for(f"!document.querySelector('{OPEN} .live-responses-table')", "no answer")
    page.evaluate(f"document.querySelector('{OPEN} .execute').click()")
    status = page.wait_for(
        f"document.querySelector('{OPEN} .live-responses-table .response .response-col_status')"
        "?.innerText.trim()",
        "the answer",
    )
    return int(status)


def test_every_example_body_is_accepted_by_the_gateway(
    stack: Stack, document: dict[str, Any]
) -> None:
    """Sent as the page sends it (path variables filled in), no example is a 400: each is a
    well-formed, valid request; the ones that need no earlier state succeed."""
    headers = {"authorization": f"Bearer {TOKEN}"}
    answers = {}
    with httpx.Client(base_url=stack.url, headers=headers, timeout=30) as http:
        for path, methods in document["paths"].items():
            for method, op in methods.items():
                if "requestBody" not in op:
                    continue
                example = op["requestBody"]["content"]["application/json"]["example"]
                url = path.replace("{order_id}", "o-missing").replace("{offer_id}", "o-missing.1")
                url = url.replace("{volunteer_id}", "v-1")
                answers[op["operationId"]] = http.request(method, url, json=example)
    assert len(answers) == 11
    for name, answer in answers.items():
        assert answer.status_code != 400 or answer.json()["error"]["status"] != (
            "INVALID_ARGUMENT"
        ), f"{name}: {answer.text}"
    for name in (
        "MatchService_Match",
        "VolunteerService_UpsertVolunteers",
        "OrderService_SubmitOrder",
        "DispatchService_RunDispatchRound",
        "VolunteerService_ReplaceAvailability",
    ):
        assert answers[name].status_code == 200, f"{name}: {answers[name].text}"
