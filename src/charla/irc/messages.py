"""IRC lines as values: parse and serialize, with IRCv3 message tags, bounded.

A line is ``[@tags] [:source] COMMAND params... [:trailing]``. The part after the tags
may hold at most :data:`MAX_BODY` bytes with its CRLF (RFC 1459's 512), the tags at most
:data:`MAX_TAGS` (IRCv3 message-tags): :class:`IrcLineSplitter` cuts a stream into lines
within that bound and reports the ones over it instead of buffering without end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "MAX_BODY",
    "MAX_CLIENT_TAGS",
    "MAX_LINE",
    "MAX_TAGS",
    "IrcLineSplitter",
    "IrcMessage",
    "IrcParseError",
    "NotUtf8",
    "TooLong",
    "client_tags_too_long",
    "parse",
    "serialize",
]

#: Bytes of a line after its tags, CRLF included.
MAX_BODY = 512
#: Bytes of the tags, the ``@`` and the space after them included.
MAX_TAGS = 8191
#: Bytes of the tags a client may send, without the ``@`` and the space (IRCv3
#: message-tags: the rest of :data:`MAX_TAGS` is the server's to add).
MAX_CLIENT_TAGS = 4094
#: The longest line the splitter takes.
MAX_LINE = MAX_BODY + MAX_TAGS

_TAG_UNESCAPE = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
_TAG_ESCAPE = str.maketrans({";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"})


class IrcParseError(ValueError):
    """A line that is not an IRC message."""


@dataclass(frozen=True, slots=True)
class TooLong:
    """A line over :data:`MAX_LINE` was dropped (the client is told with 417)."""


@dataclass(frozen=True, slots=True)
class NotUtf8:
    """A line that is not UTF-8 (charla advertises ``UTF8ONLY``): refused with
    ``FAIL <command> INVALID_UTF8``, never relayed. ``text`` is it with the bad bytes
    replaced, to read its command."""

    text: str


@dataclass(slots=True)
class IrcMessage:
    command: str
    params: list[str] = field(default_factory=list)
    source: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def param(self, index: int, default: str = "") -> str:
        return self.params[index] if index < len(self.params) else default


def _unescape_tag(value: str) -> str:
    out: list[str] = []
    chars = iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append(_TAG_UNESCAPE.get(nxt, nxt))
        else:
            out.append(ch)
    return "".join(out)


def _parse_tags(raw: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in raw.split(";"):
        if not item:
            continue
        key, _, value = item.partition("=")
        tags[key] = _unescape_tag(value)
    return tags


def client_tags_too_long(line: str) -> bool:
    """Whether a client's line carries more tag data than :data:`MAX_CLIENT_TAGS`."""
    if not line.startswith("@"):
        return False
    tags, _, _ = line[1:].partition(" ")
    return len(tags.encode()) > MAX_CLIENT_TAGS


def parse(line: str) -> IrcMessage:
    """One line (without CRLF) as a message; raises :class:`IrcParseError`."""
    rest = line
    tags: dict[str, str] = {}
    if rest.startswith("@"):
        raw, _, rest = rest[1:].partition(" ")
        tags = _parse_tags(raw)
        rest = rest.lstrip(" ")
    source = None
    if rest.startswith(":"):
        source, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
    head, sep, trailing = rest.partition(" :")
    if rest.startswith(":"):  # no middle parameters at all
        head, sep, trailing = "", " :", rest[1:]
    words = head.split()
    if not words:
        raise IrcParseError("no command")
    command, *params = words
    if sep:
        params.append(trailing)
    return IrcMessage(command.upper(), params, source, tags)


def serialize(message: IrcMessage) -> bytes:
    """The message as one CRLF-terminated line; the body is cut to :data:`MAX_BODY`."""
    parts: list[str] = []
    if message.source:
        parts.append(":" + message.source)
    parts.append(message.command)
    params = message.params
    for i, param in enumerate(params):
        last = i == len(params) - 1
        if last and (not param or " " in param or param.startswith(":")):
            parts.append(":" + param)
        else:
            parts.append(param)
    # charla text may hold line feeds (an away message, a kick reason): a parameter
    # must never end the line early, or its author writes the next one.
    body = _cut(" ".join(parts).encode().translate(_NO_LINE_BREAKS), MAX_BODY - 2)
    if not message.tags:
        return body + b"\r\n"
    tags = ";".join(f"{k}={v.translate(_TAG_ESCAPE)}" if v else k for k, v in message.tags.items())
    return b"@" + _cut(tags.encode(), MAX_TAGS - 2) + b" " + body + b"\r\n"


#: CR, LF and NUL, each a space: what may not appear inside an IRC line.
_NO_LINE_BREAKS = bytes.maketrans(b"\r\n\x00", b"   ")


def _cut(data: bytes, limit: int) -> bytes:
    """``data`` in at most ``limit`` bytes, never splitting a UTF-8 character."""
    if len(data) <= limit:
        return data
    return data[:limit].decode(errors="ignore").encode()


class IrcLineSplitter:
    """Bytes in, lines out: CRLF or LF ends a line; a NUL-free, UTF-8 decoded ``str``,
    :class:`NotUtf8` for one that is not UTF-8, or :class:`TooLong` for a line over
    :data:`MAX_LINE`."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._max = max_line
        self._buffer = bytearray()
        self._skipping = False

    def feed(self, data: bytes) -> list[str | NotUtf8 | TooLong]:
        out: list[str | NotUtf8 | TooLong] = []
        buffer = self._buffer
        buffer += data
        start = 0
        while True:
            end = buffer.find(b"\n", start)
            if end < 0:
                break
            if self._skipping:
                self._skipping = False
            elif end - start > self._max:
                out.append(TooLong())
            else:
                line = bytes(buffer[start:end]).rstrip(b"\r").replace(b"\0", b"")
                if line.strip():
                    out.append(_decoded(line))
            start = end + 1
        del buffer[:start]
        if len(buffer) > self._max:  # no end in sight: drop it, and the rest of the line
            buffer.clear()
            if not self._skipping:
                out.append(TooLong())
            self._skipping = True
        return out


def _decoded(line: bytes) -> str | NotUtf8:
    try:
        return line.decode()
    except UnicodeDecodeError:
        return NotUtf8(line.decode(errors="replace"))
