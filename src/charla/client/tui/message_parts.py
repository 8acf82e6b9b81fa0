"""The parts of a message beyond its text: what it answers, code, reactions, edits.

- A reply gets one dimmed line above its text: ``↪ ana: ¿alguien ha hecho el ej…``.
- A fenced block (```` ```python … ``` ````) is a block of its own, highlighted by Rich's
  :class:`~rich.syntax.Syntax` and never re-wrapped (long lines are cut at the edge, the
  copy key gets them whole); inline ```code``` is marked.
- Reactions are a line under the text (``👍 3  🎉 1``), the reader's own highlighted; a
  thread's first message says how many replies it has.
- An edited message says ``(editado)``; a deleted one is a dimmed ``mensaje borrado``.

Everything from the wire is sanitised and put in as plain text, never as markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.console import RenderableType
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text

from ...i18n import tr
from ...protocol import Message, nick_key
from ..format import preview, sanitize

__all__ = [
    "Body",
    "code_blocks",
    "deleted_body",
    "message_body",
    "reactions_line",
    "replies_line",
    "reply_line",
]

_DIM = Style(dim=True)
_CODE = Style(bgcolor="#303030", color="#e5c07b")
_MINE = Style(bold=True, reverse=True)
_EDITED = Style(dim=True, italic=True)
#: A fence: ``` or ~~~ at the start of a line, an optional language, the code, the fence.
_FENCE = re.compile(r"^(```|~~~)[ \t]*([\w+#.-]*)[ \t]*\n(.*?)(?:\n\1[ \t]*$|\Z)", re.M | re.S)
_INLINE = re.compile(r"`([^`\n]+)`")
#: Longest language name passed to the highlighter.
_MAX_LEXER = 20


@dataclass(frozen=True, slots=True)
class Body:
    """A message's text (with its reply line, edit mark and inline code) and what goes
    under it: code blocks, reactions."""

    text: Text
    blocks: tuple[RenderableType, ...] = ()


def code_blocks(text: str) -> list[str]:
    """The code of each fenced block of ``text`` (what the copy key copies)."""
    return [m.group(3) for m in _FENCE.finditer(text)]


def _inline(text: str) -> Text:
    """``text`` with ```code``` marked (the backticks dropped)."""
    out = Text()
    at = 0
    for m in _INLINE.finditer(text):
        out.append(text[at : m.start()])
        out.append(m.group(1), style=_CODE)
        at = m.end()
    out.append(text[at:])
    return out


def _syntax(code: str, language: str) -> Syntax:
    lexer = language[:_MAX_LEXER].lower() or "text"
    return Syntax(code, lexer, theme="monokai", word_wrap=False, background_color="#1e1e1e")


def reply_line(message: Message, lang: str) -> Text | None:
    """``↪ ana: ¿alguien ha…``, dimmed, for a reply."""
    if message.parent is None:
        return None
    return Text("↪ " + preview(message.parent, lang, width=60), style=_DIM)


def message_body(message: Message, lang: str) -> Body:
    """The text of ``message`` split into prose (inline code marked) and code blocks;
    a reply line first, ``(editado)`` after."""
    raw = sanitize(message.text)
    head = Text()
    reply = reply_line(message, lang)
    if reply is not None:
        head.append_text(reply)
        head.append("\n")
    blocks: list[RenderableType] = []
    at = 0
    for fence in _FENCE.finditer(raw):
        prose = raw[at : fence.start()].strip("\n")
        if at == 0:
            if prose:
                head.append_text(_inline(prose))
        elif prose:
            blocks.append(_inline(prose))
        blocks.append(_syntax(fence.group(3), fence.group(2)))
        at = fence.end()
    rest = raw[at:].strip("\n") if at else raw
    if at == 0:
        head.append_text(_inline(rest))
    elif rest:
        blocks.append(_inline(rest))
    if message.edited is not None:
        mark = Text(" " + tr(lang, "(edited)"), style=_EDITED)
        if blocks and isinstance(blocks[-1], Text):
            blocks[-1] = blocks[-1] + mark
        elif blocks:
            blocks.append(mark)
        else:
            head.append_text(mark)
    return Body(head, tuple(blocks))


def deleted_body(message: Message, lang: str) -> Body:
    text = Text()
    reply = reply_line(message, lang)
    if reply is not None:
        text.append_text(reply)
        text.append("\n")
    text.append(tr(lang, "message deleted"), style=Style(dim=True, italic=True))
    return Body(text)


def reactions_line(reactions: dict[str, list[str]] | None, me: str) -> Text | None:
    """``👍 3  🎉 1``; the ones the reader gave are highlighted."""
    if not reactions:
        return None
    line = Text()
    mine = nick_key(me)
    for emoji, users in reactions.items():
        if line:
            line.append("  ")
        chosen = any(nick_key(u) == mine for u in users)
        line.append(f"{sanitize(emoji)} {len(users)}", style=_MINE if chosen else _DIM)
    return line


def replies_line(count: int, lang: str) -> Text | None:
    """``💬 3 respuestas`` under a thread's first message."""
    if not count:
        return None
    text = tr(lang, "1 reply") if count == 1 else tr(lang, "{count} replies", count=count)
    return Text("💬 " + text, style=_DIM)
