"""``matcher import volunteers FILE``: check every row of a volunteer file, then write them
through VolunteerService in batches.

1. Parse every row (``matcher.tools.volunteer_file``) and check it with the server's own
   converter (``matcher.service.convert.upserts_to_records``), a batch at a time; a failing batch
   is re-checked row by row so that every bad row is named. Ids repeated across the file are
   reported too.
2. Report each problem as ``FILE:LINE: field: problem`` (``field`` is the column, with the
   item for lists: ``availability[1].end``).
3. If any row is bad, write nothing and exit 1, unless ``only_valid``: then skip the bad rows.
4. Send ``UpsertVolunteers`` calls of ``batch_size`` rows. Each call is atomic; the file as a
   whole is not, so if the server refuses a batch (it runs the same checks, so only an
   unreachable store or a version conflict can do that) the import stops, says how many rows
   were written, and exits 1. Re-running it is safe: resending a volunteer changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO, cast

import grpc

from matcher.config import Settings
from matcher.errors import LimitExceededError, ValidationError
from matcher.service.convert import check_upserts
from matcher.tools.volunteer_file import Row, read_volunteer_file
from matcher.v1 import volunteers_pb2, volunteers_pb2_grpc

DEFAULT_BATCH_SIZE = 2_000
DEFAULT_MAX_ERRORS = 100
RPC_TIMEOUT_S = 120.0
_PREFIX = "volunteers["


@dataclass
class CheckedFile:
    """The rows of a file after checking: good upserts (with lines) and problems."""

    rows: int = 0
    good: list[tuple[int, volunteers_pb2.VolunteerUpsert]] = field(default_factory=list)
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # line, field, problem

    @property
    def bad_lines(self) -> int:
        return len({line for line, _, _ in self.problems})


def check_file(path: Path, settings: Settings, batch_size: int = DEFAULT_BATCH_SIZE) -> CheckedFile:
    """Parse and check every row of ``path`` (raises ``FileFormatError`` or ``OSError``)."""
    checked = CheckedFile()
    first_line: dict[str, int] = {}
    pending: list[Row] = []
    for row in read_volunteer_file(path):
        checked.rows += 1
        if row.upsert is not None:
            vid = row.upsert.volunteer.id
            seen = first_line.setdefault(vid, row.line) if vid else row.line
            if seen != row.line:
                row.problems.append(("id", f"duplicate of line {seen}"))
        if row.problems or row.upsert is None:
            checked.problems += [(row.line, name, text) for name, text in row.problems]
            if row.upsert is not None:  # the checks the parse problems did not already cover
                reported = {name for name, _ in row.problems}
                found = _violations(row, settings)
                checked.problems += [p for p in found if p[1] not in reported]
            continue
        pending.append(row)
        if len(pending) >= batch_size:
            _check_batch(pending, settings, checked)
            pending = []
    _check_batch(pending, settings, checked)
    checked.problems.sort(key=lambda p: p[0])
    return checked


def _check_batch(rows: list[Row], settings: Settings, checked: CheckedFile) -> None:
    """Check ``rows`` at once; on failure, one by one, to name every bad row exactly."""
    if not rows:
        return
    try:
        _convert(rows, settings)
    except (ValidationError, LimitExceededError):
        for row in rows:
            found = _violations(row, settings)
            if found:
                checked.problems += found
            else:
                checked.good.append((row.line, _upsert(row)))
        return
    checked.good += [(row.line, _upsert(row)) for row in rows]


def _violations(row: Row, settings: Settings) -> list[tuple[int, str, str]]:
    """The converter's complaints about one row, as (line, column, problem)."""
    try:
        _convert([row], settings)
    except ValidationError as error:
        return [(row.line, _column(v.field), v.description) for v in error.violations]
    except LimitExceededError as error:  # only a per-volunteer limit can fail for one row
        problem = f"has {error.actual} windows; at most {error.allowed} are allowed ({error.limit})"
        return [(row.line, "availability", problem)]
    return []


