"""Who may connect, how long they may take to say hello, and how they are cut off.

Caps are checked when a socket is accepted (``--max-clients``, ``--max-per-ip``); a
client that has not been welcomed within ``--handshake-timeout`` is cut off, and one that
stays silent past ``--ping-timeout`` too. Time is the hub's clock, so tests drive it. Every
refusal and cut-off is one log line and a counter, never a traceback.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import TYPE_CHECKING

from ..i18n import N_
from ..protocol import Bye, Code, Ping
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
            self._refuse(member, Code.SERVER_FULL, N_("the server is full, try again later"))
            return None
        if config.max_per_ip and self.per_ip[link.peer] >= config.max_per_ip:
            self._refuse(
                member, Code.TOO_MANY_CONNECTIONS, N_("too many connections from your address")
            )
            return None
        self.members.add(member)
        self.per_ip[link.peer] += 1
        return member

    def _refuse(self, member: Member, code: Code, message: str) -> None:
        log.info("refused %s: %s", member.peer, code)
        self._hub.metrics.refused += 1
        member.send_error(code, message)
        member.link.close()

    def check_timeouts(self, now: float) -> None:
        """Cut off who took too long to say hello; ping quiet clients and drop the ones
        that stay silent (no ghost users)."""
        config = self._hub.config
        for member in list(self.members):
            if member.nick is None:
                waited = now - member.connected_at
                if 0 < config.handshake_timeout <= waited:
                    self.cut_off(member, Code.HANDSHAKE_TIMEOUT, "no valid hello in time")
                continue
            silent = now - member.last_seen
            if silent >= config.ping_timeout:
                self.cut_off(member, Code.PING_TIMEOUT, "no answer to ping")
            elif silent >= config.ping_interval and not member.pinged:
                member.pinged = True
                member.send(Ping())

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
        self.per_ip[member.peer] -= 1
        if self.per_ip[member.peer] <= 0:
            del self.per_ip[member.peer]
        return True
