"""What a typed line asks for, read from the one request table.

Front-ends decide what a line does to them (``/salir`` ends the session, ``/unirse``
moves typing to another room) from the typed request it stands for, so no client keeps
its own list of command names.
"""

from __future__ import annotations

from ..protocol import ClientFrame, ProtocolError, Say, parse_command

__all__ = ["request_of"]


def request_of(text: str, room: str | None = None) -> ClientFrame:
    """The request ``text`` typed in ``room`` stands for: a ``say``, or the typed frame of
    its ``/command``. A command the table cannot parse stays a ``say``: the server answers
    it (``unknown_command``, the usage) in the user's language."""
    say = Say(text=text, room=room)
    try:
        return parse_command(say)
    except ProtocolError:
        return say
