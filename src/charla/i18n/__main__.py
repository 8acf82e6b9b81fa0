"""``python -m charla.i18n``: rebuild the ``.mo`` files from the ``.po`` files."""

from __future__ import annotations

from . import LOCALE_DIR
from .catalog import build_all

for path in build_all(LOCALE_DIR):
    print(f"wrote {path}")
