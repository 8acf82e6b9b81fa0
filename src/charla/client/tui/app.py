"""The full-screen client: rooms as tabs, the log, the user list, the status line and
the input line.

The network lives in a :class:`~charla.client.session.Session` run by a worker; its
events arrive here as :class:`~.events.NetEvent` messages, in order, and only this
module touches the widgets.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import ContentSwitcher, Input, Static, Tab, Tabs

from ...i18n import tr
from ...protocol import (
    DEFAULT_ROOM,
    Bans,
    Change,
    ClientFrame,
    ClientHistory,
    ClientRooms,
    ClientUsers,
    Code,
    Dms,
    Error,
    History,
    Join,
    Joined,
    Message,
    Modlog,
    Msg,
    Part,
    Parted,
    ProtocolError,
    Quit,
    Read,
    Results,
    RoomMode,
    Rooms,
    Search,
    ServerFrame,
    System,
    Topic,
    Typing,
    Users,
    nick_key,
    normalize_room,
)
from ..commands import request_of
from ..connection import ConnectOptions, Secret, secret_wanted
from ..format import listing_text, local_date, sanitize_line
from ..session import (
    Backoff,
    Connected,
    Connecting,
    Disconnected,
    Ended,
    Event,
    Incoming,
    Session,
    Unsent,
)
from .attention import Attention, Later
from .chatinput import NEWLINE_MARK, ChatInput
from .chatlog import DEFAULT_SCROLLBACK, ChatLog
from .composebar import ComposeBar
from .conversation import ConversationUI
from .dmtabs import DirectTabs, peer_of
from .events import NetEvent
from .moderation import topic_text
from .nickscreen import Login, NickScreen
from .render import Entry, day_entry, notice_entry
from .searchpane import SEARCH_WORDS, SearchPane, context_entries
from .sessions import ChatSession, SessionFactory
from .status import StatusLine
from .threadpane import ThreadPane
from .topicline import TopicLine, is_topic_answer, is_topic_change
from .typingline import TypingLine, TypingSender
from .unread import Counts, dm_key
from .userlist import UserList

__all__ = ["ChatApp"]

Clock = Callable[[], datetime]

_NICK_PROBLEMS = (Code.NICK_INVALID, Code.NICK_TAKEN, Code.NICK_REGISTERED, Code.BAD_PASSWORD)


def _local_now() -> datetime:
    return datetime.now().astimezone()


class RoomTabs(Tabs, can_focus=False):
    """Room tabs that never take the focus from the input line."""


class ChatApp(App[int]):
    CSS_PATH = "charla.tcss"
    TITLE = "charla"
    ENABLE_COMMAND_PALETTE = False

    BINDINGS = [  # noqa: RUF012 (Textual's API)
        Binding("ctrl+q", "leave", show=False, priority=True),
        Binding("f1", "keys", show=False),
        Binding("f2", "toggle_users", show=False),
        Binding("ctrl+n,alt+right", "next_room(1)", show=False),
        Binding("ctrl+p,alt+left", "next_room(-1)", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("ctrl+end", "jump_to_end", show=False),
        Binding("escape", "escape", show=False),
        Binding("ctrl+f", "search", show=False),
        # The message picked with Alt+↑/↓, and what to do with it (conversation.py).
        Binding("alt+up", "select(-1)", show=False),
        Binding("alt+down", "select(1)", show=False),
        Binding("alt+r", "act('reply')", show=False),
        Binding("alt+a", "act('react')", show=False),
        Binding("alt+e", "act('edit')", show=False),
        Binding("alt+d", "act('delete')", show=False),
        Binding("alt+t", "act('thread')", show=False),
        Binding("alt+c", "act('copy')", show=False),
    ]

    room: reactive[str] = reactive(DEFAULT_ROOM, init=False)
    nick: reactive[str] = reactive("", init=False)
    show_users: reactive[bool] = reactive(True, init=False)

    def __init__(
        self,
        options: ConnectOptions,
        *,
        nick: str | None,
        lang: str = "es",
        rooms: list[str] | None = None,
        bell: bool = True,
        password: str | None = None,
        server_password: str | None = None,
        scrollback: int = DEFAULT_SCROLLBACK,
        server_label: str | None = None,
        clock: Clock = _local_now,
        backoff: Backoff | None = None,
        session_factory: SessionFactory | None = None,
        notify: bool = True,
        typing: bool = False,
        later: Later | None = None,
        terminal: Callable[[str], None] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.options = options
        self.lang = lang
        self.wanted_rooms = list(rooms or [])
        self.ring = bell
        self.password = password
        self.server_password = server_password
        self.scrollback = scrollback
        self.server_label = server_label or f"{options.host}:{options.port}"
        self.clock = clock
        self.backoff = backoff
        self._new_session = session_factory or self._network_session
        self.session: ChatSession | None = None
        self._first_nick = nick
        self._tab_ids: dict[str, str] = {}
        self._next_tab = 0
        self._users: dict[str, set[str]] = {}
        #: Labels of the ``users`` asked for the user list: their answers are not printed.
        self._quiet_users: set[str] = set()
        #: A big room's head count when its users answer listed only the first page.
        self._user_totals: dict[str, int | None] = {}
        self._switch_to: set[str] = set()
        #: The last room left, kept on screen (with its log) until another is joined.
        self._left_last: str | None = None
        # Read markers, unread counts and notifications (attention.py); who is typing
        # (typingline.py). ``later``, ``terminal`` and ``environ`` are fakes in tests.
        self._later: Later = later or self.set_timer
        self._terminal = terminal
        self.attention = Attention(
            lang=lang,
            later=self._later,
            can_read=self._can_read,
            mark=self._query,
            write=self._to_terminal,
            focused=lambda: self.app_focus,
            env=os.environ if environ is None else environ,
            notify=notify,
        )
        self._typing_out = TypingSender(self._query) if typing else None
        #: Labels of the ``rooms`` asked for the unread counts: their answers are not printed.
        self._quiet_rooms: set[str] = set()
        self._outage = False
        self._connected_once = False
        self._leave_anyway = False
        self._retry_at = 0.0
        #: The day of the last message shown in each room.
        self._days: dict[str, date] = {}
        #: Rooms with a page of older messages on its way / with nothing older left.
        self._older_asked: set[str] = set()
        self._older_done: set[str] = set()
        self.conversation = ConversationUI(self)
        #: Direct conversations as tabs (dmtabs.py), keyed beside the rooms.
        self.direct = DirectTabs(
            has_tab=self.has_room, add_tab=self.log_for, show=self._show_tab, query=self._query
        )
        #: Labels of the ``topic`` asked after a change, for the topic line: not printed.
        self._quiet_topics: set[str] = set()

    # --- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield RoomTabs(id="rooms")
        yield TopicLine(id="topic")
        with Horizontal(id="main"):
            yield ContentSwitcher(id="logs")
            yield UserList(lang=self.lang, id="users")
        yield Static("", id="unseen", markup=False)
        yield TypingLine(lang=self.lang, later=self._later, id="typing")
        yield StatusLine(lang=self.lang, id="status")
        yield ComposeBar(lang=self.lang, id="compose")
        yield ChatInput(
            nicks=self._completion_nicks,
            placeholder=tr(self.lang, "Type a message, or /help for the commands"),
            id="input",
        )

    def on_mount(self) -> None:
        status = self.query_one(StatusLine)
        status.server = self.server_label
        status.room = self.room
        self.query_one("#unseen").display = False
        self.set_interval(1.0, self._count_down)
        self.query_one(ChatInput).focus()
        if self.is_headless:
            # A blinking cursor would make screenshots differ from run to run.
            self.query_one(ChatInput).cursor_blink = False
        if self._first_nick:
            self._start(self._first_nick)
        else:
            self._ask_nick("")

    def _count_down(self) -> None:
        """Seconds to the next reconnect attempt, in the status line."""
        # The interval may tick once more while the app closes and its widgets are gone.
        for status in self.query(StatusLine).results(StatusLine):
            if status.state == "disconnected":
                status.retry_in = max(0.0, self._retry_at - time.monotonic())

    def _ask_nick(self, problem: str, secret: Secret | None = None) -> None:
        def chosen(login: Login | None) -> None:
            if login is None:
                return
            if secret == "password":
                self.password = login.secret
            elif secret == "server_password":
                self.server_password = login.secret
            self._start(login.nick)
            self.query_one(ChatInput).focus()

        screen = NickScreen(lang=self.lang, problem=problem, default=self.nick or "", secret=secret)
        self.push_screen(screen, chosen)

    def _start(self, nick: str) -> None:
        self.nick = nick
        self.session = self._new_session(nick, self._emit)
        self._run_session(self.session)

    def _network_session(self, nick: str, emit: Callable[[Event], None]) -> ChatSession:
        return Session(
            self.options,
            nick=nick,
            emit=emit,
            lang=self.lang,
            rooms=self.wanted_rooms,
            password=self.password,
            server_password=self.server_password,
            backoff=self.backoff,
        )

    def _emit(self, event: Event) -> None:
        self.post_message(NetEvent(event))

    @work(group="net", exclusive=True)
    async def _run_session(self, session: ChatSession) -> None:
        await session.run()

    # --- rooms and logs --------------------------------------------------------------

    def log_for(self, room: str) -> ChatLog:
        """The log of ``room``, with its tab, created on first use."""
        tab_id = self._tab_ids.get(room)
        if tab_id is None:
            self._next_tab += 1
            tab_id = self._tab_ids[room] = f"room-{self._next_tab}"
            # Content, not a str: a str label is markup, and the name came from the server.
            label = Content(self._tab_title(room))
            self.query_one(RoomTabs).add_tab(Tab(label, id=tab_id))
            log = ChatLog(room, limit=self.scrollback, id=f"log-{tab_id}")
            # The switcher hides only the children it starts with; later ones are
            # hidden here, or they would share the screen with the current one.
            log.display = False
            self.query_one(ContentSwitcher).mount(log)
            if len(self._tab_ids) == 1:
                # The first room is shown even when it is already ``self.room``
                # (setting a reactive to its own value runs no watcher).
                self.room = room
                self._show_room(room)
        return self.query_one(f"#log-{tab_id}", ChatLog)

    @property
    def current_log(self) -> ChatLog:
        return self.log_for(self.room)

    def has_room(self, room: str) -> bool:
        return room in self._tab_ids

    @property
    def chat_input(self) -> ChatInput:
        return self.query_one("#input", ChatInput)

    def show_thread(self, pane: ThreadPane) -> None:
        """Open a thread beside the room's log, its input focused."""
        self.query_one("#main").mount(pane, after="#logs")

    def watch_room(self, room: str) -> None:
        self._show_room(room)

    def _show_room(self, room: str) -> None:
        tab_id = self._tab_ids.get(room)
        if tab_id is None:
            return
        self.query_one(RoomTabs).active = tab_id
        self.query_one(ContentSwitcher).current = f"log-{tab_id}"
        status = self.query_one(StatusLine)
        status.room = room
        status.title = self.direct.title(room) if self.direct.is_direct(room) else ""
        self.query_one(TypingLine).room = room
        self.query_one(TopicLine).room = room
        self._label_tabs()
        self._show_users()
        self._show_unseen(self.log_for(room))
        self._view()

    def watch_nick(self, nick: str) -> None:
        self.query_one(StatusLine).nick = nick
        self.query_one(UserList).me = nick

    def watch_show_users(self, show: bool) -> None:
        self.query_one(UserList).display = show

    @on(Tabs.TabActivated, "#rooms")
    def _tab_clicked(self, event: Tabs.TabActivated) -> None:
        for room, tab_id in self._tab_ids.items():
            if event.tab is not None and tab_id == event.tab.id:
                self.room = room

    def _label_tab(self, room: str) -> None:
        tab_id = self._tab_ids.get(room)
        if tab_id is None:
            return
        # The room on screen shows no count: its lines are being read.
        counts = Counts() if room == self.room else self._tab_counts(room)
        label = Content(f"{self._tab_title(room)}{_counts_text(counts)}")
        self.query_one(RoomTabs).query_one(f"#{tab_id}", Tab).label = label

    def _tab_title(self, key: str) -> str:
        """``#room``, or ``→ nick`` for a direct conversation."""
        if self.direct.is_direct(key):
            return self.direct.title(key)
        return f"#{sanitize_line(key)}"

    def _tab_counts(self, key: str) -> Counts:
        if self.direct.is_direct(key):
            return self.attention.unread.counts(key)  # keyed alike (unread.dm_key)
        return self.attention.counts(key)

    def _shown_ids(self, nick: str) -> set[int]:
        """The messages the tab of the conversation with ``nick`` shows already."""
        key = dm_key(nick)
        if key not in self._tab_ids:
            return set()
        return {entry.id for entry in self.log_for(key).entries if entry.id is not None}

    def _show_tab(self, key: str) -> None:
        self.room = key

    def _label_tabs(self) -> None:
        for room in self._tab_ids:
            self._label_tab(room)

    def _remove_room(self, room: str) -> None:
        if list(self._tab_ids) == [room]:
            # Leaving the only room: an empty screen would explain nothing. Keep its log
            # and say what to do; the first room joined next replaces it.
            self._left_last = room
            self._users.pop(room, None)
            self._show_users()
            self.notice(
                tr(self.lang, "you left #{room}; /join a room to go on talking", room=room),
                room=room,
            )
            return
        tab_id = self._tab_ids.pop(room, None)
        if tab_id is None:
            return
        self.query_one(RoomTabs).remove_tab(tab_id)
        self.query_one(f"#log-{tab_id}", ChatLog).remove()
        self._users.pop(room, None)
        if room == self.room and self._tab_ids:
            self.room = next(iter(self._tab_ids))

    def _write(self, room: str, entry: Entry) -> None:
        self.log_for(room).add(entry)

    def notice(self, text: str, *, room: str | None = None, error: bool = False) -> None:
        self._write(room or self.room, notice_entry(text, self._hhmm(), error=error))

    def _hhmm(self) -> str:
        return self.clock().strftime("%H:%M")

    # --- users -----------------------------------------------------------------------

    def _show_users(self) -> None:
        users = self.query_one(UserList)
        users.room = self.room
        users.total = self._user_totals.get(self.room)
        peer = self.direct.peer(self.room)
        # A conversation's tab lists its two parties.
        shown = (self.nick, peer) if peer is not None else self._users.get(self.room, ())
        users.users = tuple(shown)

    def _set_users(self, room: str, users: set[str]) -> None:
        self._users[room] = users
        if room == self.room:
            self._show_users()

    def _completion_nicks(self) -> list[str]:
        here = sorted(self._users.get(self.room, ()), key=nick_key)
        others = sorted({u for us in self._users.values() for u in us} - set(here), key=nick_key)
        return [n for n in here + others if nick_key(n) != nick_key(self.nick)]

    # --- the "N new" marker ------------------------------------------------------------

    @on(ChatLog.UnseenChanged)
    def _unseen_changed(self, event: ChatLog.UnseenChanged) -> None:
        if event.log.room == self.room:
            self._show_unseen(event.log)
            self._view()

    def _show_unseen(self, log: ChatLog) -> None:
        marker = self.query_one("#unseen", Static)
        marker.display = log.unseen > 0
        if log.unseen:
            marker.update(
                tr(self.lang, "── {count} new below · Esc or Ctrl+End to jump ──", count=log.unseen)
            )

    # --- read markers and notifications (the logic is attention.py) -------------------

    def _can_read(self, room: str) -> bool:
        """Whether the newest lines of ``room`` are before the user's eyes: its log on
        screen, at the bottom, no other screen over it, the terminal focused."""
        if room != self.room or room not in self._tab_ids:
            return False
        if not self.app_focus or len(self.screen_stack) != 1:
            return False
        # A timer may fire while the app is closing: a log already gone is not on screen.
        log = next(self.query(f"#log-{self._tab_ids[room]}").results(ChatLog), None)
        return log is not None and log.following and not log.unseen

    def _view(self) -> None:
        if self._tab_ids:
            self.attention.view(self.room)

    def watch_app_focus(self) -> None:
        self._view()

    def _query(self, request: ClientFrame) -> None:
        if self.session is not None:
            self.session.query(request)

    def _ask_counts(self) -> None:
        """A ``rooms`` for the unread counts the server keeps (a joined room's history
        may be capped): one at a time, its answer not printed."""
        if self.session is not None and not self._quiet_rooms:
            label = self.session.query(ClientRooms())
            if label is not None:
                self._quiet_rooms.add(label)

    def _to_terminal(self, sequence: str) -> None:
        """Write an escape sequence to the terminal, as the bell is written."""
        if self._terminal is not None:
            self._terminal(sequence)
        elif not self.is_headless and self._driver is not None:
            self._driver.write(sequence)

    # --- typing ----------------------------------------------------------------------

    @on(ChatInput.Send)
    def _typed(self, event: ChatInput.Send) -> None:
        if self._typing_out is not None:
            self._typing_out.done()
        self.send_line(self.conversation.outgoing(event.text))

    @on(ChatInput.EditLast)
    def _edit_last(self) -> None:
        self.conversation.edit_last()

    @on(ChatInput.OpenEditor)
    def _open_editor(self, event: ChatInput.OpenEditor) -> None:
        self.conversation.compose_in_editor(event.text)

    @on(ChatLog.Picked)
    def _picked(self, event: ChatLog.Picked) -> None:
        self.conversation.pick(event.message_id)

    @on(ThreadPane.Reply)
    def _thread_reply(self, event: ThreadPane.Reply) -> None:
        self.conversation.reply_in_thread(event)

    @on(Input.Changed, "#input")
    def _editing(self, event: Input.Changed) -> None:
        if self._typing_out is not None and not self.direct.is_direct(self.room):
            self._typing_out.changed(event.value, self.room)

    def send_line(self, line: str) -> None:
        if self._closes_conversation(line):
            self.direct.closed(self.room)
            self._remove_room(self.room)
            return
        line = self.direct.outgoing(line, self.room)
        room = self._command_room()
        request = request_of(line, room)
        if isinstance(request, Quit):
            self.action_leave()
            return
        if isinstance(request, Search):
            self.open_search(request.query)
            return
        if line.strip().lower() in SEARCH_WORDS:  # no words yet: an empty pane
            self.open_search("")
            return
        if self.session is None:
            self.notice(
                tr(
                    self.lang,
                    "not sent ({reason}): {text}",
                    reason=tr(self.lang, "not connected"),
                    text=line,
                ),
                error=True,
            )
            self.query_one(ChatInput).remember(line.replace("\n", NEWLINE_MARK))
            return
        if isinstance(request, Join):
            with contextlib.suppress(ProtocolError):
                self._switch_to.add(normalize_room(request.room))
        if isinstance(request, Msg):
            self.direct.open(request.to, show=True)
        self.session.say(line, room)
        # Whoever writes wants to see the answer: back to the newest lines.
        self.current_log.jump_to_end()
        self._update_pending()

    def _closes_conversation(self, line: str) -> bool:
        """``/part`` without a room, typed in a conversation's tab: it closes the tab."""
        if not self.direct.is_direct(self.room):
            return False
        request = request_of(line, self.room)
        return isinstance(request, Part) and request.room == self.room

    def _command_room(self) -> str:
        """The room a line acts on: the one on screen, or from a conversation's tab the
        first room's (its lines to the other party were made ``/msg`` already)."""
        if not self.direct.is_direct(self.room):
            return self.room
        rooms = [key for key in self._tab_ids if not self.direct.is_direct(key)]
        return rooms[0] if rooms else DEFAULT_ROOM

    def _update_pending(self) -> None:
        self.query_one(StatusLine).pending = self.session.pending if self.session else 0

    # --- actions ---------------------------------------------------------------------

    async def action_quit(self) -> None:
        self.action_leave()

    def action_leave(self) -> None:
        """Leave once the server confirmed every line sent. Offline with lines still
        waiting, the first request only warns: they would be lost."""
        if self.session is None:
            self.exit(0)
            return
        waiting = self.session.pending
        if waiting and not self.session.connected and not self._leave_anyway:
            self._leave_anyway = True
            self.notice(
                tr(
                    self.lang,
                    "lines not sent yet: {count}; Ctrl+Q or /salir again to leave anyway",
                    count=waiting,
                ),
                error=True,
            )
            return
        self.session.quit()

    def action_toggle_users(self) -> None:
        self.show_users = not self.show_users

    def action_next_room(self, step: int) -> None:
        rooms = list(self._tab_ids)
        if rooms and self.room in rooms:
            self.room = rooms[(rooms.index(self.room) + step) % len(rooms)]

    def action_page(self, direction: int) -> None:
        log = self.current_log
        if direction < 0 and log.scroll_y <= 0:
            self._load_older(log)
        log.scroll_to(
            y=log.scroll_y + direction * max(1, log.scrollable_content_region.height - 1),
            animate=False,
        )

    def _load_older(self, log: ChatLog) -> None:
        """PgUp at the top of the log: fetch the page before it from the server."""
        oldest = log.oldest_id
        if self.session is None or oldest is None or log.room in self._older_asked:
            return
        if log.room in self._older_done:
            return
        self._older_asked.add(log.room)
        if self.direct.is_direct(log.room):
            self.direct.older(log.room, oldest)
        else:
            self.session.older(log.room, oldest)

    def action_jump_to_end(self) -> None:
        self.current_log.jump_to_end()

    # --- search (the pane is searchpane.py) -------------------------------------------

    def action_search(self) -> None:
        self.open_search("")

    def open_search(self, query: str) -> None:
        def ask(text: str) -> None:
            if self.session is not None:
                self.session.query(Search(query=text))

        pane = SearchPane(lang=self.lang, ask=ask, query=query)
        self.push_screen(pane, self._jump_to_result)

    def _jump_to_result(self, message: Message | None) -> None:
        """Show the chosen result in its room, with the messages around it."""
        if message is None or self.session is None:
            return
        if message.room is None:
            peer = peer_of(message, self.nick)
            self.direct.open(peer, show=True, history=False)
            self.session.query(ClientHistory(with_=peer, around=message.id, limit=11))
            return
        if message.room not in self._tab_ids:
            self.notice(tr(self.lang, "join #{room} to see it in context", room=message.room))
            return
        self.room = message.room
        self.session.query(ClientHistory(room=message.room, around=message.id, limit=11))

    def _for_search(self, frame: ServerFrame) -> bool:
        """Frames that belong to the search pane or to a jump; True when taken."""
        pane = self.screen if isinstance(self.screen, SearchPane) else None
        if isinstance(frame, Results):
            if pane is not None:
                pane.show_results(frame)
            return True
        if isinstance(frame, Error) and frame.code == Code.BAD_QUERY and pane is not None:
            pane.show_error(frame)
            return True
        if isinstance(frame, History) and frame.around is not None:
            if frame.with_ is not None:
                frame = self.direct.as_tab(frame, known=set())
            log = self.log_for(frame.room)
            for entry in context_entries(frame, me=self.nick, lang=self.lang, hhmm=self._hhmm()):
                log.add(entry)
            log.jump_to_end()
            return True
        return False

    def action_escape(self) -> None:
        if not self.conversation.cancel():
            self.action_jump_to_end()

    def action_select(self, step: int) -> None:
        self.conversation.select(step)

    def action_act(self, verb: str) -> None:
        self.conversation.act(verb)

    def action_keys(self) -> None:
        self.notice(tr(self.lang, KEYS_HELP))
        self.notice(tr(self.lang, CONVERSATION_KEYS))

    # --- the network -----------------------------------------------------------------

    def on_net_event(self, message: NetEvent) -> None:
        if not self.is_running:
            return  # the app is closing: nothing left to show it on
        self.handle_event(message.event)
        self._update_pending()

    def handle_event(self, event: Event) -> None:
        status = self.query_one(StatusLine)
        if isinstance(event, Connecting):
            if not self._outage:
                status.state = "connecting"
        elif isinstance(event, Connected):
            self._connected(event)
        elif isinstance(event, Disconnected):
            status.state = "disconnected"
            status.retry_in = event.retry_in
            self._retry_at = time.monotonic() + event.retry_in
            if not self._outage:
                self._outage = True
                if self._connected_once:
                    self.notice(
                        tr(
                            self.lang,
                            "connection lost ({reason}); retrying",
                            reason=tr(self.lang, event.reason),
                        ),
                        error=True,
                    )
                else:
                    self.notice(
                        tr(
                            self.lang,
                            "cannot connect to {host}:{port}: {error}",
                            host=self.options.host,
                            port=self.options.port,
                            error=event.reason,
                        ),
                        error=True,
                    )
        elif isinstance(event, Incoming):
            self.show_frame(event.frame)
        elif isinstance(event, Unsent):
            self._unsent(event)
        elif isinstance(event, Ended):
            self._ended(event)

    def _connected(self, event: Connected) -> None:
        status = self.query_one(StatusLine)
        status.state = "connected"
        self.nick = event.welcome.nick
        self._outage = False
        # Answers still awaited on the old connection will not come.
        self._quiet_users.clear()
        self._quiet_rooms.clear()
        self._older_asked.clear()
        self._quiet_topics.clear()
        self.direct.registered = event.welcome.sessions is not None
        if event.resumed:
            self.notice(tr(self.lang, "reconnected"))
        else:
            self._connected_once = True
            self.notice(
                tr(self.lang, "connected as {nick}; /help lists the commands", nick=self.nick)
            )
            if event.welcome.motd:
                self.notice(event.welcome.motd)

    def _unsent(self, event: Unsent) -> None:
        reasons = {
            "queue_full": tr(self.lang, "too many lines waiting for the connection"),
            "connection_lost": tr(self.lang, "the connection dropped before it was confirmed"),
            "unavailable": tr(self.lang, "the server could not store it"),
            "ended": tr(self.lang, "not connected"),
        }
        reason = reasons.get(event.reason, event.reason)
        self.notice(
            tr(self.lang, "not sent ({reason}): {text}", reason=reason, text=event.text),
            error=True,
        )
        # Up brings it back, to send it again.
        self.query_one(ChatInput).remember(event.text.replace("\n", NEWLINE_MARK))

    def _ended(self, event: Ended) -> None:
        if event.ok:
            self.exit(0)
            return
        self.query_one(StatusLine).state = "ended"
        self.session = None
        if event.code in _NICK_PROBLEMS:
            wanted = secret_wanted(event.code, password_sent=self.password is not None)
            self._ask_nick(event.reason, wanted)
        else:
            self.notice(event.reason, error=True)

    def show_frame(self, frame: ServerFrame) -> None:
        if self._for_search(frame):
            return
        if isinstance(frame, Change):
            self.conversation.apply(frame)
        elif isinstance(frame, History) and frame.thread is not None:
            self.conversation.thread_page(frame)
        elif isinstance(frame, History) and frame.with_ is not None:
            self._history(self.direct.as_tab(frame, self._shown_ids(frame.with_)))
        elif isinstance(frame, History):
            self._history(frame)
        elif isinstance(frame, Message):
            self._message(frame)
        elif isinstance(frame, Joined):
            self.attention.joined(frame.room, frame.read)
            self._joined(frame.room)
            if frame.read is not None:
                self._ask_counts()
            self.query_one(TopicLine).set_topic(frame.room, frame.topic)
            if frame.topic:
                self.notice(topic_text(frame.room, frame.topic, self.lang), room=frame.room)
        elif isinstance(frame, Parted):
            self._remove_room(frame.room)
        elif isinstance(frame, Users):
            self._users_frame(frame)
        elif isinstance(frame, System):
            self._system(frame)
        elif isinstance(frame, Read):
            if self.attention.read(frame):
                self._label_tabs()
        elif isinstance(frame, Typing):
            self.query_one(TypingLine).typing(frame)
        elif isinstance(frame, Rooms):
            self.attention.counted(frame)
            self._label_tabs()
            if frame.label in self._quiet_rooms:
                self._quiet_rooms.discard(frame.label)
                return
            listing = ", ".join(
                f"#{r.name} ({r.users}{'*' if r.joined else ''})" for r in frame.rooms
            )
            self.notice(tr(self.lang, "rooms: {rooms}", rooms=listing or "-"))
        elif isinstance(frame, Dms | Bans | Modlog | RoomMode):
            self.notice(listing_text(frame, self.lang))
        elif isinstance(frame, Error):
            self.notice(frame.message, error=True)

    def _day_rule(self, room: str, ts: str) -> None:
        """A dated rule before the first message of a new day (and before the first
        message of a room when it is not from today)."""
        day = local_date(ts)
        if day is None:
            return
        previous = self._days.get(room, self.clock().astimezone().date())
        self._days[room] = day
        if day != previous:
            self._write(room, day_entry(day.isoformat()))

    def _history(self, frame: History) -> None:
        if frame.before is not None:
            entries = [self.conversation.entry(message) for message in frame.messages]
            # Older messages (scrolled back past the start, or filling the gap of a
            # long absence): into their place.
            asked = frame.room in self._older_asked
            self._older_asked.discard(frame.room)
            if asked and not frame.messages:
                self._older_done.add(frame.room)
                # A toast: a line in the log would land at its bottom, far from here.
                self.notify(
                    tr(self.lang, "start of the history of #{room}", room=frame.room),
                    timeout=3,
                )
            self.log_for(frame.room).insert_older(entries)
            return
        for message in frame.messages:
            self._day_rule(frame.room, message.ts)
            # One at a time: a reply updates the count of its thread's first message.
            self._write(frame.room, self.conversation.entry(message))
        self.attention.history(frame.messages, me=self.nick, log=frame.room)
        self._label_tab(frame.room)
        self._view()

    def _message(self, message: Message) -> None:
        entry = self.conversation.entry(message)
        room = message.room
        if room is None:
            room = self.direct.arrived(message, self.nick)
        self._day_rule(room, message.ts)
        self._write(room, entry)
        if entry.mention and self.ring:
            self.bell()
        self.query_one(TypingLine).said(message)
        self.attention.message(message, me=self.nick, log=room, mention=entry.mention)
        self._label_tab(room)
        self._view()

    def _joined(self, room: str) -> None:
        left, self._left_last = self._left_last, None
        self.log_for(room)
        if left is not None and left != room:
            self._switch_to.add(room)
            self._remove_room(left)
        if room in self._switch_to:
            self._switch_to.discard(room)
            self.room = room
            self.notice(tr(self.lang, "you are now in #{room}", room=room), room=room)
        # Ask who is there for the user list; the labelled answer is not printed.
        if self.session is not None:
            label = self.session.query(ClientUsers(room=room))
            if label is not None:
                self._quiet_users.add(label)

    def _users_frame(self, frame: Users) -> None:
        self.query_one(UserList).roles[frame.room] = frame.roles or {}
        self._user_totals[frame.room] = frame.total
        self._set_users(frame.room, set(frame.users))
        if frame.label in self._quiet_users:
            self._quiet_users.discard(frame.label)
            return
        names = ", ".join(frame.users) or "-"
        self.notice(tr(self.lang, "users in #{room}: {users}", room=frame.room, users=names))

    def _topic(self, frame: System) -> bool:
        """Keep the topic line in step; True when the frame was only for it."""
        if frame.room is None:
            return False
        if is_topic_answer(frame):
            self.query_one(TopicLine).set_topic(frame.room, frame.text)
            if frame.label in self._quiet_topics:
                self._quiet_topics.discard(frame.label)
                return True
        elif is_topic_change(frame) and self.session is not None:
            # Its text is a sentence about the topic: ask for the topic itself.
            label = self.session.query(Topic(room=frame.room))
            if label is not None:
                self._quiet_topics.add(label)
        return False

    def _system(self, frame: System) -> None:
        if self._topic(frame):
            return
        room = frame.room if frame.room in self._tab_ids else self.room
        users = self._users.setdefault(room, set())
        if frame.event == "join" and frame.user:
            users.add(frame.user)
        elif frame.event == "leave" and frame.user:
            users.discard(frame.user)
        elif frame.event == "nick" and frame.user and frame.new:
            users.discard(frame.user)
            users.add(frame.new)
            if nick_key(frame.user) == nick_key(self.nick):
                self.nick = frame.new
        self._set_users(room, users)
        self.notice(frame.text or frame.event, room=room)


def _counts_text(counts: Counts) -> str:
    """`` (3)``, or `` (2@)`` when some of them name the user; nothing when all is read."""
    if counts.mentions:
        return f" ({counts.mentions}@)"
    return f" ({counts.unread})" if counts.unread else ""


KEYS_HELP = """Keys:
Enter send · Up/Down earlier lines · Tab complete a nick or command
Ctrl+N / Ctrl+P (or Alt+→ / Alt+←) next / previous room, or click its tab
PgUp / PgDn scroll · Esc or Ctrl+End back to the newest
F2 show or hide the users · Ctrl+F search · /salir or Ctrl+Q quit"""

CONVERSATION_KEYS = """Alt+↑ / Alt+↓ pick a message, then: Alt+R reply · Alt+A react
Alt+E edit · Alt+D delete (your own) · Alt+T its thread · Alt+C copy it
↑ on an empty line edits your last message · Ctrl+E writes the line in $EDITOR
Esc cancels, closes the thread, then goes back to the newest"""
