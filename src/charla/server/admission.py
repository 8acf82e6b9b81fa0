"""Who may connect, how long they may take to say hello, and how they are cut off.

Caps are checked when a socket is accepted (``--max-clients``, ``--max-per-ip``); a
client that has not been welcomed within ``--handshake-timeout`` is cut off. Every
refusal and cut-off is one log line and a counter, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import TYPE_CHECKING

from ..protocol import Bye, Code
from .member import Link, Member

if TYPE_CHECKING:
    from .hub import Hub

__all__ = ["Admission"]

log = logging.getLogger("charla.server")


class Admission:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self.members: set[Member] = set()
        self.per_ip: Counter[str] = Counter()
        self.accepting = True
        self._handshakes: dict[Member, asyncio.TimerHandle] = {}

    def __len__(self) -> int:
        return len(self.members)

    def accept(self, link: Link) -> Member | None:
        """A socket connected: its member, or ``None`` (told why, and closed)."""
        hub = self._hub
        config = hub.config
        hub.metrics.connections += 1
        member = Member(hub, link)
        if not self.accepting:
            member.send(Bye(reason="shutdown"))
            link.close()
            return None
        if config.max_clients and len(self.members) >= config.max_clients:
            self._refuse(member, Code.SERVER_FULL, "the server is full, try again later")
            return None
        if config.max_per_ip and self.per_ip[link.peer] >= config.max_per_ip:
            self._refuse(
                member, Code.TOO_MANY_CONNECTIONS, "too many connections from your address"
            )
            return None
        self.members.add(member)
        self.per_ip[link.peer] += 1
        if config.handshake_timeout > 0:
            self._handshakes[member] = hub.loop.call_later(
                config.handshake_timeout, self._handshake_expired, member
            )
        return member

    def _refuse(self, member: Member, code: Code, message: str) -> None:
        log.info("refused %s: %s", member.peer, code)
        self._hub.metrics.refused += 1
        member.send_error(code, message)
        member.link.close()

    def welcomed(self, member: Member) -> None:
        timer = self._handshakes.pop(member, None)
        if timer is not None:
            timer.cancel()

    def _handshake_expired(self, member: Member) -> None:
        self._handshakes.pop(member, None)
        if member.nick is None and not member.closed:
            self.cut_off(member, Code.HANDSHAKE_TIMEOUT, "no valid hello in time")

    def cut_off(self, member: Member, code: Code, message: str, *, tell: bool = True) -> None:
        """Disconnect a client for ``code``: one log line, a counter, no traceback."""
        if member.closed:
            return
        log.warning("cut off %r: %s", member, code)
        self._hub.metrics.cut_offs[code] += 1
        member.proto.close()
        if code is Code.SLOW_CONSUMER:
            member.link.close(abort=True)  # it does not read: nothing more is worth writing
            return
        if tell:
            member.send_error(code, message)
        member.link.close()

    def remove(self, member: Member) -> bool:
        """Forget ``member``'s socket; False if it was never admitted (or already gone)."""
        if member not in self.members:
            return False
        self.members.discard(member)
        self.welcomed(member)
        self.per_ip[member.peer] -= 1
        if self.per_ip[member.peer] <= 0:
            del self.per_ip[member.peer]
        return True
