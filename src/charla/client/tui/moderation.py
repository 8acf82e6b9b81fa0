"""How the full-screen client shows moderation: role marks, topics, refusals with time left."""

from __future__ import annotations

from ...i18n import tr
from ...protocol import Error

__all__ = ["ROLE_MARKS", "refusal_text", "role_mark", "topic_text"]

#: The mark before a nick in the user list, by role (docs/moderation.md).
ROLE_MARKS = {"operator": "&", "owner": "~", "mod": "@", "voice": "+"}


def role_mark(role: str | None) -> str:
    return ROLE_MARKS.get(role or "", "")


def time_left(seconds: float, lang: str) -> str:
    """``seconds`` as the user reads it, rounded to its largest unit."""
    if seconds < 60:
        return tr(lang, "{n} seconds", n=max(1, round(seconds)))
    if seconds < 3600:
        return tr(lang, "{n} minutes", n=round(seconds / 60))
    if seconds < 86400:
        return tr(lang, "{n} hours", n=round(seconds / 3600))
    return tr(lang, "{n} days", n=round(seconds / 86400))


_REFUSALS = {
    "banned": "you are banned",
    "muted": "you cannot speak here",
    "slow_mode": "slow mode: wait before your next message",
    "not_allowed": "you are not allowed to do that",
    "invite_only": "this room is invite-only: ask for an invite",
}


def refusal_text(error: Error, lang: str) -> str:
    """An error as the log shows it: moderation refusals in the user's language, with
    the time left when they end."""
    if error.code not in _REFUSALS:
        return error.message
    text = tr(lang, _REFUSALS[error.code])
    if error.retry_after is not None:
        text += " " + tr(lang, "({left} left)", left=time_left(error.retry_after, lang))
    return f"{text} — {error.message}"


def topic_text(room: str, topic: str, lang: str) -> str:
    return tr(lang, "topic of #{room}: {topic}", room=room, topic=topic)
