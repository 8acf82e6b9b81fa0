"""Replies, reactions, edits and deletes as SQLite keeps them (used by :mod:`charla.store`).

A message row knows what it answers (``reply_to``), its thread (the id of the thread's
first message), when it was last edited, whether it is deleted, and its ``author``: a
token saying who may change it (see :mod:`charla.server.authors`), never shown to anyone.
Reactions are rows of their own. Every change (a reaction, an edit, a delete) is also kept
as the frame that told readers about it, under its own number from the sequence of
message ids, so a client resuming after id N is sent the changes after N.

Changes are *applied* here, in the writer's transaction and in the one order of the bus,
so every node of a cluster reaches the same outcome: whether a reaction is added or taken
back, whether a message still exists, whether the author may change it. A change that
cannot apply becomes a refusal for its sender alone.

Deleting a message overwrites its text (``secure_delete`` is on for every connection) and
drops its edits and reactions; the writer then checkpoints the WAL, so the text is in
neither file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping

import msgspec

from .protocol import (
    Change,
    Code,
    Deleted,
    Edited,
    Message,
    Parent,
    ProtocolError,
    Reaction,
    nick_key,
)

__all__ = [
    "DIRECT",
    "MAX_REACTIONS",
    "MIGRATION",
    "MODERATOR",
    "PREVIEW",
    "MessageInfo",
    "Refusal",
    "apply_changes",
    "attach_parent",
    "changes_since",
    "message_info",
    "read_page",
    "stored_tags",
    "stored_wraps",
    "tags_of",
    "wraps_of",
]

#: The ``room`` of a direct message's row: no room has this name.
DIRECT = ""
#: The token a moderator's delete carries (:mod:`charla.server.authors`): it may delete a
#: message of someone else, never edit one.
MODERATOR = "m:moderator"
#: Most different emoji on one message.
MAX_REACTIONS = 20
#: Characters of a parent's text a reply carries.
PREVIEW = 80

MIGRATION = """
    ALTER TABLE messages ADD COLUMN reply_to INTEGER;
    ALTER TABLE messages ADD COLUMN thread INTEGER;
    ALTER TABLE messages ADD COLUMN edited TEXT;
    ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN author TEXT NOT NULL DEFAULT '';
    CREATE INDEX messages_thread ON messages (thread, id) WHERE thread IS NOT NULL;
    CREATE TABLE reactions (
        message  INTEGER NOT NULL,
        emoji    TEXT    NOT NULL,
        user_key TEXT    NOT NULL,
        user     TEXT    NOT NULL,
        seq      INTEGER NOT NULL,
        PRIMARY KEY (message, emoji, user_key)
    ) WITHOUT ROWID;
    CREATE TABLE changes (
        seq     INTEGER PRIMARY KEY,
        room    TEXT    NOT NULL,
        message INTEGER NOT NULL,
        frame   BLOB    NOT NULL
    );
    CREATE INDEX changes_room_seq ON changes (room, seq);
    CREATE INDEX changes_message ON changes (message);
"""

#: seq -> why the change was refused (its sender is told, in its language; nobody else
#: sees anything).
Refusal = ProtocolError

_encode = msgspec.json.Encoder().encode
_decode_change = msgspec.json.Decoder(Reaction | Edited | Deleted).decode
_decode_tags = msgspec.json.Decoder(dict[str, str]).decode
_decode_wraps = msgspec.json.Decoder(list[int]).decode


def stored_tags(tags: dict[str, str] | None) -> bytes | None:
    """A message's client-only tags as its ``tags`` column holds them (JSON, NULL for none)."""
    return _encode(tags) if tags else None


def tags_of(column: object) -> dict[str, str] | None:
    """The client-only tags a ``tags`` column holds."""
    return _decode_tags(column) if isinstance(column, bytes | str) else None


def stored_wraps(wraps: list[int] | None) -> bytes | None:
    """Where a message's lines were cut, as its ``wraps`` column holds it (JSON, NULL
    for none)."""
    return _encode(wraps) if wraps else None


def wraps_of(column: object) -> list[int] | None:
    """The wraps a ``wraps`` column holds."""
    return _decode_wraps(column) if isinstance(column, bytes | str) else None


_SELECT = (
    "SELECT m.id, m.room, m.user, m.text, m.ts, m.action, m.bot, m.notice, m.tags, m.wraps,"
    " m.reply_to,"
    f" m.thread, m.edited, m.deleted, p.user, substr(p.text, 1, {PREVIEW}), p.deleted"
    " FROM messages m LEFT JOIN messages p ON p.id = m.reply_to"
)


