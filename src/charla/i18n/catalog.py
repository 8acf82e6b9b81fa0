"""A minimal ``msgfmt``: compiles the project's ``.po`` files into gettext ``.mo`` files.

The standard library reads ``.mo`` files but cannot write them, and GNU gettext is not a
Python dependency; the catalogs are small, so a few lines do. Handles what our catalogs
use: ``msgid``/``msgstr`` with continued strings, comments, and the header entry.
"""

from __future__ import annotations

import ast
import struct
from pathlib import Path

__all__ = ["compile_po", "parse_po"]


def parse_po(text: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    msgid: list[str] = []
    msgstr: list[str] = []
    current: list[str] | None = None

    def finish() -> None:
        if current is not None and (msgid or msgstr):
            translated = "".join(msgstr)
            if translated:
                entries["".join(msgid)] = translated

    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgid "):
            finish()
            msgid, msgstr = [], []
            current = msgid
            line = line[len("msgid ") :]
        elif line.startswith("msgstr "):
            current = msgstr
            line = line[len("msgstr ") :]
        if current is None:
            raise ValueError(f"unexpected line in .po file: {raw!r}")
        current.append(ast.literal_eval(line))
    finish()
    return entries


def compile_po(text: str) -> bytes:
    """The bytes of the ``.mo`` file for the ``.po`` text (GNU format, little-endian)."""
    entries = sorted(parse_po(text).items())
    ids = [k.encode() for k, _ in entries]
    strs = [v.encode() for _, v in entries]
    header_size = 7 * 4
    ids_table = header_size
    strs_table = ids_table + 8 * len(entries)
    data_start = strs_table + 8 * len(entries)
    offsets: list[int] = []
    blob = b""
    for value in ids + strs:
        offsets += [len(value), data_start + len(blob)]
        blob += value + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, len(entries), ids_table, strs_table, 0, data_start)
    return header + struct.pack(f"<{len(offsets)}I", *offsets) + blob


def build_all(locale_dir: Path) -> list[Path]:
    """Compile every ``.po`` under ``locale_dir``; returns the ``.mo`` files written."""
    written = []
    for po in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        mo.write_bytes(compile_po(po.read_text(encoding="utf-8")))
        written.append(mo)
    return written
