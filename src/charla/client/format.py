"""Turning frames into text a person reads, safely.

Everything in a frame came from other people: :func:`sanitize` removes what could drive a
terminal (escape sequences, control characters, bidi overrides) before anything is shown.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import msgspec

from ..i18n import tr
from ..modtext import entry_text
from ..protocol import (
    Bans,
    Deleted,
    Dms,
    Edited,
    Error,
    Joined,
    Message,
    ModEntry,
    Modlog,
    Parent,
    Reaction,
    Results,
    RoomMode,
    Rooms,
    System,
    Users,
)

__all__ = [
    "format_line",
    "json_line",
    "listing_text",
    "local_date",
    "local_time",
    "preview",
    "reaction_counts",
    "sanitize",
    "sanitize_line",
]

#: Characters of a parent's text a reply line shows.
PREVIEW = 24
_FENCES = re.compile(r"(?:```|~~~)[\w+#.-]*")

# ANSI/VT escape sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other ESC x,
# and their 8-bit C1 forms.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI
    r"|(?:\x1b\]|\x9d).*?(?:\x07|\x1b\\|\x9c)"  # OSC
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f]).*?(?:\x1b\\|\x9c)"  # DCS, SOS, PM, APC
    r"|\x1b[@-Z\\-_]?",  # two-byte escapes, or a lone ESC
    re.DOTALL,
)
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def sanitize(text: str) -> str:
    """``text`` with escape sequences, control characters (but newline) and bidi
    overrides removed, and tabs turned into spaces."""
    text = _ESCAPES.sub("", text)
    return _CONTROLS.sub("", text.replace("\t", "    "))


def sanitize_line(text: str) -> str:
    """:func:`sanitize`, and on one line: for names and error messages, where a newline
    from the server could print a line that looks like someone else's message."""
    return sanitize(text).replace("\n", " ")


# What a JSON encoder leaves raw that a terminal may act on: DEL, the C1 controls (0x9b is
# CSI on its own) and the bidi overrides. C0 controls, ESC included, are always escaped.
_RAW_IN_JSON = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def json_line(encoded: bytes) -> str:
    """A JSON document as text safe to print: the characters a terminal could act on
    written as ``\\uXXXX`` escapes, so the value a script parses is unchanged."""
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded.decode())


def local_date(ts: str) -> date | None:
    """The local calendar day of ``ts``, or ``None`` when it cannot be read."""
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone().date()
    except ValueError:
        return None


def local_time(ts: str) -> str:
    """``2026-11-25T10:00:00.123Z`` -> ``HH:MM`` in the local time zone."""
    try:
        moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return "--:--"
    return moment.astimezone().strftime("%H:%M")


def preview(parent: Parent, lang: str, width: int = PREVIEW) -> str:
    """``ana: ¿alguien ha…``: who a reply answers and the start of what they said, on
    one line."""
    if parent.deleted:
        text = tr(lang, "(message deleted)")
    else:
        # Fences say nothing in one line: ``` ```python def f(): ``` ``` is ``def f():``.
        text = " ".join(_FENCES.sub(" ", sanitize_line(parent.text)).split())
        if len(text) > width:
            text = text[: width - 1].rstrip() + "…"
    return f"{sanitize_line(parent.user)}: {text}"


def reaction_counts(reactions: dict[str, list[str]] | None) -> str:
    """``👍 3  🎉 1``."""
    return "  ".join(f"{sanitize_line(e)} {len(users)}" for e, users in (reactions or {}).items())


def _stamp(ts: str) -> str:
    """``[YYYY-MM-DD HH:MM]`` local: listings reach back further than today."""
    day = local_date(ts)
    return f"[{day.isoformat()} {local_time(ts)}]" if day is not None else f"[{local_time(ts)}]"


def _message_line(m: Message, lang: str, *, dated: bool = False) -> str:
    clock = _stamp(m.ts) if dated else f"[{local_time(m.ts)}]"
    user = sanitize_line(m.user)
    if m.to is not None:
        where = f"*{user} → {sanitize_line(m.to)}*"
    else:
        where = f"#{sanitize_line(m.room or '')}"
    if m.deleted:
        return f"{clock} {where} * " + tr(lang, "message #{id} deleted", id=m.id)
    text = sanitize(m.text).replace("\n", "\n    ")
    if m.edited is not None:
        text = tr(lang, "(edited #{id})", id=m.id) + " " + text
    if m.parent is not None:
        text = f"↪ {preview(m.parent, lang)} | {text}"
    if m.to is not None:
        line = f"{clock} {where} {text}"
    elif m.action:
        line = f"{clock} {where} * {user} {text}"
    elif m.notice:  # as IRC clients show a NOTICE
        line = f"{clock} {where} -{user}- {text}"
    else:
        line = f"{clock} {where} <{user}> {text}"
    if m.reactions:
        line += "\n    " + reaction_counts(m.reactions)
    return line


def _now() -> str:
    return "[" + datetime.now().strftime("%H:%M") + "]"


def _where(change: Reaction | Edited | Deleted) -> str:
    if change.to is not None:
        return f"*→ {sanitize_line(change.to)}*"
    return f"#{sanitize_line(change.room or '')}"


