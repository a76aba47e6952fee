"""The documentation holds together: every relative link in every markdown file of the
repository resolves (the file, and the heading when the link names one), the README stays
short, and its matrix is ACCESS.md's.

Links are read outside code (fenced blocks and `inline code`), as a renderer shows them.
Anchors are GitHub's: the heading's text, lowercased, punctuation but `-` and `_` dropped,
spaces as `-`, and `-1`, `-2`, ... for a repeated heading.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
README_MAX_LINES = 150

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")
# [text](target) and ![alt](target); the target ends at whitespace (a title may follow) or ")".
_LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+[^)]*)?\)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$")
_HTML_ID = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def markdown_files(root: Path = ROOT) -> list[Path]:
    """Every markdown file git tracks or would track (new files count before their commit)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", "*.md"],
        cwd=root, capture_output=True, text=True, check=True, timeout=60,
    ).stdout
    return sorted(root / name for name in set(listed.split("\0")) if name
                  and (root / name).is_file())


def _outside_fences(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of every line outside fenced code blocks."""
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1) == fence:
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        yield number, line


def slug(heading: str) -> str:
    """GitHub's anchor of a heading's text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
    text = re.sub(r"<[^>]+>", "", text.replace("`", ""))
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The anchors a markdown document offers: its headings' and explicit `<a id=...>`."""
    found: set[str] = set()
    seen: Counter[str] = Counter()
    for _, line in _outside_fences(text):
        heading = _HEADING.match(line)
        if heading:
            base = slug(heading.group(2))
            found.add(base if not seen[base] else f"{base}-{seen[base]}")
            seen[base] += 1
        found.update(_HTML_ID.findall(line))
    return found


def links(text: str) -> list[tuple[int, str]]:
    """(line number, target) of every link in the document's prose."""
    found: list[tuple[int, str]] = []
    for number, line in _outside_fences(text):
        line = _INLINE_CODE.sub("", line)
        found += [(number, target) for target in _LINK.findall(line)]
        reference = _REFERENCE.match(line)
        if reference:
            found.append((number, reference.group(1)))
    return found


def broken_links(document: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with each relative link of `document`, one line each."""
    problems: list[str] = []
    text = document.read_text(encoding="utf-8")
    where = document.relative_to(root)
    for number, target in links(text):
        if not target or _SCHEME.match(target) or target.startswith("//"):
            continue  # a URL elsewhere: not this repository's to check
        path_part, _, anchor = target.partition("#")
        path_part = unquote(path_part)
        if path_part.startswith("/"):
            problems.append(f"{where}:{number}: {target}: use a path relative to this file")
            continue
        resolved = (document.parent / path_part).resolve() if path_part else document
        if not resolved.exists():
            problems.append(f"{where}:{number}: {target}: no such file or folder")
            continue
        if root.resolve() not in (resolved, *resolved.parents):
            problems.append(f"{where}:{number}: {target}: outside the repository")
            continue
        if anchor:
            if resolved.suffix != ".md" or not resolved.is_file():
                problems.append(f"{where}:{number}: {target}: an anchor into a file that is "
                                "not markdown")
            elif unquote(anchor) not in anchors(resolved.read_text(encoding="utf-8")):
                problems.append(f"{where}:{number}: {target}: no heading #{anchor} in "
                                f"{resolved.relative_to(root.resolve())}")
    return problems


def matrix(text: str) -> list[str]:
    """The lines of the first table whose header starts with `| Route |`."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("| Route |")), None)
    if start is None:
        return []
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append(line.strip())
    return table


# --- the repository's documents -------------------------------------------------------------

DOCUMENTS = markdown_files()


def test_the_documents_are_found() -> None:
    names = {str(p.relative_to(ROOT)) for p in DOCUMENTS}
    assert {"README.md", "ACCESS.md", "policy/README.md", "docs/architecture.md"} <= names


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(document: Path) -> None:
    problems = broken_links(document)
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_the_readme_is_at_most_150_lines() -> None:
    count = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert count <= README_MAX_LINES, (
        f"README.md has {count} lines; keep it to {README_MAX_LINES}: move detail to docs/ "
        "and link it")


def test_the_readme_matrix_is_access_md_matrix() -> None:
    ours = matrix((ROOT / "README.md").read_text(encoding="utf-8"))
    generated = matrix((ROOT / "ACCESS.md").read_text(encoding="utf-8"))
    assert generated, "ACCESS.md has no matrix (| Route | ...): run `make access`"
    assert ours == generated, (
        "README.md's 'Who may call what' differs from ACCESS.md's matrix: copy the table from "
        "ACCESS.md (after `make access`)")


# --- the checker itself ---------------------------------------------------------------------


def test_slugs_follow_github() -> None:
    assert slug("`make preview` / `make deploy` and the preflight") == \
        "make-preview--make-deploy-and-the-preflight"
    assert slug("Why the API shapes are our own") == "why-the-api-shapes-are-our-own"
    assert slug("The Auth0 tenant as code (`pets:auth0Tenant`)") == \
        "the-auth0-tenant-as-code-petsauth0tenant"
    assert slug("See [the guide](docs/x.md)") == "see-the-guide"


def test_a_repeated_heading_gets_a_number() -> None:
    assert {"notes", "notes-1", "notes-2"} <= anchors("# Notes\n## Notes\n### Notes\n")


def test_the_checker_reports_a_missing_file_and_a_missing_heading(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text("# Guide\n\n## Step one\n", encoding="utf-8")
    (tmp_path / "README.md").write_text(
        "\n".join([
            "[ok](docs/guide.md) [ok too](docs/guide.md#step-one) [web](https://example.com)",
            "[self](#top) [gone](docs/missing.md) [bad anchor](docs/guide.md#step-two)",
            "# Top",
            "`[in code](nowhere.md)`",
            "```",
            "[in a fence](nowhere.md)",
            "```",
            "[ref]: docs/also-missing.md",
            "[outside](../elsewhere.md)",
        ]) + "\n", encoding="utf-8")
    problems = broken_links(tmp_path / "README.md", root=tmp_path)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "docs/missing.md: no such file or folder",
        "docs/guide.md#step-two: no heading #step-two in docs/guide.md",
        "docs/also-missing.md: no such file or folder",
        "../elsewhere.md: no such file or folder",
    ], problems


def test_a_link_outside_the_repository_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (tmp_path / "elsewhere.md").write_text("# Elsewhere\n", encoding="utf-8")
    (repo / "README.md").write_text("[out](../elsewhere.md)\n", encoding="utf-8")
    assert broken_links(repo / "README.md", root=repo) == [
        "README.md:1: ../elsewhere.md: outside the repository"]
