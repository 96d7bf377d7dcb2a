"""API keys (parsing, hashing, errors naming the variable or file line), the role table
(every rpc of every service is in it), the loopback test of open mode, the rate limiter's
token bucket and ``matcher keys new``."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from pathlib import Path

import pytest
from google.protobuf.descriptor import FileDescriptor

from matcher.access.keys import (
    KeyRing,
    hash_token,
    load_key_ring,
    new_token,
    parse_keys_env,
    parse_keys_toml,
)
from matcher.access.rate_limit import RATE_VARIABLE, RateLimiter
from matcher.access.roles import PERMISSIONS, Role, is_open, may_call
from matcher.cli import _parser
from matcher.config import ConfigError, Settings
from matcher.errors import LimitExceededError
from matcher.orders.store.json import decode_order, encode_order
from matcher.service.interceptors.access import announce_mode, is_loopback
from matcher.tools.keys import run_keys
from matcher.v1 import match_pb2, orders_pb2, status_pb2, timebank_pb2, volunteers_pb2
from tests.support.orders import new_order

DIGEST = "ab" * 32
FILES: tuple[FileDescriptor, ...] = (
    match_pb2.DESCRIPTOR,
    volunteers_pb2.DESCRIPTOR,
    status_pb2.DESCRIPTOR,
    orders_pb2.DESCRIPTOR,
    timebank_pb2.DESCRIPTOR,
)


def test_every_rpc_of_every_service_is_in_the_table() -> None:
    rpcs = {
        f"/{service.full_name}/{method.name}"
        for file in FILES
        for service in file.services_by_name.values()
        for method in service.methods
    }
    assert len(rpcs) >= 23
    assert rpcs == set(PERMISSIONS)  # no rpc forgotten, none that does not exist


def test_the_table_says_who_may_call_what() -> None:
    match, status = "/matcher.v1.MatchService/Match", "/matcher.v1.StatusService/GetServerStatus"
    assert may_call(Role.DISPATCHER, match) and not may_call(Role.REGISTRY, match)
    assert may_call(Role.ADMIN, status) and may_call(Role.DISPATCHER, status)
    assert not any(may_call(r, status) for r in (Role.REGISTRY, Role.RESIDENT_APP))
    assert may_call(Role.ADMIN, "/other.v1.Unknown/Call")  # not in the table: admin only
    assert not may_call(Role.DISPATCHER, "/other.v1.Unknown/Call")
    assert is_open("/grpc.health.v1.Health/Check") and not is_open(match)


def test_tokens_are_random_and_stored_as_their_digest() -> None:
    token = new_token()
    assert len(token) >= 43 and token != new_token()
    ring = KeyRing(parse_keys_env(f"console:dispatcher:{hash_token(token)}"))
    found = ring.find(token)
    assert found is not None and found.key_id == "console" and found.role is Role.DISPATCHER
    assert ring.find(token + "x") is None and not ring.open and KeyRing().open
    assert token not in repr(found) and hash_token(token) not in repr(found)


def test_env_form_with_a_volunteer_and_blank_entries() -> None:
    keys = parse_keys_env(f" a:admin:{DIGEST}, ,app-7:volunteer_app:{'CD' * 32}:vol:7 ")
    assert [(k.key_id, k.role, k.volunteer_id) for k in keys] == [
        ("a", Role.ADMIN, ""),
        ("app-7", Role.VOLUNTEER_APP, "vol:7"),
    ]
    assert keys[1].sha256 == "cd" * 32  # hex is case-insensitive


GOOD_FILE = f"""
# the centre's keys
[[keys]]
id = "console"
role = "dispatcher"
sha256 = "{DIGEST}"

