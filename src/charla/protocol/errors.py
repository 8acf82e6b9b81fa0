"""Error codes of the wire protocol and the exception that carries them.

Codes are stable strings: clients switch on them, so a code is never renamed or reused.
The human-readable ``message`` next to a code may change freely.
"""

from __future__ import annotations

from enum import StrEnum

from ..i18n import N_

__all__ = ["BadUsage", "Code", "ProtocolError"]


class Code(StrEnum):
    """Every ``code`` an ``error`` frame can carry (docs/protocol.md lists them)."""

    BAD_JSON = "bad_json"
    BAD_UTF8 = "bad_utf8"
    BAD_FRAME = "bad_frame"
    UNKNOWN_TYPE = "unknown_type"
    NOT_WELCOMED = "not_welcomed"
    ALREADY_WELCOMED = "already_welcomed"
    NICK_INVALID = "nick_invalid"
    NICK_TAKEN = "nick_taken"
    TEXT_EMPTY = "text_empty"
    TEXT_TOO_LONG = "text_too_long"
    LINE_TOO_LONG = "line_too_long"
    UNKNOWN_COMMAND = "unknown_command"
    BAD_ARGUMENTS = "bad_arguments"
    ROOM_INVALID = "room_invalid"
    NOT_IN_ROOM = "not_in_room"
    NO_SUCH_USER = "no_such_user"
    LIMIT_INVALID = "limit_invalid"
    NOT_WATCHING = "not_watching"
    TOO_MANY_ROOMS = "too_many_rooms"
    NO_SUCH_MESSAGE = "no_such_message"
    TOO_MANY_REACTIONS = "too_many_reactions"
    # Limits and access.
    FLOOD = "flood"
    SLOW_CONSUMER = "slow_consumer"
    HANDSHAKE_TIMEOUT = "handshake_timeout"
    PING_TIMEOUT = "ping_timeout"
    TOO_MANY_CONNECTIONS = "too_many_connections"
    SERVER_FULL = "server_full"
    BAD_PASSWORD = "bad_password"
    NICK_REGISTERED = "nick_registered"
    NOT_REGISTERED = "not_registered"
    PASSWORD_TOO_SHORT = "password_too_short"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"
    # Search.
    BAD_QUERY = "bad_query"
    # Moderation (docs/moderation.md).
    NOT_ALLOWED = "not_allowed"
    BANNED = "banned"
    MUTED = "muted"
    SLOW_MODE = "slow_mode"
    INVITE_ONLY = "invite_only"
    KILLED = "killed"
    # Sessions (several connections of one registered nick).
    TOO_MANY_SESSIONS = "too_many_sessions"


class ProtocolError(Exception):
    """The peer sent something the protocol does not allow.

    Raised by the pure functions of :mod:`charla.protocol`; the server turns it into an
    ``error`` frame and, when ``fatal`` is set, closes the connection after sending it.

    ``message`` is English, a template with ``{name}`` fields filled from ``values``:
    ``ProtocolError(Code.NO_SUCH_USER, "nobody called {who} is here", who="'ana'")``.
    The template is also the message id of its translations, so the server can send the
    refusal in the member's language (``template`` and ``values``); ``message`` and
    ``str(exc)`` are the English text, for logs.
    """

    def __init__(
        self,
        code: Code,
        message: str,
        /,
        *,
        fatal: bool = False,
        retry_after: float | None = None,
        **values: object,
    ) -> None:
        self.code = code
        self.template = message
        self.values = values
        self.message = message.format(**values) if values else message
        super().__init__(self.message)
        self.fatal = fatal
        #: Seconds until the refusal ends (the error frame's ``retry_after``).
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"ProtocolError({self.code.value!r}, {self.message!r}, fatal={self.fatal})"


class BadUsage(Exception):
    """The arguments typed after a ``/command`` do not fit it. The parsers of the request
    table raise it; :func:`charla.protocol.parse_command`, which knows the command word
    and its usage, turns it into ``bad_arguments`` saying the usage."""

    def __init__(self, template: str = N_("usage: /{command} {arguments}")) -> None:
        super().__init__(template)
        #: The message id of the refusal, with fields ``command`` and ``arguments``.
        self.template = template
