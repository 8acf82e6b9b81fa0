"""The users of the current room, beside the log (toggled with F2)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from ...i18n import tr
from ...protocol import nick_key
from .moderation import role_mark
from .render import nick_text

__all__ = ["UserList"]


class UserList(Widget, can_focus=False):
    DEFAULT_CSS = """
    UserList {
        width: 20;
        height: 1fr;
        border-left: vkey $panel-lighten-2;
        padding: 0 1;
    }
    """

    users: reactive[tuple[str, ...]] = reactive((), always_update=True)
    #: How many users a big room has, when ``users`` is only its first page.
    total: reactive[int | None] = reactive(None)

    def __init__(self, *, lang: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lang = lang
        self.me = ""
        #: The room shown, and the roles of each room's users (from ``users`` answers).
        self.room = ""
        self.roles: dict[str, dict[str, str]] = {}

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        count = max(self.total or 0, len(self.users))
        text.append(tr(self.lang, "users ({count})", count=count) + "\n", style="bold")
        roles = self.roles.get(self.room, {})
        for user in sorted(self.users, key=nick_key):
            text.append(role_mark(roles.get(user)), style="bold")
            text.append_text(nick_text(user, bold=nick_key(user) == nick_key(self.me)))
            text.append("\n")
        if count > len(self.users):
            text.append(tr(self.lang, "… and {more} more", more=count - len(self.users)), "dim")
        return text
