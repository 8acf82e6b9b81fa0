"""What the server does for each request: one small handler per frame type.

The requests themselves — their ``/command`` names, arguments, metering and help — are
the table in :mod:`charla.protocol.requests`; a ``/command`` typed in a ``say`` arrives
here already as its typed frame. A handler answers with frames carrying the request's
``label``, raises :class:`~charla.protocol.ProtocolError` to refuse, or returns a
coroutine for work that must leave the event loop (history, passwords, a cluster claim);
the hub runs that as the member's work in progress, so the member's next request waits
for it. A new request is a frame in ``protocol/frames.py``, a row in the protocol's
table and a handler here (a moderation request: in :mod:`charla.server.modrequests`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from ..i18n import tr
from ..protocol import (
    DEFAULT_ROOM,
    REQUESTS,
    Away,
    Back,
    Bot,
    ClientDms,
    ClientFrame,
    ClientHistory,
    ClientPing,
    ClientPong,
    ClientRooms,
    ClientTags,
    ClientTyping,
    ClientUsers,
    Code,
    Delete,
    Edit,
    Hello,
    Help,
    History,
    Join,
    MarkRead,
    Me,
    Msg,
    Nick,
    Part,
    Passwd,
    Pong,
    ProtocolError,
    Quit,
    React,
    Register,
    Rooms,
    Say,
    Search,
    System,
    Unregister,
    Unwatch,
    Watch,
    normalize_room,
)
from ..protocol.connection import EOF_REASON
from . import conversation, recall, search
from .history import send_history
from .modrequests import MODERATION_HANDLERS

if TYPE_CHECKING:
    from .hub import Hub
    from .member import Member

__all__ = ["HANDLERS", "help_text"]

Work = Coroutine[Any, Any, None]
Handler = Callable[["Hub", "Member", Any], "Work | None"]


def _hello(hub: Hub, member: Member, frame: Hello) -> Work:
    return hub.identity.hello(member, frame)


def _say(hub: Hub, member: Member, frame: Say | Me) -> Work | None:
    room = DEFAULT_ROOM if frame.room is None else normalize_room(frame.room)
    if room in member.rooms:
        hub.moderation.check_say(member, room)
    if frame.reply_to is not None:
        return _room_reply(hub, member, room, frame, frame.reply_to)
    _say_in(hub, member, room, frame)
    return None


async def _room_reply(hub: Hub, member: Member, room: str, frame: Say | Me, reply_to: int) -> None:
    await conversation.check_reply(hub, member, room, reply_to)
    _say_in(hub, member, room, frame)


def _say_in(hub: Hub, member: Member, room: str, frame: Say | Me) -> None:
    hub.say(
        member,
        room,
        frame.text,
        label=frame.label,
        action=isinstance(frame, Me),
        notice=isinstance(frame, Say) and frame.notice,
        tags=frame.tags,
        wraps=frame.wraps,
        reply_to=frame.reply_to,
    )


def _msg(hub: Hub, member: Member, frame: Msg) -> Work | None:
    if frame.reply_to is not None:
        return _direct_reply(hub, member, frame, frame.reply_to)
    _direct(hub, member, frame)
    return None


async def _direct_reply(hub: Hub, member: Member, frame: Msg, reply_to: int) -> None:
    await conversation.check_direct_reply(hub, member, frame.to, reply_to)
    _direct(hub, member, frame)


def _direct(hub: Hub, member: Member, frame: Msg) -> None:
    hub.direct(
        member,
        frame.to,
        frame.text,
        label=frame.label,
        reply_to=frame.reply_to,
        notice=frame.notice,
        tags=frame.tags,
        wraps=frame.wraps,
    )
    hub.activity.reply_if_away(member, frame.to, frame.label)


def _change(hub: Hub, member: Member, frame: React | Edit | Delete) -> Work:
    return conversation.change(hub, member, frame)


def _history(hub: Hub, member: Member, frame: ClientHistory) -> Work:
    room = normalize_room(frame.room)
    hub.moderation.check_read(member, room)
    if not 1 <= frame.limit <= hub.config.max_page:
        raise ProtocolError(
            Code.LIMIT_INVALID, "limit must be between 1 and {most}", most=hub.config.max_page
        )
    if frame.with_ is not None:
        return recall.conversation(hub, member, frame)
    if frame.around is not None:
        return recall.around(hub, member, room, frame)
    if frame.thread is not None:
        return conversation.thread_page(hub, member, room, frame)
    return _send_page(hub, member, room, frame)


async def _send_page(hub: Hub, member: Member, room: str, frame: ClientHistory) -> None:
    """A page of ``room``'s history older than ``frame.before`` (the newest without it)."""
    store = hub.store
    if frame.before is None:
        messages = await hub.read(store.recent, room, frame.limit)
    else:
        messages = await hub.read(store.before, room, frame.before, frame.limit)
    history = History(room=room, messages=messages, before=frame.before, label=frame.label)
    await send_history(member, history)


def _ping(hub: Hub, member: Member, frame: ClientPing) -> None:
    # Requests are answered in order, so this pong also says that everything sent
    # before the ping is handled: messages stored and delivered, joins answered.
    member.send(Pong(token=frame.token, label=frame.label))


def _pong(hub: Hub, member: Member, frame: ClientPong) -> None:
    """Any frame proves the client alive; receiving it was enough."""


def _join(hub: Hub, member: Member, frame: Join) -> Work:
    name = normalize_room(frame.room)
    hub.moderation.check_join(member, name)
    return _join_room(hub, member, name, frame.label)


