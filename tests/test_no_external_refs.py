"""Citations point at what a clone can open: no section-sign references to a spec outside the repository.

Docstrings and docs cite ML Commons source files or docs/ (docs/compatibility.md, "Upstream sources"
and "Behaviour decisions"); a section number of a file that is not in the repository cannot be followed.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECTION_SIGN = "\u00a7"  # written as an escape so this file does not trip its own check
CHECKED = ("src", "tests", "bench", "docs")


def text_files(root: Path) -> list[Path]:
    """README.md and every file under the checked folders, build and cache output aside."""
    files = [root / "README.md"] if (root / "README.md").exists() else []
    for top in CHECKED:
        for path in sorted((root / top).rglob("*")):
            generated = any(part == "__pycache__" or part.endswith(".egg-info") for part in path.parts)
            if path.is_file() and not generated:
                files.append(path)
    return files


def section_sign_lines(root: Path) -> list[str]:
    """``path:line`` of every line holding a section sign (files that are not UTF-8 text are skipped)."""
    hits = []
    for path in text_files(root):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if SECTION_SIGN in line:
                hits.append(f"{path.relative_to(root)}:{number}")
    return hits


def test_the_check_finds_a_planted_reference(tmp_path: Path) -> None:
    package = tmp_path / "src" / "pkg"
    package.mkdir(parents=True)
    (package / "rate.py").write_text(f'"""Rate limits ({SECTION_SIGN}7.11)."""\n', encoding="utf-8")
    (package / "clean.py").write_text('"""Rate limits (docs/compatibility.md)."""\n', encoding="utf-8")
    assert section_sign_lines(tmp_path) == ["src/pkg/rate.py:1"]


def test_the_check_covers_the_package() -> None:
    assert ROOT / "src" / "mlgate" / "domain" / "template.py" in text_files(ROOT)


def test_no_section_references_in_the_repository() -> None:
    assert section_sign_lines(ROOT) == []
