"""Tab completion for the input line: nicks, commands and ``:shortcode:`` emoji.

Pure functions on the text and the cursor, so they are tested without a screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...protocol import REQUESTS
from ...protocol.emoji import SHORTCODES

__all__ = ["COMMANDS", "Completion", "candidates"]

#: Every command the server knows, from the one request table: the Spanish names first,
#: then the English aliases.
COMMANDS = tuple(
    "/" + name
    for name in [r.names[0] for r in REQUESTS if r.names]
    + [alias for r in REQUESTS for alias in r.names[1:]]
)


@dataclass(frozen=True, slots=True)
class Completion:
    """The line after completing, and where the cursor goes."""

    value: str
    cursor: int


def _matching(prefix: str, names: list[str] | tuple[str, ...]) -> list[str]:
    folded = prefix.casefold()
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        key = name.casefold()
        if key.startswith(folded) and key not in seen:
            seen.add(key)
            out.append(name)
    return out


def candidates(value: str, cursor: int, *, nicks: list[str]) -> list[Completion]:
    """What Tab may turn ``value`` into, in order; empty when nothing fits.

    A command at the start of the line completes to ``/cmd ``; ``@ni`` anywhere to
    ``@nick ``; a word at the start of the line to ``nick: `` (addressing someone);
    any other word to ``nick ``; ``:ta`` to the emoji of ``:tada:``.
    """
    start = value.rfind(" ", 0, cursor) + 1
    word = value[start:cursor]
    rest = value[cursor:]
    if not word:
        return []
    if start == 0 and word.startswith("/"):
        replacements = [c + " " for c in _matching(word, COMMANDS)]
    elif word.startswith(":") and len(word) > 1:
        replacements = [SHORTCODES[name] + " " for name in _matching(word[1:], list(SHORTCODES))]
    elif word.startswith("@"):
        replacements = ["@" + n + " " for n in _matching(word[1:], nicks)]
    elif start == 0:
        replacements = [n + ": " for n in _matching(word, nicks)]
    else:
        replacements = [n + " " for n in _matching(word, nicks)]
    if rest.startswith(" "):
        rest = rest[1:]
    head = value[:start]
    return [Completion(head + r + rest, len(head) + len(r)) for r in replacements]
