"""README stays a page a user reads in ten minutes, and every relative link in README and docs/ resolves."""

import os
import re

import pytest
from conftest import ROOT

LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lstrip("#").strip().lower())
    return text.replace(" ", "-")


def _markdown_files() -> list[str]:
    files = [os.path.join(ROOT, "README.md")]
    for folder, _, names in os.walk(os.path.join(ROOT, "docs")):
        files += [os.path.join(folder, n) for n in names if n.endswith(".md")]
    return files


def test_readme_is_at_most_250_lines():
    with open(os.path.join(ROOT, "README.md")) as fh:
        assert len(fh.read().splitlines()) <= 250


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: os.path.relpath(p, ROOT))
def test_every_relative_link_resolves(path):
    with open(path) as fh:
        text = fh.read()
    broken = []
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file_part, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        if not os.path.exists(resolved):
            broken.append(target)
        elif anchor and resolved.endswith(".md"):
            with open(resolved) as fh:
                anchors = {_anchor(line) for line in fh if line.startswith("#")}
            if anchor not in anchors:
                broken.append(target)
    assert not broken, f"{os.path.relpath(path, ROOT)}: broken links {broken}"
