"""User modes: ``+i``, which every charla user already is, and IRCv3 bot mode, ``+B``.

``MODE nick +B`` is charla's ``bot`` request: the session is a program, and the messages
it sends from then on carry ``bot`` (stored with them: native clients see ``bot: true``,
IRC clients with ``message-tags`` a ``bot`` tag). ``-B`` takes it back. Others see the
mode as ``B`` in ``WHO`` flags and as ``335`` in ``WHOIS`` (:data:`BOT_MODE`,
advertised as ``BOT=B``). It is the session's, not the nick's: it ends with the
connection, and a person's other sessions of a registered nick stay the person's.
"""

from __future__ import annotations

from ..protocol import Bot, System
from . import numerics as n
from .messages import IrcMessage
from .session import IrcSession, Pending

__all__ = ["BOT_MODE", "USER_MODES", "render_bot", "user_mode"]

#: The user mode letter of a bot (ISUPPORT ``BOT``).
BOT_MODE = "B"
#: Every user mode a client may set (``004``): ``i`` is accepted and changes nothing.
USER_MODES = "i" + BOT_MODE


def user_mode(session: IrcSession, changes: str, pending: Pending) -> None:
    """``MODE <own nick> [changes]``: show the modes, or set or clear ``B``."""
    if not changes:
        session.reply(n.RPL_UMODEIS, "+" + BOT_MODE * session.bot, pending=pending)
        return
    bot, on, unknown = session.bot, True, False
    for letter in changes[:16]:
        if letter in "+-":
            on = letter == "+"
        elif letter == BOT_MODE:
            bot = on
        else:
            unknown |= letter != "i"
    if unknown:
        session.reply(n.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag", pending=pending)
    if bot != session.bot:  # a change to nothing is not told, as on other servers
        session.request(Bot(on=bot), pending)


def render_bot(session: IrcSession, frame: System, pending: Pending | None) -> bool:
    """charla's answer to ``bot``: our own ``MODE`` line; False for any other event."""
    if frame.event not in ("bot", "unbot") or frame.room is not None:
        return False
    session.bot = frame.event == "bot"
    change = ("+" if session.bot else "-") + BOT_MODE
    session.emit(IrcMessage("MODE", [session.nick, change], session.source), pending)
    return True
