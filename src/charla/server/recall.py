"""Reading back what was said: a room around one message, direct conversations.

- ``history {room, around}``: the messages around one id, to show a search result in its
  context;
- ``history {with}``: a page of the direct conversation with a nick;
- ``dms {}``: the asker's direct conversations;
- a resuming ``hello`` (``since``) replays the direct messages missed meanwhile.

Only a registered nick reads direct messages back, and only those sent while it was
registered (:mod:`~charla.server.visibility`); everyone else gets them live only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from msgspec.structs import replace

from .. import archive
from ..archive import Scope
from ..protocol import (
    ClientHistory,
    Code,
    Conversation,
    Dms,
    History,
    ProtocolError,
    encode,
    normalize_nick,
)
from . import visibility
from .history import send_history

if TYPE_CHECKING:
    from .hub import Hub
    from .member import Member

__all__ = ["MAX_CONVERSATIONS", "around", "conversation", "forget", "list_dms", "replay"]

#: Most conversations a ``dms`` answer lists.
MAX_CONVERSATIONS = 200


async def around(hub: Hub, member: Member, room: str, frame: ClientHistory) -> None:
    """The messages of ``room`` around ``frame.around``, half before and half after."""
    assert frame.around is not None
    if not visibility.may_read(member, room):
        raise ProtocolError(Code.NOT_IN_ROOM, "you may not read #{room}", room=room)
    messages = await hub.read(
        hub.store.query, archive.around, Scope.room(room), frame.around, frame.limit
    )
    await send_history(
        member, History(room=room, messages=messages, around=frame.around, label=frame.label)
    )


def _reader(hub: Hub, member: Member) -> str:
    nick = visibility.reader_nick(hub, member)
    if nick is None:
        raise ProtocolError(
            Code.NOT_REGISTERED,
            "direct messages are kept for registered nicks only: /registrar <password>",
        )
    return nick


async def conversation(hub: Hub, member: Member, frame: ClientHistory) -> None:
    """A page of the direct conversation with ``frame.with_``: older than ``before``, or
    around ``around``."""
    reader = _reader(hub, member)
    other = normalize_nick(frame.with_ or "")
    scope = Scope.conversation(reader, other)
    if frame.around is not None:
        messages = await hub.read(hub.store.query, archive.around, scope, frame.around, frame.limit)
    else:
        messages = await hub.read(hub.store.query, archive.page, scope, frame.before, frame.limit)
    history = History(
        with_=other,
        messages=messages,
        before=frame.before,
        around=frame.around,
        label=frame.label,
    )
    await send_history(member, history)


async def list_dms(hub: Hub, member: Member, label: str | None) -> None:
    reader = _reader(hub, member)
    rows = await hub.read(hub.store.query, archive.conversations, reader, MAX_CONVERSATIONS)
    conversations = [Conversation(nick=n, last_id=i, last_ts=ts) for n, i, ts in rows]
    member.send(Dms(conversations=conversations, label=label))


async def replay(hub: Hub, member: Member, since: int, upto: int, label: str | None) -> None:
    """Send the direct messages ``member`` missed: ``since < id <= upto``, where ``upto``
    is the last id delivered when it was welcomed (later ones reached it live)."""
    reader = visibility.reader_nick(hub, member)
    if reader is None or since >= upto:
        return
    missed, _ = await hub.read(
        hub.store.query, archive.since, Scope.inbox(reader), since, upto, hub.config.resume_cap
    )
    if missed:
        await member.link.drained()
        member.send_bytes(b"".join(encode(replace(m, label=label)) for m in missed))


async def forget(hub: Hub, nick: str) -> None:
    """``nick`` was unregistered: its next holder must not read its direct messages."""
    await hub.write(hub.store.forget_directs, nick)
