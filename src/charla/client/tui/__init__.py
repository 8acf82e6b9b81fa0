"""The full-screen client (``charla join`` on a terminal)."""

from __future__ import annotations

from ..connection import Access, ConnectOptions
from .app import ChatApp
from .chatlog import DEFAULT_SCROLLBACK

__all__ = ["ChatApp", "run_app"]


def run_app(
    options: ConnectOptions,
    *,
    nick: str | None,
    lang: str,
    rooms: list[str],
    bell: bool = True,
    notify: bool = True,
    typing: bool = False,
    access: Access | None = None,
    scrollback: int = DEFAULT_SCROLLBACK,
) -> int:
    """Run the app until the user leaves; the exit status (0 after ``/salir``)."""
    app = ChatApp(
        options,
        nick=nick,
        lang=lang,
        rooms=rooms,
        bell=bell,
        notify=notify,
        typing=typing,
        password=access.password if access else None,
        server_password=access.server_password if access else None,
        scrollback=scrollback,
    )
    result = app.run()
    return result if isinstance(result, int) else (app.return_code or 0)
