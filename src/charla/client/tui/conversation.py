"""Replies, reactions, edits, deletes and threads in the full-screen client.

:class:`ConversationUI` keeps the latest state of every message shown (so an edit, a
delete or a reaction redraws its message in place), the message picked with Alt+↑/↓,
and what Enter will do next (answer a message, change one). It acts through the
session's ``/commands`` (``/responder``, ``/reaccionar``, ``/editar``, ``/borrar``), so
the session queues, confirms and reports them like anything typed.

The app owns one and hands it its messages, changes, keys and thread pages.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import msgspec
from textual.app import SuspendNotSupported

from ...i18n import tr
from ...protocol import (
    Change,
    ClientHistory,
    Edited,
    History,
    Message,
    Parent,
    Reaction,
    nick_key,
)
from ..session import BACKFILL_PAGE
from .composebar import ComposeBar, Editing, Mode, Replying
from .editor import edit_text, editor_command
from .message_parts import code_blocks
from .reactionpicker import ReactionPicker
from .render import Entry, message_entry
from .threadpane import ThreadPane

if TYPE_CHECKING:
    from .app import ChatApp

__all__ = ["ConversationUI"]


class ConversationUI:
    def __init__(self, app: ChatApp) -> None:
        self.app = app
        #: The latest state of every message shown, by id.
        self.messages: dict[int, Message] = {}
        #: Replies seen per thread (by the id of its first message).
        self.replies: Counter[int] = Counter()
        self._counted: set[int] = set()
        self.selected: int | None = None
        self.mode: Mode | None = None

    # --- messages and changes -----------------------------------------------------------

    def entry(self, message: Message) -> Entry:
        """The log entry of ``message`` (remembered, its thread's count updated)."""
        self.messages[message.id] = message
        if message.thread is not None and message.id not in self._counted:
            self._counted.add(message.id)
            self.replies[message.thread] += 1
            self._redraw(message.thread)
            pane = self.pane
            if pane is not None and pane.root == message.thread:
                pane.add(self._entry(message))
        return self._entry(message)

    def _entry(self, message: Message) -> Entry:
        app = self.app
        return message_entry(
            message,
            me=app.nick,
            lang=app.lang,
            replies=self.replies[message.id],
            selected=message.id == self.selected,
        )

    def apply(self, change: Change) -> None:
        """A reaction, an edit or a delete: the message is drawn again as it is now."""
        message = self.messages.get(change.id)
        if message is None:
            return  # not shown here (older than the log, or another room's)
        if isinstance(change, Reaction):
            changed = _react(message, change)
        elif isinstance(change, Edited):
            # The new text was typed whole: the old one's wraps do not fit it.
            changed = msgspec.structs.replace(
                message, text=change.text, edited=change.edited, wraps=None
            )
        else:
            changed = msgspec.structs.replace(
                message, text="", deleted=True, edited=None, reactions=None
            )
            if self.mode is not None and self.mode.message.id == change.id:
                self.set_mode(None)
        self.messages[change.id] = changed
        self._redraw(change.id)
        if not isinstance(change, Reaction):
            self._redraw_replies_to(changed)

    def _redraw(self, message_id: int) -> None:
        message = self.messages.get(message_id)
        if message is None:
            return
        entry = self._entry(message)
        room = message.room or self.app.room
        if self.app.has_room(room):
            self.app.log_for(room).replace(entry)
        pane = self.pane
        if pane is not None:
            pane.thread_log.replace(entry)

    def _redraw_replies_to(self, parent: Message) -> None:
        """Replies show the start of what they answer: keep it current."""
        preview = Parent(user=parent.user, text=parent.text[:80], deleted=parent.deleted)
        for reply in [m for m in self.messages.values() if m.reply_to == parent.id]:
            self.messages[reply.id] = msgspec.structs.replace(reply, parent=preview)
            self._redraw(reply.id)

    # --- selection ---------------------------------------------------------------------

    def select(self, step: int) -> None:
        """Pick the message ``step`` above (-1) or below (+1) the one picked; the first
        Alt+↑ picks the newest."""
        log = self.app.current_log
        ids = [e.id for e in log.entries if e.id is not None and e.id in self.messages]
        if not ids:
            return
        if self.selected in ids:
            at = min(max(ids.index(self.selected) + step, 0), len(ids) - 1)
        else:
            at = len(ids) - 1
        self.pick(ids[at])
        log.reveal(ids[at])

    def pick(self, message_id: int) -> None:
        """Pick the message ``message_id`` (a key or a click)."""
        if message_id not in self.messages:
            return
        previous, self.selected = self.selected, message_id
        if previous is not None:
            self._redraw(previous)
        self._redraw(message_id)

    def _picked(self) -> Message | None:
        message = self.messages.get(self.selected) if self.selected is not None else None
        if message is None:
            self.app.notice(tr(self.app.lang, "pick a message first with Alt+↑"), error=True)
        return message

    def _own(self, message: Message) -> bool:
        if nick_key(message.user) == nick_key(self.app.nick) and not message.deleted:
            return True
        self.app.notice(tr(self.app.lang, "you can only change your own messages"), error=True)
        return False

    def cancel(self) -> bool:
        """Esc: drop what Enter was going to do, else the selection, else the thread
        pane; False when there was none of them."""
        if self.mode is not None:
            if isinstance(self.mode, Editing):
                self.app.chat_input.value = ""
            self.set_mode(None)
            return True
        if self.selected is not None:
            previous, self.selected = self.selected, None
            self._redraw(previous)
            return True
        if self.pane is not None:
            self.pane.remove()
            self.app.chat_input.focus()
            return True
        return False

    # --- acting on the selected message ----------------------------------------------

    def act(self, verb: str) -> None:
        message = self._picked()
        if message is None:
            return
        if verb == "reply":
            self.set_mode(Replying(message))
        elif verb == "react":
            self.app.push_screen(
                ReactionPicker(lang=self.app.lang), lambda emoji: self._react(message, emoji)
            )
        elif verb == "edit":
            self.edit(message)
        elif verb == "delete" and self._own(message):
            self._send(f"/borrar {message.id}", message)
        elif verb == "copy":
            self.app.copy_to_clipboard("\n\n".join(code_blocks(message.text)) or message.text)
            self.app.notify(tr(self.app.lang, "copied"), timeout=2)
        elif verb == "thread":
            self.cancel()  # the selection: Esc then closes the thread
            self.open_thread(message)

    def _react(self, message: Message, emoji: str | None) -> None:
        if emoji:
            self._send(f"/reaccionar {message.id} {emoji}", message)

    def _send(self, command: str, message: Message) -> None:
        session = self.app.session
        if session is not None:
            session.say(command, message.room or self.app.room)

    def edit(self, message: Message) -> None:
        if self._own(message):
            self.set_mode(Editing(message))
            self.app.chat_input.set_text(message.text)

    def edit_last(self) -> None:
        """Up on an empty line: edit your last message in this room, if any."""
        me = nick_key(self.app.nick)
        for entry in reversed(self.app.current_log.entries):
            message = self.messages.get(entry.id) if entry.id is not None else None
            if message is not None and nick_key(message.user) == me and not message.deleted:
                self.edit(message)
                return
        self.app.chat_input.action_history(-1)

    def set_mode(self, mode: Mode | None) -> None:
        self.mode = mode
        self.app.query_one(ComposeBar).show(mode)
        self.app.chat_input.focus()

    def outgoing(self, line: str) -> str:
        """The line Enter sends: an answer or an edit when that is what was asked for
        (a ``/command`` stays itself)."""
        mode, self.mode = self.mode, None
        self.app.query_one(ComposeBar).show(None)
        if mode is None or (line.startswith("/") and not line.startswith("//")):
            return line
        verb = "/responder" if isinstance(mode, Replying) else "/editar"
        return f"{verb} {mode.message.id} {line}"

    # --- the editor ----------------------------------------------------------------------

    def compose_in_editor(self, text: str) -> None:
        try:
            with self.app.suspend():
                edited = edit_text(text, editor_command())
        except SuspendNotSupported:
            edited = None
        if edited is None:
            self.app.notice(tr(self.app.lang, "the editor did not save anything"), error=True)
            return
        self.app.chat_input.set_text(edited)

    # --- threads -----------------------------------------------------------------------

    @property
    def pane(self) -> ThreadPane | None:
        panes = self.app.query(ThreadPane)
        return panes.first() if panes else None

    def open_thread(self, message: Message) -> None:
        root = message.thread or message.id
        room = message.room or self.app.room
        if self.pane is not None:
            self.pane.remove()
        pane = ThreadPane(room, root, lang=self.app.lang, scrollback=self.app.scrollback)
        self.app.show_thread(pane)
        if self.app.session is not None:
            self.app.session.query(ClientHistory(room=room, thread=root, limit=BACKFILL_PAGE))

    def thread_page(self, page: History) -> None:
        pane = self.pane
        if pane is not None and page.thread == pane.root and page.room == pane.room:
            pane.show([self.entry(m) for m in page.messages])

    def reply_in_thread(self, event: ThreadPane.Reply) -> None:
        session = self.app.session
        if session is not None:
            session.say(f"/responder {event.root} {event.text}", event.room)


def _react(message: Message, change: Reaction) -> Message:
    """``message`` with ``change`` applied (idempotent: a replay changes nothing)."""
    reactions = {e: list(users) for e, users in (message.reactions or {}).items()}
    users = reactions.setdefault(change.emoji, [])
    key = nick_key(change.user)
    users[:] = [u for u in users if nick_key(u) != key]
    if change.on:
        users.append(change.user)
    if not users:
        del reactions[change.emoji]
    return msgspec.structs.replace(message, reactions=reactions or None)
