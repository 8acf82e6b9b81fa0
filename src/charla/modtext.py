"""What a moderation entry tells a person, in their language: the notice the server
sends when it happens, and its line in a client's ``/registro``."""

from __future__ import annotations

from .i18n import tr
from .protocol import ModEntry

__all__ = ["entry_text"]

#: What each action says to the users who see it (msgids, translated per reader).
_TEXTS = {
    "topic": "{by} set the topic of #{room}: {text}",
    "topic_cleared": "{by} cleared the topic of #{room}",
    "kick": "{user} was put out of #{room} by {by}",
    "ban": "{user} was banned from #{room} by {by}",
    "server_ban": "{user} was banned from the server by {by}",
    "unban": "{by} lifted the ban on {user}",
    "mute": "{user} was muted in #{room} by {by}",
    "unmute": "{user} may speak again in #{room}",
    "invite": "{by} invited {user} to #{room}",
    "mode": "{by} changed the modes of #{room}: {text}",
    "voice": "{by} gave voice to {user} in #{room}",
    "devoice": "{by} took the voice of {user} in #{room}",
    "op": "{by} made {user} a moderator of #{room}",
    "deop": "{by} took the moderator role of {user} in #{room}",
    "owner": "{user} owns #{room} now",
    "kill": "{user} was disconnected by {by}",
    # Only in the log: a moderator's delete is announced as the delete itself.
    "delete": "{by} deleted message #{text} of {user} in #{room}",
}


def entry_text(entry: ModEntry, lang: str) -> str:
    """``ana was banned from #dev by profe: spam (until …)`` in ``lang``."""
    key = entry.action
    if key == "topic" and not entry.text:
        key = "topic_cleared"
    elif key == "ban" and entry.room is None:
        key = "server_ban"
    text = tr(
        lang,
        _TEXTS.get(key, key),
        user=entry.nick,
        by=entry.by,
        room=entry.room,
        text=entry.text or "",
    )
    if entry.reason:
        text += f": {entry.reason}"
    if entry.until:
        text += " " + tr(lang, "(until {until})", until=entry.until)
    return text
