"""Replies, threads, reactions, edits and deletes: the checks before they reach the bus.

Each request reads the message it is about from the store (off the loop) and refuses
what its sender may not do: a message it cannot see is ``no_such_message`` (whether it
exists elsewhere is not told), one that is not its own is ``not_allowed``. What passes is
published like a message; the store applies it in the bus's order and checks again
(:mod:`charla.changes`), so two requests racing each other end the same on every node.
A moderator of the room may delete anyone's message there: the delete is first logged in
the room's moderation log (docs/moderation.md). An edit or a reaction is checked like a
message (``muted``, moderated, slow mode); a delete is not.

A direct message is seen by its parties only, and, as when reading direct messages back
(:mod:`~charla.server.recall`), only by a party that was a registered nick when it was
sent and still holds it: whoever takes a free nick later acts on none of its messages.
A change to a direct message carries ``to`` (the other party, as a ``msg`` would) and
reaches both parties' sessions only.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from ..bus import Draft, Kind
from ..changes import DIRECT, MODERATOR, MessageInfo
from ..protocol import (
    ClientHistory,
    Code,
    Delete,
    Edit,
    History,
    ProtocolError,
    React,
    clean_text,
    nick_key,
    normalize_room,
)
from ..protocol.emoji import check_emoji
from . import visibility
from .authors import tokens_of
from .history import send_history
from .rooms import leave_reason

if TYPE_CHECKING:
    from .hub import Hub
    from .member import Member

__all__ = ["change", "check_direct_reply", "check_reply", "thread_page"]

Work = Coroutine[Any, Any, None]


async def _visible(hub: Hub, member: Member, message_id: int) -> MessageInfo:
    """The message ``message_id`` if ``member`` can see it: in a room it is in, or a
    direct message of its own (see the module's docstring); not deleted."""
    info = await hub.read(hub.store.message_info, message_id)
    if info is None or info.deleted or not _sees(hub, member, info):
        raise ProtocolError(Code.NO_SUCH_MESSAGE, "no message {id} you can see", id=message_id)
    return info


def _sees(hub: Hub, member: Member, info: MessageInfo) -> bool:
    if info.room == DIRECT:
        return visibility.may_read_direct(hub, member, info.readers)
    return info.room in member.rooms


def _other_party(member: Member, info: MessageInfo) -> str:
    """The other party of direct message ``info``, which ``member`` can see."""
    if nick_key(info.user) == nick_key(member.nick or ""):
        return info.to or ""
    return info.user


async def check_reply(hub: Hub, member: Member, room: str, reply_to: int) -> None:
    """Refuse a message in ``room`` answering ``reply_to`` unless ``reply_to`` is a
    message of that room the member may see."""
    if room not in member.rooms:
        raise ProtocolError(Code.NOT_IN_ROOM, "you are not in #{room}", room=room)
    info = await _visible(hub, member, reply_to)
    if info.room != room:
        raise ProtocolError(
            Code.NO_SUCH_MESSAGE, "no message {id} in #{room}", id=reply_to, room=room
        )


async def check_direct_reply(hub: Hub, member: Member, to: str, reply_to: int) -> None:
    """Refuse a direct message to ``to`` answering ``reply_to`` unless ``reply_to`` is
    of the conversation with ``to``."""
    info = await _visible(hub, member, reply_to)
    if info.room != DIRECT or nick_key(_other_party(member, info)) != nick_key(to):
        raise ProtocolError(
            Code.NO_SUCH_MESSAGE,
            "no message {id} in your conversation with {nick}",
            id=reply_to,
            nick=to[:40],
        )


def change(hub: Hub, member: Member, frame: React | Edit | Delete) -> Work:
    """Check what can be checked at once (the emoji, the text), then the message."""
    kind: Kind
    text = emoji = ""
    if isinstance(frame, React):
        kind, emoji = "react", check_emoji(frame.emoji)
    elif isinstance(frame, Edit):
        kind, text = "edit", clean_text(frame.text, limit=hub.config.max_text)
    else:
        kind, text = "delete", leave_reason(frame.reason) or ""
    return _publish_change(hub, member, frame, kind, text=text, emoji=emoji)


def _check_room(frame: Delete, info: MessageInfo) -> None:
    """A delete that names a room finds no message of another room there."""
    if frame.room is not None and normalize_room(frame.room) != info.room:
        raise ProtocolError(
            Code.NO_SUCH_MESSAGE, "no message {id} in #{room}", id=frame.id, room=frame.room[:40]
        )


async def _publish_change(
    hub: Hub, member: Member, frame: React | Edit | Delete, kind: Kind, *, text: str, emoji: str
) -> None:
    info = await _visible(hub, member, frame.id)
    if isinstance(frame, Delete):
        _check_room(frame, info)
    if kind != "delete":  # an edit or a reaction speaks: a mute silences it too
        hub.moderation.check_say(member, info.room)
    tokens = tokens_of(member)
    direct = info.room == DIRECT
    if kind != "react" and info.author not in tokens.split():
        # Nobody moderates a direct conversation.
        if kind != "delete" or direct or not hub.moderation.may_moderate(member, info.room):
            raise ProtocolError(Code.NOT_ALLOWED, "message {id} is not yours", id=frame.id)
        await hub.moderation.record_delete(member, info.room, info.id, info.user)
        tokens = f"{tokens} {MODERATOR}"
    draft = Draft(
        kind=kind,
        target=frame.id,
        room=None if direct else info.room,
        to=_other_party(member, info) if direct else None,
        user=member.nick or "",
        text=text,
        emoji=emoji,
        author=tokens,
    )
    hub.fanout.publish(member, draft, frame.label)


async def thread_page(hub: Hub, member: Member, room: str, frame: ClientHistory) -> None:
    """A page of thread ``frame.thread``: its first message and its replies, oldest first."""
    assert frame.thread is not None
    messages = await hub.read(hub.store.thread, room, frame.thread, frame.before, frame.limit)
    history = History(
        room=room, messages=messages, before=frame.before, thread=frame.thread, label=frame.label
    )
    await send_history(member, history)
