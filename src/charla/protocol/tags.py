"""Client-only tags: ``+name`` -> value pairs a client puts on a message or relays alone.

charla carries them without knowing them (IRCv3 message-tags: a server passes client-only
tags on to the recipients that asked for tags). Their names are IRCv3 tag names with the
client prefix, ``+`` [vendor ``/``] name, letters, digits and ``-`` (a vendor is a host
name); their values are text without control characters. All of them, as IRC writes them
(``+a=1;+b=2``, with ``;``, space and ``\\`` escaped), fit in :data:`MAX_TAGS_BYTES`.
"""

from __future__ import annotations

import re

from .errors import Code, ProtocolError

__all__ = ["MAX_TAGS_BYTES", "check_tags", "is_client_tag"]

#: Bytes the client-only tags of one message may take (IRCv3 message-tags' limit on
#: what a client sends).
MAX_TAGS_BYTES = 4094

_NAME = re.compile(r"\+(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?/)?[A-Za-z0-9-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Characters IRC escapes in a tag value with one more byte (``\:``, ``\s``, ``\\``).
_ESCAPED = (";", " ", "\\")


def is_client_tag(name: str, value: str) -> bool:
    """Whether ``name`` is a client-only tag name and ``value`` has no control character."""
    return _NAME.fullmatch(name) is not None and not _CONTROL.search(value)


def check_tags(tags: dict[str, str] | None) -> dict[str, str] | None:
    """``tags`` if every name is a client-only tag name, no value holds a control
    character and all fit in :data:`MAX_TAGS_BYTES`; None for none. Raises
    ``bad_arguments`` otherwise."""
    if not tags:
        return None
    size = len(tags) - 1  # the ``;`` between them
    for name, value in tags.items():
        if not _NAME.fullmatch(name):
            raise ProtocolError(
                Code.BAD_ARGUMENTS, "{name} is not a client tag (+name)", name=repr(name[:40])
            )
        if _CONTROL.search(value):
            raise ProtocolError(
                Code.BAD_ARGUMENTS, "the value of {name} has a control character", name=name
            )
        size += len(name) + 1 + len(value.encode()) + sum(map(value.count, _ESCAPED))
    if size > MAX_TAGS_BYTES:
        raise ProtocolError(
            Code.BAD_ARGUMENTS, "client tags may take at most {most} bytes", most=MAX_TAGS_BYTES
        )
    return tags