async def _join_room(hub: Hub, member: Member, name: str, label: str | None) -> None:
    # A registered nick creating a room (nobody in it, nothing ever said) owns it.
    claims = hub.moderation.may_claim(member, name) and not await hub.read(
        hub.store.recent, name, 1
    )
    await hub.users.join(member, name, label=label)
    if claims:
        await hub.moderation.claim(member, name)


def _part(hub: Hub, member: Member, frame: Part) -> None:
    hub.users.part(member, normalize_room(frame.room), label=frame.label, reason=frame.reason)


def _watch(hub: Hub, member: Member, frame: Watch) -> Work:
    name = normalize_room(frame.room)
    hub.moderation.check_join(member, name)
    return hub.rooms.watch(member, name, label=frame.label)


def _unwatch(hub: Hub, member: Member, frame: Unwatch) -> None:
    hub.rooms.unwatch(member, normalize_room(frame.room), label=frame.label)


def _users(hub: Hub, member: Member, frame: ClientUsers) -> None:
    name = normalize_room(frame.room)
    hub.moderation.check_read(member, name)
    users = hub.rooms.users(name, after=frame.after, label=frame.label)
    users.roles = hub.moderation.roles(name, users.users)
    users.away = hub.activity.away_among(users.users)
    member.send(users)


def _rooms(hub: Hub, member: Member, frame: ClientRooms) -> Work:
    listing = hub.rooms.listing(member, label=frame.label)
    # Invite-only rooms are hidden from who may not read them.
    listing.rooms = [r for r in listing.rooms if hub.moderation.may_read(member, r.name)]
    return _send_rooms(hub, member, listing)


async def _send_rooms(hub: Hub, member: Member, listing: Rooms) -> None:
    await hub.markers.count_unread(member, listing)
    member.send(listing)


def _mark_read(hub: Hub, member: Member, frame: MarkRead) -> Work | None:
    return hub.markers.mark(member, frame)


def _away(hub: Hub, member: Member, frame: Away) -> None:
    hub.activity.away(member, frame)


def _back(hub: Hub, member: Member, frame: Back) -> None:
    hub.activity.back(member, frame)


def _bot(hub: Hub, member: Member, frame: Bot) -> None:
    member.bot = frame.on
    if frame.on:
        event, text = "bot", tr(member.lang, "Your messages are marked as sent by a program")
    else:
        event, text = "unbot", tr(member.lang, "Your messages are no longer marked as a program's")
    member.send(System(event=event, user=member.nick, text=text, label=frame.label))


def _typing(hub: Hub, member: Member, frame: ClientTyping) -> None:
    hub.activity.typing(member, frame)


def _tags(hub: Hub, member: Member, frame: ClientTags) -> None:
    hub.activity.relay_tags(member, frame)


def _nick(hub: Hub, member: Member, frame: Nick) -> Work:
    return hub.identity.rename(member, frame.nick, label=frame.label)


def _quit(hub: Hub, member: Member, frame: Quit) -> None:
    """The connection is quitting; its ``bye`` goes out once what came before is answered,
    and its rooms are told its reason when it is gone."""
    if frame.reason != EOF_REASON:
        member.quit_reason = frame.reason


def _register(hub: Hub, member: Member, frame: Register) -> Work:
    return hub.identity.register(member, frame.password, label=frame.label)


def _unregister(hub: Hub, member: Member, frame: Unregister) -> Work:
    return hub.identity.unregister(member, frame.password, label=frame.label)


def _passwd(hub: Hub, member: Member, frame: Passwd) -> Work:
    return hub.identity.passwd(member, frame.old, frame.new, label=frame.label)


def _help(hub: Hub, member: Member, frame: Help) -> None:
    member.send(System(event="help", text=help_text(member.lang), label=frame.label))


def _search(hub: Hub, member: Member, frame: Search) -> Work:
    return search.search(hub, member, frame)


def _dms(hub: Hub, member: Member, frame: ClientDms) -> Work:
    return recall.list_dms(hub, member, frame.label)


HANDLERS: dict[type[ClientFrame], Handler] = {
    Hello: _hello,
    Say: _say,
    Me: _say,
    Msg: _msg,
    ClientHistory: _history,
    ClientPing: _ping,
    ClientPong: _pong,
    Join: _join,
    Part: _part,
    Watch: _watch,
    Unwatch: _unwatch,
    ClientUsers: _users,
    ClientRooms: _rooms,
    Nick: _nick,
    Quit: _quit,
    Register: _register,
    Unregister: _unregister,
    Passwd: _passwd,
    Help: _help,
    Search: _search,
    ClientDms: _dms,
    MarkRead: _mark_read,
    Away: _away,
    Back: _back,
    Bot: _bot,
    ClientTyping: _typing,
    ClientTags: _tags,
    **MODERATION_HANDLERS,
    React: _change,
    Edit: _change,
    Delete: _change,
}
assert set(HANDLERS) == {r.frame for r in REQUESTS}, "every request needs a handler"


def help_text(lang: str) -> str:
    """One line per command, names and aliases, in ``lang``."""
    lines = [tr(lang, "Commands:")]
    for request in REQUESTS:
        if not request.names:
            continue
        names = ", ".join("/" + n for n in request.names)
        usage = f" {tr(lang, request.usage)}" if request.usage else ""
        lines.append(f"  {names}{usage} — {tr(lang, request.summary)}")
    lines.append(f"  {tr(lang, '//text')} — {tr(lang, 'send text that starts with /')}")
    return "\n".join(lines)
