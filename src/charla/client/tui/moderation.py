"""How the full-screen client shows moderation: role marks and topics.

Refusals need nothing here: the server words them in the user's language, with the
room and the time left (the log shows the ``error`` frame's message as it is).
"""

from __future__ import annotations

from ...i18n import tr

__all__ = ["ROLE_MARKS", "role_mark", "topic_text"]

#: The mark before a nick in the user list, by role (docs/moderation.md).
ROLE_MARKS = {"operator": "&", "owner": "~", "mod": "@", "voice": "+"}


def role_mark(role: str | None) -> str:
    return ROLE_MARKS.get(role or "", "")


def topic_text(room: str, topic: str, lang: str) -> str:
    return tr(lang, "topic of #{room}: {topic}", room=room, topic=topic)
