"""Every string the full-screen client shows has its Spanish in the catalog."""

from __future__ import annotations

import ast
from pathlib import Path

import charla.client.tui as tui
from charla.client.tui.app import KEYS_HELP
from charla.i18n import translations


def _msgids() -> set[str]:
    found: set[str] = {KEYS_HELP}
    for path in Path(tui.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "tr"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
            ):
                found.add(node.args[1].value)
    return found


def test_every_ui_string_is_translated() -> None:
    msgids = _msgids()
    assert len(msgids) > 15
    spanish = translations("es")
    missing = sorted(m for m in msgids if spanish.gettext(m) == m)
    assert missing == []
