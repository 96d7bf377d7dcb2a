"""The ``matcher`` command's subcommands are wired (each answers --help)."""

from __future__ import annotations

import pytest

from matcher.cli import main


@pytest.mark.parametrize(
    "command", ["serve", "demo", "status", "simulate", "gateway", "import volunteers"]
)
def test_subcommand_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([*command.split(), "--help"])
    assert done.value.code == 0
    assert f"matcher {command}" in capsys.readouterr().out
