"""Replies, reactions, edits, deletes and read markers as IRCv3 tags and commands.

- ``+draft/reply=<msgid>`` on a ``PRIVMSG`` is charla's ``reply_to``; a message that
  answers another carries it (with ``message-tags``).
- Other client-only tags (``+name=value``) on a ``PRIVMSG``/``NOTICE`` are the message's
  ``tags``, passed on to clients with ``message-tags`` (charla drops the ones whose name
  or value is not valid).
- ``TAGMSG`` with ``+draft/react=<emoji>`` (or ``+draft/unreact``) and ``+draft/reply``
  is ``react`` (charla toggles); a ``reaction`` is that ``TAGMSG`` (``message-tags``).
  A reaction charla refuses (an unknown message, not one emoji), and any other
  ``TAGMSG``, is relayed as it is (``tags``, never stored): a ``tags`` frame is that
  ``TAGMSG``. A ``TAGMSG`` with only ``+typing=active|paused|done`` is ``typing``, and a
  ``typing`` is that ``TAGMSG``.
- ``REDACT <target> <msgid>`` is ``delete``; a ``deleted`` is ``REDACT`` to clients with
  ``draft/message-redaction``.
- An ``edited`` has no IRCv3 form: it is a ``NOTICE`` to the room, ``(edited) <text>``,
  from the author, tagged ``+draft/reply`` with the edited message's id.
- ``MARKREAD <target> [timestamp=…]`` is ``mark_read`` / the marker (``read``), with
  ``draft/read-marker``; charla's markers are message ids, so the front-end keeps the time
  of the messages it showed to say which id a timestamp means.
"""

from __future__ import annotations

from ..protocol import (
    ClientTags,
    ClientTyping,
    Delete,
    Deleted,
    Edited,
    MarkRead,
    React,
    Reaction,
    Read,
    RelayedTags,
    Typing,
    is_client_tag,
    nick_key,
)
from .channels import channel, need
from .messages import IrcMessage
from .session import IrcSession, Pending, mask

__all__ = [
    "COMMANDS",
    "client_tags",
    "fail_for",
    "render_deleted",
    "render_edited",
    "render_reaction",
    "render_read",
    "render_tags",
    "render_typing",
    "reply_to",
    "tell_marker",
]

REPLY = "+draft/reply"
REACT = "+draft/react"
UNREACT = "+draft/unreact"
TYPING = "+typing"
_TYPING_STATES = ("active", "paused", "done")
#: Longest reaction tag value taken: one emoji, or a ``:shortcode:``.
MAX_EMOJI = 64


def reply_to(message: IrcMessage) -> int | None:
    """The message id a client's ``+draft/reply`` tag names, if any."""
    return _msgid(message.tags.get(REPLY, ""))


def client_tags(message: IrcMessage, *, but: str = "") -> dict[str, str] | None:
    """The valid client-only tags of ``message`` (all but ``but``), None for none."""
    tags = {k: v for k, v in message.tags.items() if k != but and is_client_tag(k, v)}
    return tags or None