[[keys]]
id = "vol-app"
role = "volunteer_app"
sha256 = "{"cd" * 32}"
volunteer_id = "vol-a"
rate_per_second = 2.5
"""


def test_keys_file_and_variable_are_combined(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    path.write_text(GOOD_FILE, encoding="utf-8")
    settings = Settings(api_keys_file=str(path), api_keys=f"ops:admin:{'ef' * 32}")
    ring = load_key_ring(settings)
    assert len(ring) == 3
    [key] = [k for k in parse_keys_toml(GOOD_FILE, "f") if k.key_id == "vol-app"]
    assert (key.volunteer_id, key.rate_per_second) == ("vol-a", 2.5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a:admin", "MATCHER_API_KEYS entry 1: expected id:role:sha256"),
        (f"a:admin:{DIGEST},b:boss:{DIGEST}", "MATCHER_API_KEYS entry 2 (id b): role must be"),
        ("a:admin:abc", "MATCHER_API_KEYS entry 1 (id a): sha256 must be 64 hex digits"),
        (f"a b:admin:{DIGEST}", "MATCHER_API_KEYS entry 1: id must be"),
        (f"v:volunteer_app:{DIGEST}", "volunteer_id is required for role volunteer_app"),
        (f"r:registry:{DIGEST}:vol-1", "not allowed for other roles"),
    ],
)
def test_bad_env_entries_name_the_variable_and_entry(text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        parse_keys_env(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[[keys]]\nid = "a"\nrole = "admin"\n',
            r"keys.toml, line 1 \(\[\[keys\]\] #1\) \(id a\): sha256",
        ),
        (
            GOOD_FILE + '\n[[keys]]\nid = "x"\nrole = "root"\nsha256 = "00"\n',
            r"keys.toml, line 15 \(\[\[keys\]\] #3\) \(id x\): role must be one of admin",
        ),
        (GOOD_FILE.replace("rate_per_second = 2.5", "rate_per_second = -1"), "rate_per_second"),
        (GOOD_FILE.replace("rate_per_second", "rate"), r"line 8 .*unknown field\(s\) rate"),
        ("[[keys]\nid=1", r"MATCHER_API_KEYS_FILE .*keys.toml: not valid TOML: .*line 1"),
        ("[other]\nx = 1\n", r"unknown table\(s\): other"),
        ('keys = ["a"]\n', r"keys must be \[\[keys\]\] tables"),
        (
            GOOD_FILE + GOOD_FILE.replace("vol-app", "v2"),
            "API key id 'console' is configured twice",
        ),
    ],
)
def test_bad_keys_files_name_the_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "keys.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected):
        load_key_ring(Settings(api_keys_file=str(path)))


def test_duplicate_digests_and_missing_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="API keys 'b' and 'a' have the same sha256"):
        KeyRing(parse_keys_env(f"a:admin:{DIGEST},b:registry:{DIGEST}"))
    missing = tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match=r"MATCHER_API_KEYS_FILE=.*absent.toml.*cannot read"):
        load_key_ring(Settings(api_keys_file=str(missing)))


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.3.0.9", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.7", False),
        ("matcher.example.org", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_open_mode_is_announced(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="matcher.service.interceptors.access")
    announce_mode(KeyRing(), "127.0.0.1")
    announce_mode(KeyRing(parse_keys_env(f"a:admin:{DIGEST}")), "0.0.0.0")
    [warning, on] = caplog.records
    assert warning.levelno == logging.WARNING and "development mode" in warning.getMessage()
    assert on.levelno == logging.INFO and "1 API key(s)" in on.getMessage()


def test_the_bucket_refills_at_the_rate_and_names_the_setting() -> None:
    now = [100.0]
    limiter = RateLimiter(per_second=2.0, burst=3, clock=lambda: now[0])
    for _ in range(3):
        limiter.take("API key a")
    with pytest.raises(LimitExceededError) as caught:
        limiter.take("API key a")
    error = caught.value
    assert (error.limit, error.allowed, error.actual) == (RATE_VARIABLE, 2, 4)
    assert str(error) == (
        "calls this second by API key a: 4 exceeds the limit MATCHER_RATE_LIMIT_PER_SECOND=2"
    )
    limiter.take("API key b")  # buckets are per caller
    now[0] += 0.5  # one token back
    limiter.take("API key a")
    with pytest.raises(LimitExceededError):
        limiter.take("API key a")
    limiter.take("API key a", per_second=0)  # a key's own 0: no limit
    off = RateLimiter(per_second=0, burst=0)
    for _ in range(100):
        off.take("anyone")
    own = RateLimiter(per_second=0, burst=0, clock=lambda: now[0])
    own.take("slow key", per_second=0.5)  # a key's own rate applies with the server's off
    with pytest.raises(LimitExceededError, match=r"=0\.5$"):
        own.take("slow key", per_second=0.5)


def test_keys_new_prints_a_token_and_an_entry_that_loads(tmp_path: Path) -> None:
    args = _parser().parse_args(
        ["keys", "new", "--id", "app-7", "--role", "volunteer_app", "--volunteer-id", "vol-7"]
    )
    out = io.StringIO()
    assert run_keys(args, out) == 0
    lines = out.getvalue().splitlines()
    token = lines[1]
    entry = out.getvalue().split("MATCHER_API_KEYS_FILE:\n", 1)[1]
    path = tmp_path / "keys.toml"
    path.write_text(entry, encoding="utf-8")
    found = load_key_ring(Settings(api_keys_file=str(path))).find(token)
    assert found is not None and (found.key_id, found.volunteer_id) == ("app-7", "vol-7")
    bad = _parser().parse_args(["keys", "new", "--id", "x", "--role", "volunteer_app"])
    assert run_keys(bad, io.StringIO()) == 2


def test_rate_settings_are_checked_at_start_up() -> None:
    with pytest.raises(ConfigError, match="MATCHER_RATE_LIMIT_PER_SECOND must be"):
        Settings.from_env({"MATCHER_RATE_LIMIT_PER_SECOND": "-1"})
    with pytest.raises(ConfigError, match="MATCHER_RATE_LIMIT_BURST must be"):
        Settings.from_env({"MATCHER_RATE_LIMIT_BURST": "-5"})
    assert "api_keys=" not in repr(Settings(api_keys=f"a:admin:{DIGEST}"))


def test_orders_stored_before_access_control_have_no_owner() -> None:
    order = dataclasses.replace(new_order(), owner="res-a")
    assert decode_order(encode_order(order)).owner == "res-a"
    old = json.loads(encode_order(order))
    del old["w"]
    assert decode_order(json.dumps(old)).owner == ""
