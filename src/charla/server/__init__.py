"""The charla server: an asyncio listener, the chat hub, commands and limits."""

from __future__ import annotations

from .app import ChatServer, run
from .config import DEFAULT_HOST, DEFAULT_PORT, ServerConfig

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "ChatServer", "ServerConfig", "run"]
