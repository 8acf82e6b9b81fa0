"""Bytes <-> frames: newline framing with a hard size limit, and JSON (de)serialisation.

Nothing here touches a socket. The server feeds whatever the transport gave it to a
:class:`LineSplitter`, decodes each complete line with :func:`decode_client_frame`, and
writes the bytes of :func:`encode`. The client does the mirror image, and the tests pass
bytes straight between the two.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .errors import Code, ProtocolError
from .frames import ClientFrame, ServerFrame

__all__ = [
    "DEFAULT_MAX_LINE",
    "LineSplitter",
    "decode_client_frame",
    "decode_server_frame",
    "encode",
]

#: Largest frame accepted, in bytes, newline excluded (``--max-line``).
DEFAULT_MAX_LINE = 64 * 1024

_encoder = msgspec.json.Encoder()
_client_decoder: msgspec.json.Decoder[ClientFrame] = msgspec.json.Decoder(ClientFrame)
_server_decoder: msgspec.json.Decoder[ServerFrame] = msgspec.json.Decoder(ServerFrame)
# msgspec decodes nested arrays and objects recursively: a line of ten thousand "[" ends
# in RecursionError, which is the peer's fault like any other malformed line.
_DECODE_ERRORS = (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError, RecursionError)
_CLIENT_TYPES = frozenset(t.__struct_config__.tag for t in ClientFrame.__args__)
_SERVER_TYPES = frozenset(t.__struct_config__.tag for t in ServerFrame.__args__)


class LineSplitter:
    """Cuts a byte stream into lines without ever holding more than ``max_line`` bytes
    of an unfinished one.

    ``feed`` returns the complete lines (without ``\\n``, a trailing ``\\r`` dropped, blank
    lines skipped) and raises :class:`ProtocolError` ``line_too_long`` (fatal) as soon as a
    line is known to be too long: the rest of that line is never buffered.
    """

    __slots__ = ("_held", "_pieces", "max_line")

    def __init__(self, max_line: int = DEFAULT_MAX_LINE) -> None:
        self.max_line = max_line
        # The unfinished line, as the pieces it arrived in: joined once, when its newline
        # comes. Gluing each piece onto the previous ones would copy the line again for
        # every read, quadratic for a peer that sends a byte at a time.
        self._pieces: list[bytes] = []
        self._held = 0

    def feed(self, data: bytes) -> list[bytes]:
        lines: list[bytes] = []
        if self._pieces:
            end = data.find(b"\n")
            if end < 0:
                self._hold(data)
                return []
            self._check(self._held + end)
            self._pieces.append(data[:end])
            lines.append(b"".join(self._pieces))
            self._pieces.clear()
            self._held = 0
            data = data[end + 1 :]
        *complete, rest = data.split(b"\n")
        for line in complete:
            self._check(len(line))
        lines += complete
        if rest:
            self._hold(rest)
        return [line.removesuffix(b"\r") for line in lines if line and line != b"\r"]

    def _hold(self, piece: bytes) -> None:
        self._check(self._held + len(piece))
        self._pieces.append(piece)
        self._held += len(piece)

    def _check(self, length: int) -> None:
        if length > self.max_line:
            self._pieces.clear()
            self._held = 0
            raise _line_too_long(self.max_line)

    @property
    def buffered(self) -> int:
        """Bytes of an unfinished line held right now."""
        return self._held


def _line_too_long(limit: int) -> ProtocolError:
    return ProtocolError(
        Code.LINE_TOO_LONG, "a frame may hold at most {most} bytes", fatal=True, most=limit
    )


def encode(frame: msgspec.Struct) -> bytes:
    """One frame as the bytes of one line, newline included."""
    return _encoder.encode(frame) + b"\n"


def decode_client_frame(line: bytes) -> ClientFrame:
    """Decode one line a client sent, or raise :class:`ProtocolError` saying why not."""
    try:
        return _client_decoder.decode(line)
    except _DECODE_ERRORS as exc:
        raise _explain(line, exc, _CLIENT_TYPES) from None


def decode_server_frame(line: bytes) -> ServerFrame:
    """Decode one line a server sent. Raises :class:`ProtocolError`; a client should skip
    frames of ``unknown_type`` (a newer server) rather than give up."""
    try:
        return _server_decoder.decode(line)
    except _DECODE_ERRORS as exc:
        raise _explain(line, exc, _SERVER_TYPES) from None


def _explain(line: bytes, exc: Exception, known: frozenset[str]) -> ProtocolError:
    """Turn a decoder failure into the most precise protocol error.

    Only runs on the error path, so it may decode the line a second time.
    """
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return ProtocolError(Code.BAD_UTF8, "a frame must be valid UTF-8")
    too_deep = ProtocolError(Code.BAD_FRAME, "a frame is nested too deeply")
    if isinstance(exc, RecursionError):
        return too_deep  # decoding it again would only fail the same way
    try:
        raw: Any = msgspec.json.decode(line)
    except RecursionError:
        # The typed decoder may stop at a bad "type" before it reaches the nesting.
        return too_deep
    except (msgspec.DecodeError, UnicodeDecodeError):
        return ProtocolError(Code.BAD_JSON, "a frame must be one JSON object per line")
    if not isinstance(raw, dict):
        return ProtocolError(Code.BAD_FRAME, "a frame must be a JSON object")
    kind = raw.get("type")
    if not isinstance(kind, str):
        return ProtocolError(Code.BAD_FRAME, 'a frame needs a "type" string')
    if kind not in known:
        return ProtocolError(Code.UNKNOWN_TYPE, "unknown frame type {type}", type=repr(kind[:40]))
    return ProtocolError(Code.BAD_FRAME, "bad {type} frame: {why}", type=repr(kind), why=exc)