def _convert(rows: Sequence[Row], settings: Settings) -> None:
    check_upserts(
        volunteers_pb2.UpsertVolunteersRequest(volunteers=[_upsert(r) for r in rows]), settings
    )


def _upsert(row: Row) -> volunteers_pb2.VolunteerUpsert:
    assert row.upsert is not None
    return row.upsert


def _column(path: str) -> str:
    """``volunteers[0].volunteer.home.lat`` -> ``lat``; ``volunteers[0].team_ids[1]`` ->
    ``team_ids[1]``: the file's column, with the item for lists."""
    if path.startswith(_PREFIX):
        path = path.partition("].")[2]
    path = path.removeprefix("volunteer.")
    if path.startswith("home"):
        return path.removeprefix("home.") if path != "home" else "lat"
    return path


@dataclass(frozen=True)
class ImportSummary:
    """What an import did."""

    read: int
    written: int
    skipped: int
    seconds: float

    def line(self) -> str:
        rate = self.written / self.seconds if self.seconds > 0 else 0.0
        return (
            f"read {self.read} rows, wrote {self.written}, skipped {self.skipped} "
            f"in {self.seconds:.2f} s ({rate:,.0f} rows/s)"
        )


def send(
    stub: volunteers_pb2_grpc.VolunteerServiceStub,
    upserts: Sequence[tuple[int, volunteers_pb2.VolunteerUpsert]],
    batch_size: int,
) -> Iterator[int]:
    """Write ``upserts`` in batches; yields the rows written after each batch."""
    for start in range(0, len(upserts), batch_size):
        batch = [u for _, u in upserts[start : start + batch_size]]
        stub.UpsertVolunteers(
            volunteers_pb2.UpsertVolunteersRequest(volunteers=batch), timeout=RPC_TIMEOUT_S
        )
        yield len(batch)


def run_import(
    path: Path,
    target: str,
    settings: Settings,
    *,
    only_valid: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_errors: int = DEFAULT_MAX_ERRORS,
    out: TextIO,
    err: TextIO,
) -> int:
    """Check ``path``, report problems to ``err``, write to ``target``; the exit status."""
    started = time.perf_counter()
    checked = check_file(path, settings, batch_size)
    _report_problems(path, checked, max_errors, err)
    if checked.problems and not only_valid:
        print(
            f"{path}: {checked.bad_lines} of {checked.rows} rows are invalid; nothing was "
            "written (fix them, or pass --only-valid to write the valid rows only)",
            file=err,
        )
        return 1
    written = 0
    with grpc.insecure_channel(target, options=_channel_options(settings)) as channel:
        stub = volunteers_pb2_grpc.VolunteerServiceStub(channel)
        try:
            for count in send(stub, checked.good, batch_size):
                written += count
        except grpc.RpcError as error:
            call = cast(grpc.Call, error)
            print(
                f"{path}: the server refused a batch ({call.code().name}: {call.details()}); "
                f"{written} rows were written before it",
                file=err,
            )
            return 1
    summary = ImportSummary(
        checked.rows, written, checked.rows - len(checked.good), time.perf_counter() - started
    )
    print(summary.line(), file=out)
    return 0


def _report_problems(path: Path, checked: CheckedFile, max_errors: int, err: TextIO) -> None:
    """``FILE:LINE: field: problem`` for the first ``max_errors`` problems (0: all)."""
    for line, name, problem in checked.problems[: max_errors or None]:
        print(f"{path}:{line}: {name}: {problem}", file=err)
    hidden = len(checked.problems) - max_errors if max_errors else 0
    if hidden > 0:
        print(f"{path}: ... and {hidden} more problem(s)", file=err)


def _channel_options(settings: Settings) -> list[tuple[str, int]]:
    limit = settings.max_message_bytes
    return [("grpc.max_send_message_length", limit), ("grpc.max_receive_message_length", limit)]
