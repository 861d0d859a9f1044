"""docs/api.md renders every public name of the package, and only public names."""

from __future__ import annotations

import re
from pathlib import Path

import promptfill

API_PAGE = Path(__file__).resolve().parents[1] / "docs" / "api.md"
DIRECTIVE = re.compile(r"^::: promptfill\.(?P<name>\w+)\s*$", flags=re.M)


def documented_names() -> list[str]:
    return DIRECTIVE.findall(API_PAGE.read_text(encoding="utf-8"))


def test_api_page_covers_all_public_names():
    public = set(promptfill.__all__) - {"__version__"}
    missing = sorted(public - set(documented_names()))
    assert missing == [], (
        f"docs/api.md has no '::: promptfill.NAME' line for {missing}; add one under the section "
        "that fits each name"
    )


def test_api_page_names_are_public():
    stale = sorted(set(documented_names()) - set(promptfill.__all__))
    assert stale == [], f"docs/api.md documents {stale}, which promptfill.__all__ does not export"


def test_api_page_lists_each_name_once():
    names = documented_names()
    repeated = sorted({name for name in names if names.count(name) > 1})
    assert repeated == []
