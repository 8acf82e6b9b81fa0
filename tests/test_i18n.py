"""The translations: compiled catalogs up to date, every string translated."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from charla.i18n import LOCALE_DIR, Msgid, language_from_env, normalize_lang, tr
from charla.i18n.catalog import compile_po, parse_po

SRC = Path(__file__).resolve().parents[1] / "src" / "charla"


@pytest.mark.parametrize("po", sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po")), ids=str)
def test_compiled_catalog_matches_its_source(po: Path) -> None:
    assert po.with_suffix(".mo").read_bytes() == compile_po(po.read_text(encoding="utf-8")), (
        "run: python -m charla.i18n"
    )


def _tr_msgids() -> set[str]:
    """Every literal string passed as the message of ``tr(lang, "...")`` in the code."""
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "tr"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                found.add(node.args[1].value)
    return found


def test_every_string_has_a_spanish_translation() -> None:
    spanish = parse_po((LOCALE_DIR / "es/LC_MESSAGES/charla.po").read_text(encoding="utf-8"))
    missing = sorted(_tr_msgids() - spanish.keys())
    assert not missing, f"add to charla.po: {missing}"


#: Calls whose argument at this position is an English message id sent to a member:
#: refusals (``ProtocolError``, ``BadUsage``), error frames, disconnections, and
#: templates marked ``N_``.
_MESSAGE_ARGUMENT = {"ProtocolError": 1, "BadUsage": 0, "send_error": 1, "cut_off": 2, "N_": 0}


def _literals(node: ast.expr) -> list[str]:
    """The strings ``node`` may be: a literal, or either branch of ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _literals(node.body) + _literals(node.orelse)
    return []


def _error_msgids() -> dict[str, str]:
    """Every literal error message of the server's side of the code, with its file."""
    found: dict[str, str] = {}
    for path in SRC.rglob("*.py"):
        if {"client", "irc"} & set(path.relative_to(SRC).parts):
            continue  # clients show what the server sent; IRC speaks English
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            position = _MESSAGE_ARGUMENT.get(name or "")
            if position is not None and len(node.args) > position:
                for text in _literals(node.args[position]):
                    found.setdefault(text, str(path.relative_to(SRC)))
    return found


def test_the_scan_finds_the_error_messages() -> None:
    found = _error_msgids()
    assert "you are not in #{room}" in found  # a ProtocolError
    assert "you are banned from #{room}" in found  # a template in a table (N_)
    assert "no answer to ping" in found  # a disconnection


def test_every_error_message_has_a_spanish_translation() -> None:
    spanish = parse_po((LOCALE_DIR / "es/LC_MESSAGES/charla.po").read_text(encoding="utf-8"))
    missing = {text: path for text, path in _error_msgids().items() if text not in spanish}
    assert not missing, f"add to charla.po: {missing}"


def test_every_translation_keeps_the_fields_of_its_message() -> None:
    spanish = parse_po((LOCALE_DIR / "es/LC_MESSAGES/charla.po").read_text(encoding="utf-8"))
    for msgid, msgstr in spanish.items():
        assert _fields(msgstr) == _fields(msgid), msgid


def _fields(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def test_language_choice() -> None:
    assert normalize_lang("en_GB.UTF-8") == "en"
    assert normalize_lang("fr_FR") == "es"  # unknown: the default
    assert language_from_env({"LANG": "en_US.UTF-8"}) == "en"
    assert language_from_env({"LC_ALL": "es_ES", "LANG": "en_US"}) == "es"
    assert language_from_env({"LANG": "C"}) == "es"


def test_translation_with_values() -> None:
    assert tr("es", "{user} left #{room}", user="ana", room="dev") == "ana ha salido de #dev"
    assert tr("en", "{user} left #{room}", user="ana", room="dev") == "ana left #dev"


def test_a_value_that_is_a_message_id_is_translated_too() -> None:
    usage = "usage: /{command} {arguments}"
    arguments = "<nick> <text>"
    assert tr("es", usage, command="msg", arguments=Msgid(arguments)) == "uso: /msg <nick> <texto>"
    assert tr("es", usage, command="msg", arguments=arguments) == "uso: /msg <nick> <text>"


def test_every_command_is_described_in_spanish() -> None:
    from charla.protocol import COMMANDS

    spanish = parse_po((LOCALE_DIR / "es/LC_MESSAGES/charla.po").read_text(encoding="utf-8"))
    for command in set(COMMANDS.values()):
        assert command.summary in spanish
        assert not command.usage or command.usage in spanish


def test_the_spanish_help_names_each_argument_as_the_english_one() -> None:
    from charla.protocol import COMMANDS
    from charla.server.handlers import help_text

    for command in set(COMMANDS.values()):
        if command.usage:  # "[*] <nick>" is "[*] <usuario>": one word per argument
            assert len(tr("es", command.usage).split()) == len(command.usage.split()), command.usage
    assert "//texto — envía un texto que empieza por /" in help_text("es")
