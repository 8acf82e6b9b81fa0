"""Frames as Rich :class:`~rich.text.Text`: what one line of the chat log looks like.

Everything from the wire goes through :func:`~charla.client.format.sanitize` and into
``Text`` objects as plain strings, never as markup: ``[red]`` or ``[link=…]`` in a
message shows literally, and no escape sequence reaches the terminal.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from enum import Enum

from rich.console import RenderableType
from rich.style import Style
from rich.text import Text

from ...protocol import Message, nick_key
from ...protocol.names import mentions
from ..format import local_time, sanitize, sanitize_line
from .message_parts import deleted_body, message_body, reactions_line, replies_line

__all__ = [
    "NICK_COLORS",
    "NICK_COLUMN",
    "Entry",
    "Kind",
    "day_entry",
    "mentions",
    "message_entry",
    "nick_color",
    "nick_text",
    "notice_entry",
]

#: Colours readable on dark and light backgrounds; a nick always gets the same one.
NICK_COLORS = (
    "#e06c75",
    "#98c379",
    "#e5c07b",
    "#61afef",
    "#c678dd",
    "#56b6c2",
    "#d19a66",
    "#be5046",
    "#7ec699",
    "#f2a6ff",
    "#8fb8ff",
    "#ffb86c",
)


class Kind(Enum):
    MESSAGE = "message"
    OWN = "own"
    ACTION = "action"
    DIRECT = "direct"
    NOTICE = "notice"
    ERROR = "error"


_TIME = Style(dim=True)
_NOTICE = Style(color="#9a9a9a", italic=True)
# Light enough that NO_COLOR's grey version is still readable.
_ERROR = Style(color="#ff6b6b", bold=True)
_DIRECT = Style(color="magenta")
#: Before the text of a message a program sent (a webhook, a client in bot mode), so
#: nobody takes it for a person's.
_BOT_BADGE = Text(" bot ", style=Style(dim=True, reverse=True)) + " "
_MENTION = Style(bgcolor="#4a3b00", bold=True)
_SELECTED = Style(bgcolor="#264f78")
#: Marks the selected message without colour too (NO_COLOR).
SELECTED_MARK = "▶"


@dataclass(frozen=True, slots=True)
class Entry:
    """One event in the log: a prefix (time, nick) and a body that wraps under the
    body's first column, so nicks and times stay in their own column."""

    prefix: Text
    body: Text
    kind: Kind
    mention: bool = False
    #: The message id, for putting older messages in their place.
    id: int | None = None
    #: What goes under the body, in its column: code blocks, reactions, a reply count.
    blocks: tuple[RenderableType, ...] = ()
    #: The message picked with Alt+↑/↓ (marked, and highlighted where there is colour).
    selected: bool = False

    @property
    def is_chat(self) -> bool:
        """A message someone wrote (not a notice): what the "N new" marker counts."""
        return self.kind not in (Kind.NOTICE, Kind.ERROR)

    @property
    def line_style(self) -> Style | None:
        """A style for the whole width of the entry's lines (a mention's background, or
        the selection's)."""
        if self.selected:
            return _SELECTED
        return _MENTION if self.mention else None


def nick_color(nick: str) -> str:
    return NICK_COLORS[zlib.crc32(nick_key(nick).encode()) % len(NICK_COLORS)]


def nick_text(nick: str, *, bold: bool = False) -> Text:
    return Text(sanitize_line(nick), style=Style(color=nick_color(nick), bold=bold))


#: Nicks are right-aligned in a column this wide, so the text of every line starts at
#: the same place (longer nicks push their own line's text right).
NICK_COLUMN = 10
_BAR = Style(color="#5f5f5f")


def _prefix(hhmm: str, who: Text, *, selected: bool = False) -> Text:
    """``HH:MM       ana │ `` with the nick right-aligned in its column (``▶`` before
    the nick when selected)."""
    prefix = Text(hhmm + " ", style=_TIME)
    if selected:
        who = Text(SELECTED_MARK + " ", style="bold") + who
    prefix.append(" " * max(0, NICK_COLUMN - who.cell_len))
    prefix.append_text(who)
    prefix.append(" │ ", style=_BAR)
    return prefix


def message_entry(
    message: Message, *, me: str, lang: str = "es", replies: int = 0, selected: bool = False
) -> Entry:
    """A chat message; ``me`` decides what is mine and what mentions me. ``replies`` is
    how many replies its thread has (shown under a thread's first message)."""
    parts = deleted_body(message, lang) if message.deleted else message_body(message, lang)
    extra = [reactions_line(message.reactions, me), replies_line(replies, lang)]
    blocks = (*parts.blocks, *(line for line in extra if line is not None))
    who, body, kind, mention = _shape(message, me, parts.text)
    if message.bot and not message.deleted:
        body = _BOT_BADGE + body
    prefix = _prefix(local_time(message.ts), who, selected=selected)
    return Entry(
        prefix, body, kind, mention=mention, id=message.id, blocks=blocks, selected=selected
    )


def _shape(message: Message, me: str, body: Text) -> tuple[Text, Text, Kind, bool]:
    """Who a message shows as, its body, its kind and whether it mentions ``me``."""
    own = nick_key(message.user) == nick_key(me)
    if message.to is not None:
        # Mine show whom they went to; others' show who sent them.
        arrow, other = ("→ ", message.to) if own else ("← ", message.user)
        body.stylize(_DIRECT)
        return Text(arrow, style=_DIRECT) + nick_text(other), body, Kind.DIRECT, not own
    mention = not own and not message.deleted and mentions(message.text, me)
    if message.action:
        body = nick_text(message.user, bold=own) + " " + body
        body.stylize(Style(italic=True))
        return Text("*", style="bold"), body, Kind.ACTION, mention
    who = nick_text(message.user, bold=own)
    if message.notice:  # as IRC clients show a NOTICE: -nick- text
        who = Text("-") + who + Text("-")
        body.stylize(_NOTICE)
    if own:
        who.stylize(Style(reverse=True))
        return who, body, Kind.OWN, False
    return who, body, Kind.MESSAGE, mention


def day_entry(day: str) -> Entry:
    """A rule between messages of different days (times show only ``HH:MM``)."""
    return Entry(Text(""), Text(f"──── {day} ────", style=_TIME), Kind.NOTICE)


def notice_entry(text: str, hhmm: str, *, error: bool = False) -> Entry:
    """A line from the server or the app itself (join, leave, help, errors)."""
    style = _ERROR if error else _NOTICE
    prefix = _prefix(hhmm, Text("!!" if error else "--", style=style))
    return Entry(prefix, Text(sanitize(text), style=style), Kind.ERROR if error else Kind.NOTICE)