def _change_line(change: Reaction | Edited | Deleted, lang: str) -> str:
    """``* ana 👍 #123``, ``<ana> (editado #123) texto``, ``* mensaje #123 borrado``."""
    where = _where(change)
    if isinstance(change, Reaction):
        gone = " " + tr(lang, "(taken back)") if not change.on else ""
        user, emoji = sanitize_line(change.user), sanitize_line(change.emoji)
        return f"{_now()} {where} * {user} {emoji} #{change.id}{gone}"
    if isinstance(change, Edited):
        text = sanitize(change.text).replace("\n", "\n    ")
        mark = tr(lang, "(edited #{id})", id=change.id)
        user = sanitize_line(change.user)
        return f"[{local_time(change.edited)}] {where} <{user}> {mark} {text}"
    return f"{_now()} {where} * " + tr(lang, "message #{id} deleted", id=change.id)


def _scope(room: str | None, lang: str) -> str:
    return f"#{sanitize_line(room)}" if room is not None else tr(lang, "the server")


def _dms_text(frame: Dms, lang: str) -> str:
    if not frame.conversations:
        return tr(lang, "no direct conversations yet")
    lines = [tr(lang, "direct conversations:")]
    lines += [
        f"{_stamp(c.last_ts)} {sanitize_line(c.nick)} (#{c.last_id})" for c in frame.conversations
    ]
    return "\n".join(lines)


def _bans_text(frame: Bans, lang: str) -> str:
    where = _scope(frame.room, lang)
    if not frame.bans:
        return tr(lang, "nobody is banned in {where}", where=where)
    lines = [tr(lang, "bans in {where}:", where=where)]
    for ban in frame.bans:
        line = tr(lang, "{nick}, by {by}", nick=sanitize_line(ban.nick), by=sanitize_line(ban.by))
        if ban.address:
            line += f" ({sanitize_line(ban.address)})"
        if ban.until:
            line += " " + tr(lang, "(until {until})", until=_stamp(ban.until).strip("[]"))
        if ban.reason:
            line += f": {sanitize_line(ban.reason)}"
        lines.append(line)
    return "\n".join(lines)


def _local_until(entry: ModEntry) -> ModEntry:
    """``entry`` with its end in local time, as the rest of the listing."""
    if entry.until is None:
        return entry
    return msgspec.structs.replace(entry, until=_stamp(entry.until).strip("[]"))


def _modlog_text(frame: Modlog, lang: str) -> str:
    where = _scope(frame.room, lang)
    if not frame.entries:
        return tr(lang, "the moderation log of {where} is empty", where=where)
    lines = [tr(lang, "moderation log of {where}:", where=where)]
    lines += [
        f"{_stamp(e.ts)} {sanitize_line(entry_text(_local_until(e), lang))}" for e in frame.entries
    ]
    return "\n".join(lines)


def _mode_text(frame: RoomMode, lang: str) -> str:
    modes = []
    if frame.invite_only:
        modes.append("+i " + tr(lang, "(invite-only)"))
    if frame.moderated:
        modes.append("+m " + tr(lang, "(moderated)"))
    if frame.slow:
        modes.append(f"+s {frame.slow} " + tr(lang, "(slow mode)"))
    if not frame.open_topic:
        modes.append("+t " + tr(lang, "(topic for moderators)"))
    shown = ", ".join(modes) or tr(lang, "none")
    return tr(lang, "modes of #{room}: {modes}", room=sanitize_line(frame.room), modes=shown)


def _results_text(frame: Results, lang: str) -> str:
    header = tr(
        lang, "{n} found for {query}", n=len(frame.messages), query=sanitize_line(frame.query)
    )
    if frame.more:
        header += " " + tr(lang, "(more match: narrow the search)")
    return "\n".join([header, *(_message_line(m, lang, dated=True) for m in frame.messages)])


def listing_text(frame: Dms | Bans | Modlog | RoomMode | Results, lang: str) -> str:
    """The answer to ``/privados``, ``/vetados``, ``/registro``, ``/modo`` or ``/buscar``
    as lines a person reads (every name and text in it sanitized)."""
    if isinstance(frame, Dms):
        return _dms_text(frame, lang)
    if isinstance(frame, Bans):
        return _bans_text(frame, lang)
    if isinstance(frame, Modlog):
        return _modlog_text(frame, lang)
    if isinstance(frame, RoomMode):
        return _mode_text(frame, lang)
    return _results_text(frame, lang)


def format_line(frame: object, lang: str) -> str | None:
    """One frame as the plain-mode text (possibly several lines), or ``None`` when the
    frame is not shown."""
    if isinstance(frame, Message):
        return _message_line(frame, lang)
    if isinstance(frame, Reaction | Edited | Deleted):
        return _change_line(frame, lang)
    if isinstance(frame, Users):
        names = ", ".join(sanitize_line(u) for u in frame.users) or "-"
        return "-- " + tr(
            lang, "users in #{room}: {users}", room=sanitize_line(frame.room), users=names
        )
    if isinstance(frame, System):
        return "-- " + sanitize(frame.text or frame.event).replace("\n", "\n   ")
    if isinstance(frame, Rooms):
        rooms = ", ".join(
            f"#{sanitize_line(r.name)} ({r.users}{'*' if r.joined else ''})" for r in frame.rooms
        )
        return "-- " + tr(lang, "rooms: {rooms}", rooms=rooms or "-")
    if isinstance(frame, Error):
        return "!! " + sanitize_line(frame.message)
    if isinstance(frame, Dms | Bans | Modlog | RoomMode | Results):
        return "-- " + listing_text(frame, lang).replace("\n", "\n   ")
    if isinstance(frame, Joined) and frame.topic:  # as the full-screen client tells it
        room, topic = sanitize_line(frame.room), sanitize_line(frame.topic)
        return "-- " + tr(lang, "topic of #{room}: {topic}", room=room, topic=topic)
    return None
