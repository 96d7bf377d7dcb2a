"""``matcher import volunteers``: parsing CSV and JSON Lines, problems named by line and
field, all-or-nothing versus --only-valid, and imports into a live server."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.cli import main
from matcher.config import Settings
from matcher.service.convert import upserts_to_records
from matcher.tools.volunteer_file import FileFormatError, read_volunteer_file
from matcher.tools.volunteer_import import check_file, run_import
from matcher.v1 import volunteers_pb2
from tests.support.paths import ROOT
from tests.support.registry import Registry, running_registry

EXAMPLES = ROOT / "examples"
HEADER = "id,branch_id,team_ids,active,lat,lon,skills,availability,max_travel_km,rating"
GOOD = (
    "v1,qabqa-grid-1,elderly-care;culture,true,36.27,100.62,elderly_care:4;cleaning,"
    "2026-11-30T08:00:00+08:00/2026-11-30T12:00:00+08:00,10,4.5"
)
SETTINGS = Settings(port=0, workers=2, max_windows_per_volunteer=4)


@pytest.fixture
def registry() -> Iterator[Registry]:
    with running_registry(SETTINGS) as reg:
        yield reg


def write(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stored_ids(reg: Registry) -> list[str]:
    reply = reg.volunteers.ListVolunteers(
        volunteers_pb2.ListVolunteersRequest(include_inactive=True, page_size=1000), timeout=10
    )
    return [v.volunteer.id for v in reply.volunteers]


# --- parsing ------------------------------------------------------------------------------------


def test_the_example_files_are_valid_and_hold_the_same_volunteers() -> None:
    records = {}
    for name in ("volunteers.csv", "volunteers.jsonl"):
        checked = check_file(EXAMPLES / name, SETTINGS)
        assert checked.problems == [] and checked.rows == len(checked.good) >= 30
        batch = volunteers_pb2.UpsertVolunteersRequest(volunteers=[u for _, u in checked.good])
        records[name] = upserts_to_records(batch, SETTINGS)[0]
    assert records["volunteers.csv"] == records["volunteers.jsonl"]
    assert any(not r.active for r in records["volunteers.csv"])
    assert {r.branch_id.split("-")[0] for r in records["volunteers.csv"]} >= {"qabqa"}


def test_a_csv_row_becomes_the_upsert_the_api_takes(tmp_path: Path) -> None:
    [row] = read_volunteer_file(write(tmp_path, "v.csv", HEADER, GOOD))
    assert row.line == 2 and row.problems == [] and row.upsert is not None
    u = row.upsert
    assert (u.volunteer.id, u.branch_id, list(u.team_ids)) == (
        "v1",
        "qabqa-grid-1",
        ["elderly-care", "culture"],
    )
    assert [(s.code, s.level) for s in u.volunteer.skills] == [("elderly_care", 4), ("cleaning", 0)]
    [w] = u.volunteer.availability
    assert (w.start.seconds, w.end.seconds) == (1_795_996_800, 1_796_011_200)  # 00:00-04:00Z
    assert (u.volunteer.home.lat, u.volunteer.max_travel_km, u.volunteer.rating) == (36.27, 10, 4.5)
    assert u.active


def test_jsonl_accepts_lists_objects_and_text(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "v.ndjson",
        '{"id": "a", "lat": 36.27, "lon": 100.62, "skills": {"tutoring": 5}, "team_ids": ["x"],'
        ' "availability": [["2026-11-30T08:00:00Z", "2026-11-30T09:00:00Z"]], "active": false}',
        "",
        '{"id": "b", "lat": "36.3", "lon": 100.6, "skills": "tutoring:2", "rating_count": 3,'
        ' "rating": 4, "availability": "2026-11-30T08:00:00Z/2026-11-30T09:00:00Z"}',
    )
    a, b = read_volunteer_file(path)
    assert (a.line, b.line) == (1, 3) and a.problems == b.problems == []
    assert a.upsert is not None and b.upsert is not None
    assert not a.upsert.active and list(a.upsert.team_ids) == ["x"]
    assert a.upsert.volunteer.availability == b.upsert.volunteer.availability
    assert (b.upsert.volunteer.home.lat, b.upsert.volunteer.rating_count) == (36.3, 3)


def test_every_bad_row_is_named_by_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "v.csv",
        HEADER,
        GOOD,
        "v2,,,true,north,100.6,,,,",
        "v3,,,true,95,100.6,,,,",
        "",
        "v4,,,maybe,36.2,100.6,juggling:2;tutoring:high,,,",
        "v5,,,,36.2,100.6,,2026-11-30T08:00:00/2026-11-30T09:00:00+08:00,,",
        "v6,,,,36.2,100.6,,2026-11-30T09:00:00Z/2026-11-30T08:00:00Z,,",
        "v1,,,,36.2,100.6,,,,",
        "v7,,,,36.2",
        "v8,{grid},,,36.2,100.6,,,,6",
        ",,,,36.2,100.6,,,-1,",
    )
    checked = check_file(path, SETTINGS)
    assert [g[0] for g in checked.good] == [2]
    assert checked.problems == [
        (3, "lat", "must be a number"),
        (4, "lat", "must be a finite number in [-90, 90]"),
        (6, "skills[1].level", "must be a whole number 1 to 5"),
        (6, "active", "must be true or false"),
        (6, "skills[0].code", "unknown skill code 'juggling' (see the skill taxonomy)"),
        (7, "availability[0].start", "must be an ISO 8601 instant with a UTC offset"),
        (8, "availability[0].end", "must be after start (in whole seconds)"),
        (9, "id", "duplicate of line 2"),
        (10, "row", "has 5 cells; the header has 10"),
        (11, "branch_id", "must not contain control characters or braces"),
        (11, "rating", "must be in [1, 5] (or 0 with rating_count 0 when not rated yet)"),
        (12, "id", "must not be empty"),
        (12, "max_travel_km", "must be a finite number >= 0 (0 means no personal limit)"),
    ]
    assert checked.bad_lines == 9 and checked.rows == 10


def test_jsonl_problems_are_named_too(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "v.jsonl",
        '{"id": "a", "lat": 36.27, "lon": 100.62}',
        "{not json",
        "[1, 2]",
        '{"id": "c", "lat": 36.27, "lon": 100.62, "colour": "red"}',
        '{"id": 7, "lat": true, "lon": 100.62, "team_ids": [1]}',
        '{"id": "e", "lat": 36.27, "lon": 100.62, "skills": {"tutoring": 9}}',
    )
    checked = check_file(path, SETTINGS)
    assert [g[0] for g in checked.good] == [1]
    assert checked.problems == [
        (2, "row", "is not valid JSON (Expecting property name enclosed in double quotes)"),
        (3, "row", "must be a JSON object"),
        (4, "row", "unknown key(s) colour"),
        (5, "id", "must be a string"),
        (5, "lat", "must be a number"),
        (5, "team_ids", "must be text separated by ';' or a list of strings"),
        (6, "skills[0].level", "must be in [0, 5] (0 means 3)"),
    ]


@pytest.mark.parametrize(
    ("name", "lines", "message"),
    [
        ("v.txt", [HEADER], "expected a .csv, .jsonl or .ndjson file"),
        ("v.csv", ["id,lat,lon,colour"], "header: unknown column(s) colour"),
        ("v.csv", ["id,lat"], "header: missing column(s) lon"),
        ("v.csv", ["id,lat,lon,lat"], "header: repeated column(s) lat"),
    ],
)
def test_unreadable_files_are_refused_whole(
    tmp_path: Path, name: str, lines: list[str], message: str
) -> None:
    with pytest.raises(FileFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        list(read_volunteer_file(write(tmp_path, name, *lines)))


# --- importing into a server --------------------------------------------------------------------


def test_the_example_imports_into_a_live_server(registry: Registry) -> None:
    out, err = io.StringIO(), io.StringIO()
    target = f"127.0.0.1:{registry.app.port if registry.app else 0}"
    code = run_import(EXAMPLES / "volunteers.csv", target, SETTINGS, batch_size=5, out=out, err=err)
    assert code == 0 and err.getvalue() == ""
    assert out.getvalue().startswith("read 36 rows, wrote 36, skipped 0 in ")
    assert len(stored_ids(registry)) == 36
    again = run_import(EXAMPLES / "volunteers.jsonl", target, SETTINGS, out=out, err=err)
    assert again == 0  # the same volunteers: nothing changes
    status = registry.volunteers.GetRegistryStatus(
        volunteers_pb2.GetRegistryStatusRequest(), timeout=10
    )
    assert status.volunteers == 36 and status.registry_version == 8  # ceil(36 / 5) writes


def test_one_bad_row_writes_nothing(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "v.csv", HEADER, GOOD, "v2,,,,36.2,100.6,,,,", "v3,,,,36.2,999,,,,")
    assert registry.app is not None
    code = main(["import", "volunteers", str(path), "--target", f"127.0.0.1:{registry.app.port}"])
    assert code == 1
    captured = capsys.readouterr()
    assert f"{path}:4: lon: must be a finite number in [-180, 180]" in captured.err
    assert "1 of 3 rows are invalid; nothing was written" in captured.err
    assert stored_ids(registry) == []


def test_only_valid_writes_the_valid_rows(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "v.csv", HEADER, GOOD, "v2,,,,36.2,100.6,,,,", "v3,,,,36.2,999,,,,")
    assert registry.app is not None
    target = f"127.0.0.1:{registry.app.port}"
    code = main(["import", "volunteers", str(path), "--target", target, "--only-valid"])
    assert code == 0
    captured = capsys.readouterr()
    assert f"{path}:4: lon:" in captured.err
    assert captured.out.startswith("read 3 rows, wrote 2, skipped 1 in ")
    assert stored_ids(registry) == ["v1", "v2"]


def test_problems_printed_are_capped(tmp_path: Path) -> None:
    path = write(tmp_path, "v.csv", "id,lat,lon", *(f"v{i},x,1" for i in range(5)))
    err = io.StringIO()
    code = run_import(path, "127.0.0.1:1", SETTINGS, max_errors=2, out=io.StringIO(), err=err)
    assert code == 1
    assert err.getvalue().splitlines()[:3] == [
        f"{path}:2: lat: must be a number",
        f"{path}:3: lat: must be a number",
        f"{path}: ... and 3 more problem(s)",
    ]


def test_a_refused_batch_stops_the_import(tmp_path: Path) -> None:
    small = SETTINGS.with_overrides(max_volunteers=3)
    path = write(tmp_path, "v.csv", "id,lat,lon", *(f"v{i},36.2,100.6" for i in range(8)))
    with running_registry(small) as reg:
        assert reg.app is not None
        err = io.StringIO()
        target = f"127.0.0.1:{reg.app.port}"
        assert run_import(path, target, SETTINGS, batch_size=4, out=io.StringIO(), err=err) == 1
    assert "the server refused a batch (RESOURCE_EXHAUSTED" in err.getvalue()
    assert "0 rows were written before it" in err.getvalue()


def test_cli_rejects_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "v.csv", "id,lat,lon")
    assert main(["import", "volunteers", str(path), "--batch-size", "0"]) == 2
    assert main(["import", "volunteers", str(tmp_path / "absent.csv")]) == 2
    assert "absent.csv" in capsys.readouterr().err


def test_a_row_over_the_window_limit_is_named(tmp_path: Path) -> None:
    """MATCHER_MAX_WINDOWS_PER_VOLUNTEER is a limit (RESOURCE_EXHAUSTED over the API): the
    importer still names the row and the column instead of failing the whole file."""
    windows = [
        [f"2026-12-01T0{h}:00:00Z", f"2026-12-01T0{h}:30:00Z"]
        for h in range(SETTINGS.max_windows_per_volunteer + 1)
    ]
    path = write(
        tmp_path,
        "v.jsonl",
        '{"id": "a", "lat": 36.27, "lon": 100.62}',
        json.dumps({"id": "b", "lat": 36.27, "lon": 100.62, "availability": windows}),
    )
    checked = check_file(path, SETTINGS)
    assert [g[0] for g in checked.good] == [1]
    assert checked.problems == [
        (
            2,
            "availability",
            "has 5 windows; at most 4 are allowed (MATCHER_MAX_WINDOWS_PER_VOLUNTEER)",
        )
    ]