class MessageInfo(msgspec.Struct, frozen=True):
    """What the server checks before a reply or a change: where a message is, whose it
    is, and whether it is deleted."""

    id: int
    room: str
    user: str
    author: str
    deleted: bool
    thread: int | None
    #: A direct message's recipient (its ``room`` is :data:`DIRECT`).
    to: str | None = None
    #: The nick keys of a direct message's parties that may still see it: those that
    #: were registered nicks when it was sent (as for reading direct messages back).
    readers: tuple[str, ...] = ()


# --- writing (the writer's transaction) ------------------------------------------------


def attach_parent(conn: sqlite3.Connection, m: Message) -> None:
    """Complete reply ``m`` in place, before anyone sees it: its thread and its
    parent's preview; a parent gone (retention) or of another room or direct
    conversation drops ``reply_to``."""
    row = conn.execute(
        f"SELECT room, from_key, to_key, user, substr(text, 1, {PREVIEW}), deleted,"
        " coalesce(thread, id) FROM messages WHERE id = ?",
        (m.reply_to,),
    ).fetchone()
    # Gone (retention), or never this room's or this conversation's.
    if row is None or not _same_place(row[:3], m.room, (m.user, m.to or "")):
        m.reply_to = None
        return
    user, text, deleted, thread = row[3:]
    m.thread = thread
    m.parent = Parent(user=user, deleted=True) if deleted else Parent(user=user, text=text)


def _same_place(
    stored: tuple[str, str | None, str | None], room: str | None, parties: tuple[str, str]
) -> bool:
    """Whether a stored message (its room and, if direct, its parties' nick keys) is in
    ``room``, or, when ``room`` is None, in the direct conversation between ``parties``."""
    stored_room, *keys = stored
    if room is not None:
        return stored_room == room
    return stored_room == DIRECT and set(keys) == {nick_key(p) for p in parties}


def _no_such_message(change: Change) -> Refusal:
    if change.room is not None:
        return ProtocolError(
            Code.NO_SUCH_MESSAGE,
            "there is no message {id} in #{room}",
            id=change.id,
            room=change.room,
        )
    return ProtocolError(
        Code.NO_SUCH_MESSAGE, "there is no message {id} to {nick}", id=change.id, nick=change.to
    )


def apply_changes(
    conn: sqlite3.Connection, changes: Iterable[Change], authors: Mapping[int, str]
) -> tuple[dict[int, Refusal], bool]:
    """Apply ``changes`` in order. Returns the refused ones and whether any message was
    deleted (its text must then leave the WAL too). A reaction's ``on`` is decided here."""
    refused: dict[int, Refusal] = {}
    deleted = False
    for change in changes:
        refusal = _apply(conn, change, authors.get(change.seq, ""))
        if refusal is not None:
            refused[change.seq] = refusal
            continue
        deleted = deleted or isinstance(change, Deleted)
        conn.execute(
            "INSERT INTO changes (seq, room, message, frame) VALUES (?, ?, ?, ?)",
            (change.seq, change.room or DIRECT, change.id, _encode(change)),
        )
    return refused, deleted


def _apply(conn: sqlite3.Connection, change: Change, author: str) -> Refusal | None:
    row = conn.execute(
        "SELECT room, from_key, to_key, author, deleted FROM messages WHERE id = ?", (change.id,)
    ).fetchone()
    asker = change.by if isinstance(change, Deleted) else change.user
    if row is None or row[4] or not _same_place(row[:3], change.room, (asker, change.to or "")):
        return _no_such_message(change)
    if isinstance(change, Reaction):
        return _toggle(conn, change)
    if not _may_change(row[3], author, change):
        return ProtocolError(Code.NOT_ALLOWED, "message {id} is not yours", id=change.id)
    if isinstance(change, Edited):
        conn.execute(
            # The new text was typed whole: the old one's wraps do not fit it.
            "UPDATE messages SET text = ?, edited = ?, wraps = NULL WHERE id = ?",
            (change.text, change.edited, change.id),
        )
    else:
        conn.execute(
            "UPDATE messages SET text = '', edited = NULL, deleted = 1, wraps = NULL WHERE id = ?",
            (change.id,),
        )
        conn.execute("DELETE FROM reactions WHERE message = ?", (change.id,))
        conn.execute("DELETE FROM changes WHERE message = ?", (change.id,))
    return None


