"""Service settings: every default in one place, read once from a mapping of MATCHER_* variables.

``Settings.from_env(os.environ)`` at the entry point; tests pass a plain dict. Invalid values
raise ``ConfigError`` naming the variable, so a bad deployment fails at start-up.

=================================== =========== ================================================
variable                            default     meaning
=================================== =========== ================================================
MATCHER_HOST                        127.0.0.1   address to bind (``0.0.0.0`` or ``::`` for all)
MATCHER_PORT                        50051       port to bind; 0 picks a free one
MATCHER_WORKERS                     8           server threads
MATCHER_MAX_REQUESTS                20000       requests per Match call
MATCHER_MAX_VOLUNTEERS              300000      volunteers per Match call
MATCHER_MAX_SLOTS                   50000       sum of volunteers_needed per Match call
MATCHER_MAX_WINDOWS_PER_VOLUNTEER   64          availability windows per volunteer
MATCHER_MAX_MESSAGE_BYTES           268435456   largest request or response message (256 MiB)
MATCHER_GRACE_SECONDS               5           time in-flight calls get to finish on shutdown
MATCHER_LOG_LEVEL                   INFO        DEBUG, INFO, WARNING, ERROR or CRITICAL
MATCHER_STORE                       memory      ``memory`` (embedded, not kept across restarts)
                                                or ``redis://[:password@]host:port/db``
                                                (``rediss://``, ``unix://``: ``matcher.store_url``)
MATCHER_REDIS_PREFIX                matcher     first part of every Redis key (several
                                                registries can share one Redis database)
MATCHER_HEALTH_INTERVAL_SECONDS     2           how often the store is probed for health
MATCHER_STORE_READ_TIMEOUT_SECONDS  0.5         how long Redis reads and health probes wait
                                                for an answer (writes wait 2 s: one that
                                                timed out may have been applied)
MATCHER_METRICS_PORT                9464        Prometheus /metrics port (on MATCHER_HOST);
                                                0 picks a free one, -1 turns it off
MATCHER_LOG_FORMAT                  text        ``text`` (human) or ``json`` (one object a line)
MATCHER_TRACING                     off         ``off``, ``console`` or ``otlp``
MATCHER_OTLP_ENDPOINT               http://127.0.0.1:4318/v1/traces
                                                OTLP/HTTP traces endpoint (``otlp`` mode)
MATCHER_DISPATCH_WINDOW_SECONDS     30          batch window of dispatch rounds; 0: rounds only
                                                on demand (urgent orders dispatch at once)
MATCHER_OFFER_TTL_SECONDS           300         how long a volunteer has to answer an offer
MATCHER_TLS_CERT_FILE               (empty)     PEM certificate chain: set with the key to serve
                                                gRPC over TLS (plaintext when both are empty)
MATCHER_TLS_KEY_FILE                (empty)     PEM private key of that certificate
MATCHER_TLS_CLIENT_CA_FILE          (empty)     PEM CA bundle: when set, clients must present a
                                                certificate it signed (mutual TLS)
MATCHER_API_KEYS_FILE               (empty)     TOML file of API keys (``matcher keys new``
                                                prints an entry); see ``matcher.access.keys``
MATCHER_API_KEYS                    (empty)     more keys: ``id:role:sha256[:volunteer_id]``,
                                                comma-separated. No keys at all: open
                                                (development) mode, every call allowed
MATCHER_RATE_LIMIT_PER_SECOND       0           calls per second per API key (per peer address
                                                in open mode); 0: no limit
MATCHER_RATE_LIMIT_BURST            0           calls a key may make at once; 0: one second's
                                                worth of the rate
MATCHER_MAX_WATCH_STREAMS           0           WatchOffers streams open at once (each holds a
                                                server thread); 0: half of MATCHER_WORKERS.
                                                More are RESOURCE_EXHAUSTED
MATCHER_COMPLETION_GRACE_HOURS      48          an ACCEPTED order not completed this long after
                                                its service ended is closed by the dispatcher
                                                (CANCELLED, ``closed_uncompleted``), freeing
                                                its volunteers' holds
MATCHER_REGISTRY_OUTBOX_LEASE_SECONDS
                                    30          how long a registry side effect stays with the
                                                process that is applying it before another
                                                process may replay it (``registry_sync``)
MATCHER_TEST_CRASH_AT               (empty)     TESTS ONLY: the process exits at once at this
                                                point (``after-order-commit``,
                                                ``after-registry-write``), as if killed there
=================================== =========== ================================================
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from matcher.store_url import MEMORY_STORE, StoreURLError, parse_store_url

PREFIX = "MATCHER_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
TRACING_MODES = ("off", "console", "otlp")
_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_INT32_MAX = 2**31 - 1


class ConfigError(ValueError):
    """A MATCHER_* setting is invalid; the message names the variable."""


def env_name(field_name: str) -> str:
    """The environment variable of a ``Settings`` field (``max_slots`` -> ``MATCHER_MAX_SLOTS``)."""
    return PREFIX + field_name.upper()


class Rule(NamedTuple):
    """What one setting must satisfy, and the requirement its error message states."""

    field: str
    ok: Callable[[Any], bool]
    requirement: str


def _within(low: float, high: float) -> Callable[[float], bool]:
    return lambda value: math.isfinite(value) and low <= value <= high


def _one_of(field_name: str, choices: tuple[str, ...]) -> Rule:
    return Rule(field_name, lambda value: value in choices, f"must be one of {', '.join(choices)}")


_COUNTS = ("max_requests", "max_volunteers", "max_slots", "max_windows_per_volunteer")
#: Where ``MATCHER_TEST_CRASH_AT`` may kill the process (the fault tests' crash points).
CRASH_POINTS = ("", "after-order-commit", "after-registry-write")

#: The checks of single settings, in the order they run (the first failure is raised);
#: checks of several settings together follow them in ``Settings.__post_init__``.
_RULES: tuple[Rule, ...] = (
    Rule("host", lambda value: value.strip() != "", "must not be empty"),
    Rule("port", _within(0, 65_535), "must be in [0, 65535]"),
    Rule("workers", _within(1, 1024), "must be in [1, 1024]"),
    *(Rule(name, _within(1, _INT32_MAX), f"must be in [1, {_INT32_MAX}]") for name in _COUNTS),
    Rule(
        "max_message_bytes",
        _within(1024, _INT32_MAX),
        f"must be in [1024, {_INT32_MAX}] (gRPC's limit is a signed 32-bit int)",
    ),
    Rule("grace_seconds", _within(0, math.inf), "must be a finite number >= 0"),
    _one_of("log_level", LOG_LEVELS),
    Rule(
        "redis_prefix",
        lambda value: _PREFIX_PATTERN.fullmatch(value) is not None,
        "must be 1 to 64 characters from A-Z a-z 0-9 _ . : -",
    ),
    Rule("health_interval_seconds", _within(0.05, 3600), "must be a number in [0.05, 3600]"),
    Rule("store_read_timeout_seconds", _within(0.01, 60), "must be a number in [0.01, 60]"),
    Rule("metrics_port", _within(-1, 65_535), "must be -1 (off) or in [0, 65535]"),
    _one_of("log_format", LOG_FORMATS),
    _one_of("tracing", TRACING_MODES),
    Rule(
        "otlp_endpoint",
        lambda value: value.startswith(("http://", "https://")),
        "must be an http:// or https:// URL",
    ),
    Rule(
        "dispatch_window_seconds",
        lambda value: value == 0 or _within(0.05, 86_400)(value),
        "must be 0 (on demand only) or a number in [0.05, 86400]",
    ),
    Rule("offer_ttl_seconds", _within(1, 86_400), "must be a number in [1, 86400]"),
    Rule(
        "rate_limit_per_second",
        _within(0, 1e6),
        "must be 0 (no limit) or a number in (0, 1000000]",
    ),
    Rule(
        "rate_limit_burst",
        _within(0, 1_000_000),
        "must be in [0, 1000000] (0: one second's worth of the rate)",
    ),
    Rule("completion_grace_hours", _within(0, 8_760), "must be a number in [0, 8760]"),
    Rule("registry_outbox_lease_seconds", _within(0.1, 3_600), "must be a number in [0.1, 3600]"),
    Rule(
        "test_crash_at",
        lambda value: value in CRASH_POINTS,
        f"must be empty or one of {', '.join(CRASH_POINTS[1:])} (tests only)",
    ),
)


@dataclass(frozen=True)
class Settings:
    """Everything the service can be configured with; validated on construction."""

    host: str = "127.0.0.1"
    port: int = 50051
    workers: int = 8
    max_requests: int = 20_000
    max_volunteers: int = 300_000
    max_slots: int = 50_000
    max_windows_per_volunteer: int = 64
    max_message_bytes: int = 256 * 1024 * 1024
    grace_seconds: float = 5.0
    log_level: str = "INFO"
    store: str = field(default=MEMORY_STORE, repr=False)  # a URL may hold a password
    redis_prefix: str = "matcher"
    health_interval_seconds: float = 2.0
    store_read_timeout_seconds: float = 0.5
    metrics_port: int = 9464
    log_format: str = "text"
    tracing: str = "off"
    otlp_endpoint: str = "http://127.0.0.1:4318/v1/traces"
    dispatch_window_seconds: float = 30.0
    offer_ttl_seconds: float = 300.0
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_client_ca_file: str = ""
    api_keys_file: str = ""
    api_keys: str = field(default="", repr=False)  # digests only, but long and noisy
    rate_limit_per_second: float = 0.0
    rate_limit_burst: int = 0
    max_watch_streams: int = 0
    completion_grace_hours: float = 48.0
    registry_outbox_lease_seconds: float = 30.0
    test_crash_at: str = ""  # tests only: see CRASH_POINTS

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _check_type(f.name, getattr(self, f.name), str(f.type))
        for rule in _RULES:
            _check(rule.ok(getattr(self, rule.field)), rule.field, rule.requirement)
        _check_store(self.store)
        _check_tls(self.tls_cert_file, self.tls_key_file, self.tls_client_ca_file)
        _check(
            self.max_watch_streams == 0 or 1 <= self.max_watch_streams < self.workers,
            "max_watch_streams",
            "must be 0 (half of MATCHER_WORKERS) or in [1, MATCHER_WORKERS - 1]: each open "
            "WatchOffers stream holds a server thread, and unary calls need one left",
        )

    @property
    def watch_stream_limit(self) -> int:
        """How many WatchOffers streams may be open at once (``max_watch_streams``, or half of
        the workers when it is 0, at least 1)."""
        return self.max_watch_streams or max(1, self.workers // 2)

    @property
    def tls(self) -> bool:
        """Whether gRPC is served over TLS (a certificate and key are configured)."""
        return self.tls_cert_file != ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Settings from MATCHER_* entries of ``environ``; absent entries keep their default."""
        return cls(**env_values(cls, environ, PREFIX, _parse))

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields replaced (for CLI flags); ``None`` values are ignored."""
        return replace_fields(self, changes, "setting")


def _parse(name: str, raw: str, kind: str) -> object:
    """Parse one variable's text as the field's type (``kind`` is the annotation's text)."""
    if kind in ("int", "float"):
        return parse_number(env_name(name), raw, kind)
    if name == "log_level":
        return raw.upper()
    if name in ("log_format", "tracing"):
        return raw.lower()
    if name == "store" and raw.lower() == MEMORY_STORE:
        return MEMORY_STORE
    return raw


Parse = Callable[[str, str, str], object]
D = TypeVar("D")


def env_values(cls: type, environ: Mapping[str, str], prefix: str, parse: Parse) -> dict[str, Any]:
    """``{field: value}`` for the fields of dataclass ``cls`` whose ``prefix`` + NAME variable is
    set in ``environ``; ``parse(field, text, annotation)`` reads each one. Shared by every
    settings class (the server's here, the gateway's)."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        raw = environ.get(prefix + f.name.upper())
        if raw is not None:
            values[f.name] = parse(f.name, raw.strip(), str(f.type))
    return values


def parse_number(variable: str, raw: str, kind: str) -> int | float:
    """``raw`` as an int or a float; ``ConfigError`` naming ``variable`` otherwise."""
    try:
        return int(raw) if kind == "int" else float(raw)
    except ValueError:
        expected = "an integer" if kind == "int" else "a number"
        raise ConfigError(f"{variable}={raw!r}: expected {expected}") from None


def replace_fields(settings: D, changes: Mapping[str, Any], what: str) -> D:
    """A copy of dataclass ``settings`` with ``changes`` (``None`` ignored; unknown names are a
    ``ConfigError``)."""
    names = {f.name for f in dataclasses.fields(settings)}  # type: ignore[arg-type]
    unknown = sorted(set(changes) - names)
    if unknown:
        raise ConfigError(f"unknown {what}(s): {', '.join(unknown)}")
    kept = {k: v for k, v in changes.items() if v is not None}
    return dataclasses.replace(settings, **kept)  # type: ignore[type-var]


def _check_type(name: str, value: object, kind: str) -> None:
    """Reject a value of the wrong type (an override from code rather than from text)."""
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    _check(ok, name, f"must be of type {kind}, got {type(value).__name__}")


def _check_tls(cert: str, key: str, client_ca: str) -> None:
    """A certificate and its key come together; a client CA needs them (the files are read by
    ``matcher.tls`` at start-up, which names the variable of one it cannot read)."""
    _check(cert != "" or key == "", "tls_key_file", f"needs {env_name('tls_cert_file')} too")
    _check(key != "" or cert == "", "tls_cert_file", f"needs {env_name('tls_key_file')} too")
    _check(
        client_ca == "" or cert != "",
        "tls_client_ca_file",
        f"needs {env_name('tls_cert_file')} and {env_name('tls_key_file')} (mutual TLS is TLS)",
    )


def _check_store(url: str) -> None:
    """``MATCHER_STORE`` parses (``matcher.store_url``); its messages never show a password."""
    try:
        parse_store_url(url)
    except StoreURLError as error:
        raise ConfigError(str(error)) from None


def _check(ok: bool, name: str, requirement: str) -> None:
    if not ok:
        raise ConfigError(f"{env_name(name)} {requirement}")
