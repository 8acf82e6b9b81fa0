"""Composing a line in ``$EDITOR`` (Ctrl+E): for code and long texts."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

__all__ = ["edit_text", "editor_command"]


def editor_command(environ: dict[str, str] | None = None) -> list[str]:
    """``$VISUAL`` or ``$EDITOR`` split as a shell would (``code -w``), else ``vi``."""
    env = os.environ if environ is None else environ
    command = env.get("VISUAL") or env.get("EDITOR") or "vi"
    return shlex.split(command) or ["vi"]


def edit_text(text: str, command: list[str]) -> str | None:
    """Open ``text`` in the editor and return what it saved (without the trailing line
    break editors add), or ``None`` when the editor failed or is not there."""
    with tempfile.TemporaryDirectory(prefix="charla-") as directory:
        path = Path(directory) / "message.md"
        path.write_text(text, encoding="utf-8")
        try:
            status = subprocess.call([*command, str(path)])
        except OSError:
            return None
        if status != 0:
            return None
        return path.read_text(encoding="utf-8", errors="replace").rstrip("\n")