def _may_change(owner: str, author: str, change: Edited | Deleted) -> bool:
    """The message's token is one of the asker's, or a moderator deletes it."""
    tokens = author.split()
    return (bool(owner) and owner in tokens) or (
        isinstance(change, Deleted) and MODERATOR in tokens
    )


def _toggle(conn: sqlite3.Connection, reaction: Reaction) -> Refusal | None:
    key = (reaction.id, reaction.emoji, nick_key(reaction.user))
    gone = conn.execute(
        "DELETE FROM reactions WHERE message = ? AND emoji = ? AND user_key = ?", key
    ).rowcount
    if gone:
        reaction.on = False
        return None
    emoji = {e for (e,) in conn.execute("SELECT emoji FROM reactions WHERE message = ?", key[:1])}
    if reaction.emoji not in emoji and len(emoji) >= MAX_REACTIONS:
        return ProtocolError(
            Code.TOO_MANY_REACTIONS,
            "message {id} has {most} different reactions already",
            id=reaction.id,
            most=MAX_REACTIONS,
        )
    conn.execute(
        "INSERT INTO reactions (message, emoji, user_key, user, seq) VALUES (?, ?, ?, ?, ?)",
        (*key, reaction.user, reaction.seq),
    )
    reaction.on = True
    return None


# --- reading (any thread) --------------------------------------------------------------


def read_page(
    conn: sqlite3.Connection, room: str, condition: str, args: tuple[int, ...], limit: int
) -> list[Message]:
    """The newest ``limit`` messages of ``room`` matching ``condition`` (on ``m``),
    oldest first, each as it is now: latest text, deleted, parent, reactions."""
    rows = conn.execute(
        f"{_SELECT} WHERE m.room = ? {condition} ORDER BY m.id DESC LIMIT ?",
        (room, *args, limit),
    ).fetchall()
    rows.reverse()
    messages = [_message(row) for row in rows]
    if messages:
        _attach_reactions(conn, messages)
    return messages


def _message(row: tuple[object, ...]) -> Message:
    (id_, room, user, text, ts, action, bot, notice, tags, wraps) = row[:10]
    reply_to, thread, edited, deleted = row[10:14]
    parent_user, parent_text, parent_deleted = row[14:]
    parent = None
    if parent_user is not None:
        parent = (
            Parent(user=str(parent_user), deleted=True)
            if parent_deleted
            else Parent(user=str(parent_user), text=str(parent_text))
        )
    return Message(
        id=int(id_),  # type: ignore[call-overload]
        room=str(room),
        user=str(user),
        text="" if deleted else str(text),
        ts=str(ts),
        action=bool(action),
        bot=bool(bot),
        notice=bool(notice),
        tags=None if deleted else tags_of(tags),
        wraps=None if deleted else wraps_of(wraps),
        reply_to=reply_to,  # type: ignore[arg-type]
        thread=thread,  # type: ignore[arg-type]
        parent=parent,
        edited=None if deleted else edited,  # type: ignore[arg-type]
        deleted=bool(deleted),
    )


def _attach_reactions(conn: sqlite3.Connection, messages: list[Message]) -> None:
    by_id = {m.id: m for m in messages}
    rows = conn.execute(
        "SELECT message, emoji, user FROM reactions WHERE message BETWEEN ? AND ? ORDER BY seq",
        (messages[0].id, messages[-1].id),
    ).fetchall()
    for message_id, emoji, user in rows:
        m = by_id.get(message_id)
        if m is not None:
            if m.reactions is None:
                m.reactions = {}
            m.reactions.setdefault(emoji, []).append(user)


def changes_since(conn: sqlite3.Connection, room: str, since: int, limit: int) -> list[Change]:
    """The newest ``limit`` changes of ``room`` after ``since``, oldest first."""
    rows = conn.execute(
        "SELECT frame FROM changes WHERE room = ? AND seq > ? ORDER BY seq DESC LIMIT ?",
        (room, since, limit),
    ).fetchall()
    return [_decode_change(frame) for (frame,) in reversed(rows)]


def message_info(conn: sqlite3.Connection, message_id: int) -> MessageInfo | None:
    row = conn.execute(
        "SELECT id, room, user, author, deleted, thread, to_user,"
        " CASE WHEN from_reg THEN from_key END, CASE WHEN to_reg THEN to_key END"
        " FROM messages WHERE id = ?",
        (message_id,),
    ).fetchone()
    if row is None:
        return None
    id_, room, user, author, deleted, thread, to = row[:7]
    readers = tuple(key for key in row[7:] if key is not None)
    return MessageInfo(id_, room, user, author, bool(deleted), thread, to, readers)
