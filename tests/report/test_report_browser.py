"""Render the report in headless Chromium: check the visible DOM text and a screenshot."""

import html
import re
import struct
import subprocess
from pathlib import Path

import pytest

from promptfill import write_report

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)"
)

# Flags that keep Chromium offline, quiet and free of any profile but a fresh temporary one.
OFFLINE_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
WINDOW_SIZE = (1280, 2000)
# A one-colour PNG of that size compresses to a few kilobytes; a rendered report with text and
# plots is well over this.
MIN_SCREENSHOT_BYTES = 30_000


def chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [str(CHROMIUM), *OFFLINE_FLAGS, f"--user-data-dir={profile}", *arguments],
        capture_output=True, text=True, timeout=180, check=True,
    )


def visible_text(dom: str) -> str:
    text = re.sub(r"<(style|title)[^>]*>.*?</\1>", " ", dom, flags=re.S)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"\s+", " ", html.unescape(text))


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_rendered_dom_shows_report(run_dir, scored_result, tmp_path):
    page = write_report(run_dir)
    dom = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    text = visible_text(dom)

    assert "<script>alert('x')</script> [MASK:2-3]" in text
    assert f"{scored_result.best.texts[0]} {{{{ text }}}}" in text
    assert "<script" not in dom
    assert len(re.findall(r"<tr(?: class=\"failed\")?><td class=\"number\">", dom)) == len(scored_result)
    assert "target timed out <after 30 s>" in text
    assert dom.count("<svg") == 3
    assert "<circle" in dom


def test_screenshot_is_not_blank(run_dir, tmp_path):
    page = write_report(run_dir)
    shot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={shot}", f"--window-size={WINDOW_SIZE[0]},{WINDOW_SIZE[1]}", page.as_uri())
    data = shot.read_bytes()

    assert png_size(data) == WINDOW_SIZE
    try:
        from PIL import Image
    except ImportError:
        assert len(data) > MIN_SCREENSHOT_BYTES
        return
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 24)
    assert len(colours) > 50

