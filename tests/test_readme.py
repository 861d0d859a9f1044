"""The README's Python quickstart runs as written, on the embedded model."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("index", range(len(python_blocks(README.read_text(encoding="utf-8")))))
def test_readme_python_block_runs(index, monkeypatch):
    monkeypatch.chdir(README.parent)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code = python_blocks(README.read_text(encoding="utf-8"))[index]
    exec(compile(code, f"README.md python block {index}", "exec"), {"__name__": "__readme__"})
