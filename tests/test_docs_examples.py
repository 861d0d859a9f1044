"""Every ```python block in README.md and docs/*.md runs as written.

The blocks of one page run in order in one namespace, so a later block may use names that an
earlier one defined. Each page runs in its own empty working directory, so files that examples
write never land in the repository. A block opts out only with this comment on the line before
its fence, and is then reported as skipped with the reason:

    <!-- docs-test: skip (needs a GPU) -->

Use it only for blocks that need a GPU, a network endpoint or a model from the Hugging Face Hub.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

FENCE = re.compile(r"^```python[ \t]*\n(?P<code>.*?)^```[ \t]*$", flags=re.S | re.M)
SKIP_MARKER = re.compile(r"^<!--\s*docs-test:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->[ \t]*$")
ANY_MARKER = re.compile(r"docs-test:")
SNIPPET = re.compile(r'^--8<--\s+"(?P<path>[^":]+)(?::[\w-]+)?"\s*$', flags=re.M)


@dataclass(frozen=True)
class Block:
    """One ```python block: its code, the line its fence opens on, and its skip reason."""

    code: str
    line: int
    skip_reason: str | None


def python_blocks(text: str) -> list[Block]:
    """Return the page's ```python blocks in order, each with the reason from its skip marker."""
    lines = text.splitlines()
    blocks = []
    for match in FENCE.finditer(text):
        fence_line = text.count("\n", 0, match.start())  # 0-based index of the fence line
        previous = lines[fence_line - 1].strip() if fence_line > 0 else ""
        marker = SKIP_MARKER.match(previous)
        if marker is None and ANY_MARKER.search(previous):
            raise ValueError(
                f"line {fence_line}: invalid docs-test marker {previous!r}. "
                "Write <!-- docs-test: skip (reason) --> on the line before the fence"
            )
        blocks.append(Block(match.group("code"), fence_line + 1, marker.group("reason").strip() if marker else None))
    return blocks


def page_id(page: Path) -> str:
    return str(page.relative_to(REPO))


PAGES_WITH_CODE = [page for page in PAGES if FENCE.search(page.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=page_id)
def test_page_python_blocks_run(page, tmp_path, monkeypatch):
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    namespace = {"__name__": "__docs__"}
    skipped = []
    for block in blocks:
        if block.skip_reason is not None:
            skipped.append(f"line {block.line}: {block.skip_reason}")
            continue
        # Padding with the lines above the block makes traceback line numbers those of the page,
        # so a failure points at the page's own line and shows its source.
        source = "\n" * block.line + block.code
        exec(compile(source, str(page), "exec"), namespace)

    if skipped:
        pytest.skip(f"{page_id(page)}: ran {len(blocks) - len(skipped)} blocks, skipped {'; '.join(skipped)}")


def test_skip_marker_is_parsed():
    text = (
        "Intro.\n\n"
        "```python\nx = 1\n```\n\n"
        "<!-- docs-test: skip (needs a GPU) -->\n"
        "```python\nimport torch\ntorch.ones(1, device='cuda')\n```\n"
    )
    blocks = python_blocks(text)
    assert [(block.line, block.skip_reason) for block in blocks] == [(3, None), (8, "needs a GPU")]
    assert blocks[0].code == "x = 1\n"


def test_invalid_skip_marker_rejected():
    text = "<!-- docs-test: skip -->\n```python\nx = 1\n```\n"
    with pytest.raises(ValueError, match="invalid docs-test marker"):
        python_blocks(text)


def test_bash_and_text_blocks_not_collected():
    text = "```bash\npromptfill fill task.yaml\n```\n\n```text\n<!-- docs-test: skip (x) -->\n```\n"
    assert python_blocks(text) == []


def test_readme_quickstart_collected():
    blocks = python_blocks((REPO / "README.md").read_text(encoding="utf-8"))
    assert REPO / "README.md" in PAGES_WITH_CODE
    assert "PromptInfiller.from_pretrained()" in blocks[0].code
    assert blocks[0].skip_reason is None


def test_templates_page_examples_collected():
    # docs/templates.md documents the template language mostly through its examples.
    blocks = python_blocks((REPO / "docs" / "templates.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 8
    assert all(block.skip_reason is None for block in blocks)


@pytest.mark.parametrize("page", sorted((REPO / "docs").glob("*.md")), ids=page_id)
def test_snippets_include_tested_files(page):
    # A page that includes a file with --8<-- shows that file's code blocks, which run only
    # if the included file is itself one of the tested pages (or has no python blocks).
    for match in SNIPPET.finditer(page.read_text(encoding="utf-8")):
        included = REPO / match.group("path")
        assert included.is_file(), f"{page_id(page)} includes missing file {match.group('path')!r}"
        assert included in PAGES or not python_blocks(included.read_text(encoding="utf-8")), (
            f"{page_id(page)} includes {match.group('path')!r}, whose python blocks no test runs"
        )
