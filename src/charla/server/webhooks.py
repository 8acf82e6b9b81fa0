"""Incoming webhooks: a program without a charla client posts a message in a room.

``charla admin hook create`` stores a hook (a room and a name) with the hash of a random
token and prints the URL that holds the token; a ``POST`` to that URL (JSON
``{"text": ...}`` or a form's ``text=``) posts the text in the room as the hook's name,
marked ``bot``. Only the hash is stored: a copy of the database does not give the URLs
away. Each hook has the rate limit of a client.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import urllib.parse
from http import HTTPStatus
from typing import TYPE_CHECKING

import msgspec

from ..bus import Draft
from ..protocol import ProtocolError, clean_text
from .limits import TokenBucket

if TYPE_CHECKING:
    from .hub import Hub

__all__ = ["HOOK_PATH", "HookRefused", "Webhooks", "hash_token", "new_token", "text_of"]

#: Webhook URLs are this prefix and the token.
HOOK_PATH = "/hooks/"
#: What ``secrets.token_urlsafe`` makes; anything else is not a token, unlooked-up.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What the store keeps. A random 256-bit token needs no slow hash: nobody can
    guess it from its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


class HookRefused(Exception):
    """A post that is not taken: the HTTP status and the reason sent back."""

    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class _Body(msgspec.Struct):
    text: str


def text_of(content_type: str, body: bytes) -> str:
    """The message a post's body carries: JSON ``{"text": ...}`` or a form's ``text``."""
    kind = content_type.partition(";")[0].strip().lower()
    if kind == "application/json":
        try:
            return msgspec.json.decode(body, type=_Body).text
        except msgspec.DecodeError as exc:
            raise HookRefused(HTTPStatus.BAD_REQUEST, f"bad JSON body: {exc}") from None
    if kind == "application/x-www-form-urlencoded":
        try:
            form = urllib.parse.parse_qs(body.decode(), strict_parsing=True, max_num_fields=20)
        except (UnicodeDecodeError, ValueError) as exc:
            # curl -d "build ok" sends a form with no field name: say what to send.
            why = f"a form body is text=<message> ({exc})"
            raise HookRefused(HTTPStatus.BAD_REQUEST, why) from None
        texts = form.get("text")
        if not texts or len(texts) > 1:
            raise HookRefused(HTTPStatus.BAD_REQUEST, "the form needs one text field")
        return texts[0]
    raise HookRefused(
        HTTPStatus.BAD_REQUEST,
        'send application/json {"text": ...} or application/x-www-form-urlencoded text=...',
    )


class Webhooks:
    """Posts of the hooks in the store, each hook metered like a client."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._meters: dict[int, TokenBucket] = {}

    async def post(self, token: str, content_type: str, body: bytes) -> None:
        """Post the text of ``body`` through the hook ``token`` opens; returns once it is
        stored. A wrong token is told before anything about the body."""
        hub = self._hub
        hook = None
        if _TOKEN.fullmatch(token):
            hook = await hub.read(hub.store.hook_by_token, hash_token(token))
        if hook is None:
            raise HookRefused(HTTPStatus.NOT_FOUND, "no such hook")
        try:
            text = clean_text(text_of(content_type, body), limit=hub.config.max_text)
        except ProtocolError as exc:
            raise HookRefused(HTTPStatus.BAD_REQUEST, exc.message) from None
        if not self._meter(hook.id).take():
            raise HookRefused(HTTPStatus.TOO_MANY_REQUESTS, "too many messages, slow down")
        problem = hub.store.health.problem
        if problem is not None:
            raise HookRefused(HTTPStatus.SERVICE_UNAVAILABLE, f"message not stored: {problem}")
        hub.metrics.messages_in += 1
        hub.bus.publish(Draft(user=hook.name, room=hook.room, text=text, bot=True))
        await hub.bus.drain()

    def _meter(self, hook_id: int) -> TokenBucket:
        meter = self._meters.get(hook_id)
        if meter is None:
            config = self._hub.config
            meter = TokenBucket(config.rate_limit, config.burst, clock=self._hub.clock)
            self._meters[hook_id] = meter
        return meter
