"""Render an HTML page to a PNG with headless Chromium, to look at a report as a reader would.

Used by ``nngrade gradebook report --png`` and by the tests, which check that the page renders
and that its plots load. Needs Debian's ``chromium`` (``make setup`` installs it as root).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["chromium", "render_png", "RenderError"]

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class RenderError(RuntimeError):
    pass


def chromium() -> str | None:
    """The path of a Chromium binary, or None."""
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def render_png(page: Path, png: Path, width: int = 1100, height: int = 4000) -> Path:
    """Screenshot ``page`` (a local HTML file) at ``width`` × ``height`` CSS pixels."""
    binary = chromium()
    if binary is None:
        raise RenderError("Chromium is not installed (Debian: apt-get install chromium)")
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nngrade-chromium-") as profile:
        command = [
            binary,
            "--headless",
            "--no-sandbox",  # Chromium's own sandbox refuses to run as root
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png}",
            Path(page).resolve().as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            raise RenderError("Chromium did not finish rendering within 120 s") from None
    if done.returncode != 0 or not png.is_file():
        raise RenderError(f"Chromium failed ({done.returncode}): {done.stderr[-1000:]}")
    return png
