"""The digest's HTML rendered by headless Chromium: it must show the page, styled, not a blank."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from monitor.notify import Notifier
from monitor.store import Store
from tests.notify.factory import Clock, Factory, make_settings, store_dir
from tests.notify.png import decode

pytestmark = pytest.mark.browser
URGENT_RED = (0xB9, 0x1C, 0x1C)
HIGHLIGHT = (0xFD, 0xE6, 0x8A)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium binary installed (Debian: apt-get install chromium)")


def screenshot(page: Path, png: Path, profile: Path) -> bytes:
    subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            "--window-size=1000,1400",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=90,
    )
    return png.read_bytes()


def test_the_digest_renders_as_a_styled_page(tmp_path: Path, store: Store, factory: Factory, clock: Clock) -> None:
    factory.flag("I know where you all work <script>document.body.innerHTML=''</script>")
    factory.flag("You neglected my mum", severity="high", categories=("allegation",), match="neglected")
    page = tmp_path / "digest.html"
    Notifier(make_settings(store_dir(store)), store, clock).preview_digest(page)

    image = decode(screenshot(page, tmp_path / "digest.png", tmp_path / "profile"))

    assert (image.width, image.height) == (1000, 1400)
    colours = image.colours()
    background, most = colours.most_common(1)[0]
    assert most / sum(colours.values()) < 0.9, "the page is (nearly) one colour"
    assert len(colours) > 50, "no text was drawn"
    assert any(_near(colour, URGENT_RED) for colour in colours), "the urgent section's colour is missing"
    assert any(_near(colour, HIGHLIGHT) for colour in colours), "the matched words are not highlighted"
    assert background != (0, 0, 0)


def _near(colour: tuple[int, int, int], target: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 6 for a, b in zip(colour, target, strict=True))