def _msgid(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 19 else None


# --- commands --------------------------------------------------------------------------


def _tagmsg(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    """A reaction, or client-only tags relayed as they are."""
    if not need(session, message, 1, pending):
        return
    where = message.param(0)[:64]
    part = pending.part("TAGMSG", where)
    tags = client_tags(message)
    room, to = (where, None) if where.startswith("#") else (None, where)
    state = (tags or {}).get(TYPING)
    if tags is not None and len(tags) == 1 and state in _TYPING_STATES:
        session.request(ClientTyping(state=state, room=room, to=to), part)  # type: ignore[arg-type]
        return
    relay = None if tags is None else ClientTags(tags=tags, room=room, to=to)
    emoji = message.tags.get(REACT) or message.tags.get(UNREACT)
    target = reply_to(message)
    if emoji and target is not None and len(emoji) <= MAX_EMOJI:
        part.without_reply = relay  # a reaction charla refuses is relayed all the same
        session.request(React(id=target, emoji=emoji), part)
    elif relay is not None:
        session.request(relay, part)


def _redact(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    if not need(session, message, 2, pending):
        return
    target, msgid = message.params[0][:64], _msgid(message.params[1])
    if msgid is None:
        _fail(session, "REDACT", "UNKNOWN_MSGID", [target, message.params[1][:64]], pending)
        return
    part = pending.part("REDACT", target)
    part.detail = str(msgid)  # a FAIL names it
    room = target if target.startswith("#") else None
    session.request(Delete(id=msgid, reason=message.param(2) or None, room=room), part)


def _fail(
    session: IrcSession, command: str, code: str, context: list[str], pending: Pending | None
) -> None:
    session.emit(IrcMessage("FAIL", [command, code, *context, "Cannot do that"]), pending)


def _markread(session: IrcSession, message: IrcMessage, pending: Pending) -> None:
    """``MARKREAD target`` asks the marker; ``MARKREAD target timestamp=T`` moves it to
    the newest message shown at or before ``T``."""
    if not message.params:
        _fail(session, "MARKREAD", "NEED_MORE_PARAMS", [], pending)
        return
    target = message.params[0][:64]
    room, with_ = (target, None) if target.startswith("#") else (None, target)
    stamp = message.param(1).removeprefix("timestamp=")
    msgid = session.message_at(target, stamp) if stamp else 0  # 0 asks where it stands
    if msgid is None:
        _fail(session, "MARKREAD", "INVALID_PARAMS", [target], pending)
        return
    session.request(MarkRead(id=msgid, room=room, with_=with_), pending.part("MARKREAD", target))


COMMANDS = {"TAGMSG": _tagmsg, "REDACT": _redact, "MARKREAD": _markread}


# --- frames ----------------------------------------------------------------------------


def _where(session: IrcSession, room: str | None, to: str | None) -> str:
    return channel(room) if room is not None else to or session.nick


def render_reaction(session: IrcSession, frame: Reaction, pending: Pending | None) -> None:
    if "message-tags" not in session.caps:
        return
    if pending is not None and "echo-message" not in session.caps:
        return  # our own reaction
    tags = {REPLY: str(frame.id), REACT if frame.on else UNREACT: frame.emoji}
    where = _where(session, frame.room, frame.to)
    session.emit(IrcMessage("TAGMSG", [where], mask(frame.user), tags), pending)


def render_tags(session: IrcSession, frame: RelayedTags, pending: Pending | None) -> None:
    tags = {**frame.tags, "msgid": frame.ref} if frame.ref else frame.tags
    _tagmsg_out(session, frame.user, frame.room, frame.to, tags, pending)


def render_typing(session: IrcSession, frame: Typing, pending: Pending | None) -> None:
    _tagmsg_out(session, frame.user, frame.room, frame.to, {TYPING: frame.state}, pending)


def _tagmsg_out(
    session: IrcSession,
    user: str,
    room: str | None,
    to: str | None,
    tags: dict[str, str],
    pending: Pending | None,
) -> None:
    """Client-only tags with no message: a ``TAGMSG`` (with ``message-tags``), echoed to
    its sender with ``echo-message`` and, sent to oneself, delivered too."""
    if "message-tags" not in session.caps:
        return
    where, source = [_where(session, room, to)], mask(user)
    if pending is not None and "echo-message" in session.caps:
        session.emit(IrcMessage("TAGMSG", where, source, dict(tags)), pending)
    to_self = to is not None and nick_key(to) == nick_key(session.nick)
    if pending is None or to_self:
        session.emit(IrcMessage("TAGMSG", where, source, dict(tags)))


def render_edited(session: IrcSession, frame: Edited, pending: Pending | None) -> None:
    tags = {REPLY: str(frame.id)} if "message-tags" in session.caps else {}
    where = _where(session, frame.room, frame.to)
    text = f"(edited) {frame.text}".replace("\n", " ")
    session.emit(IrcMessage("NOTICE", [where, text], mask(frame.user), tags), pending)


def render_deleted(session: IrcSession, frame: Deleted, pending: Pending | None) -> None:
    if "draft/message-redaction" not in session.caps:
        return
    where = _where(session, frame.room, frame.to)
    reason = [frame.reason] if frame.reason else []
    session.emit(IrcMessage("REDACT", [where, str(frame.id), *reason], mask(frame.by)), pending)


def render_read(session: IrcSession, frame: Read, pending: Pending | None) -> None:
    tell_marker(session, _where(session, frame.room, frame.with_), frame.id, pending)


def tell_marker(session: IrcSession, target: str, msgid: int, pending: Pending | None) -> None:
    """``MARKREAD target timestamp=…``: the time of the marker's message, ``*`` if unknown."""
    if "draft/read-marker" not in session.caps:
        return
    shown = session.shown.get(msgid)
    marker = f"timestamp={shown[1]}" if shown else "*"
    session.emit(IrcMessage("MARKREAD", [target, marker], session.options.server_name), pending)


def fail_for(session: IrcSession, code: str, pending: Pending) -> bool:
    """A refused REDACT as ``FAIL``, a refused MARKREAD as the marker charla keeps for
    the client (``*``: none); False for other commands."""
    if pending.command == "MARKREAD":
        tell_marker(session, pending.target, 0, pending)
        return True
    if pending.command == "REDACT":
        reason = "REDACT_FORBIDDEN" if code == "not_allowed" else "UNKNOWN_MSGID"
        _fail(session, "REDACT", reason, [pending.target, pending.detail], pending)
        return True
    return False
