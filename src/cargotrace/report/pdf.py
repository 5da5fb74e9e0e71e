"""Print the HTML report to PDF with headless Chromium (no Python browser dependency)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from cargotrace.outputs import atomic_output

__all__ = ["ChromiumNotFoundError", "find_chromium", "render_pdf"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

# Headless Chromium that never reaches the network (no QUIC, sync, updates or background
# fetches); shared with the browser test of the report.
QUIET_HEADLESS_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class ChromiumNotFoundError(RuntimeError):
    """No Chromium/Chrome executable was found."""


def find_chromium() -> str | None:
    """Path of a Chromium-family browser: $CARGOTRACE_CHROMIUM, then the PATH, then /usr/bin."""
    env = os.environ.get("CARGOTRACE_CHROMIUM")
    if env:
        return env if Path(env).exists() else shutil.which(env)
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def render_pdf(
    html_path: Path, pdf_path: Path, *, chromium: str | None = None, timeout_s: float = 120.0
) -> None:
    """Print ``html_path`` (a report written by ``render_report``) to ``pdf_path``.

    Runs ``chromium --headless --print-to-pdf`` on the file:// URL with a throw-away
    profile and networking features off. Raises :class:`ChromiumNotFoundError` when no
    browser is installed and ``RuntimeError`` when printing fails or times out.
    """
    exe = chromium or find_chromium()
    if not exe:
        raise ChromiumNotFoundError(
            "Chromium is needed to print the report to PDF but was not found; install it "
            "(e.g. `apt-get install chromium`) or set CARGOTRACE_CHROMIUM to its path. "
            "The HTML report itself prints from any browser."
        )
    source = Path(html_path).resolve()
    if not source.is_file():
        raise FileNotFoundError(source)
    # printed beside the target and renamed into place: a failure leaves the previous PDF
    with atomic_output(Path(pdf_path).resolve(), "--pdf") as target:
        _print(exe, source, target, timeout_s)


def _print(exe: str, source: Path, target: Path, timeout_s: float) -> None:
    target.unlink(missing_ok=True)  # the empty temporary file: Chromium writes it anew
    with tempfile.TemporaryDirectory(prefix="cargotrace-chromium-") as profile:
        cmd = [
            exe,
            *QUIET_HEADLESS_ARGS,
            "--disable-extensions",
            "--no-pdf-header-footer",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(
                f"Chromium did not finish printing {source} within {timeout_s:g} s"
            ) from exc
        except OSError as exc:
            raise ChromiumNotFoundError(f"could not run Chromium at {exe}: {exc}") from exc
    if proc.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        tail = (proc.stderr or "").strip().splitlines()[-5:]
        raise RuntimeError(
            f"Chromium failed to print {source} (exit {proc.returncode}): " + " | ".join(tail)
        )
