"""Textual messages the app receives from its network worker."""

from __future__ import annotations

from textual.message import Message

from ..session import Event

__all__ = ["NetEvent"]


class NetEvent(Message):
    """Something happened on the connection (a :mod:`charla.client.session` event)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event
