"""The documentation holds together: docs/ builds with ``mkdocs build --strict`` (no broken
page link or anchor, every page in the nav), and every relative link of README.md names a
file that exists (and, for a Markdown file, a heading that exists)."""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

#: ``[text](target)``; images too (``![alt](target)``). Targets hold no spaces or ``)``.
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_EXTERNAL = ("http://", "https://", "mailto:")


def test_docs_build_strict(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "index.html").exists()


def test_readme_relative_links_point_at_files_that_exist() -> None:
    broken = []
    for target in relative_links(README.read_text(encoding="utf-8")):
        path_part, _, anchor = target.partition("#")
        path = (README.parent / path_part) if path_part else README
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in heading_slugs(path):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, broken


def test_readme_links_to_the_docs() -> None:
    targets = {link.partition("#")[0] for link in relative_links(README.read_text("utf-8"))}
    pages = {f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md")}
    assert pages - targets <= {"docs/index.md"}, pages - targets


def relative_links(markdown: str) -> list[str]:
    """Link targets of ``markdown`` that name something in the repository."""
    return [target for target in _LINK.findall(markdown) if not target.startswith(_EXTERNAL)]


def heading_slugs(path: Path) -> set[str]:
    """Anchors of the Markdown headings of ``path``, as GitHub and mkdocs spell them for
    ASCII headings (lower case, punctuation dropped, spaces to hyphens)."""
    slugs = set()
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            slugs.add(slug(line.lstrip("#").strip()))
    return slugs


def slug(heading: str) -> str:
    """``"The volunteer registry (志愿者库)"`` -> ``"the-volunteer-registry"``."""
    ascii_only = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    words = re.sub(r"[^\w\s-]", "", ascii_only).strip().lower()
    return re.sub(r"[-\s]+", "-", words)
