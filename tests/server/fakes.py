"""Stand-ins for what the hub talks to — socket, bus, store, clock — so the rules of a
connection (order, labels, limits, timeouts) are tested with no socket, thread or sleep."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from charla.bus import Draft, Sink, stamp
from charla.protocol import Message, ServerFrame, decode_server_frame, encode
from charla.server.config import ServerConfig
from charla.server.hub import Hub
from charla.server.member import Member


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeLink:
    """A socket that keeps what is sent to it."""

    def __init__(self, peer: str = "10.0.0.1") -> None:
        self.peer = peer
        self.closed = False
        self._sent: list[bytes] = []

    def send(self, data: bytes) -> None:
        if not self.closed:
            self._sent.append(data)

    def close(self, *, abort: bool = False) -> None:
        self.closed = True

    async def drained(self) -> None:
        return None

    def frames(self) -> list[ServerFrame]:
        """Everything sent since the last call, decoded."""
        data, self._sent = b"".join(self._sent), []
        return [decode_server_frame(line) for line in data.splitlines() if line]


class FakeStore:
    """Messages in a list; the queries the hub makes, answered from it."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    @property
    def last_id(self) -> int:
        return self.messages[-1].id if self.messages else 0

    def _room(self, room: str) -> list[Message]:
        return [m for m in self.messages if m.room == room]

    def recent(self, room: str, limit: int) -> list[Message]:
        return self._room(room)[-limit:]

    def before(self, room: str, before: int, limit: int) -> list[Message]:
        return [m for m in self._room(room) if m.id < before][-limit:]

    def since(self, room: str, since: int, limit: int) -> tuple[list[Message], bool]:
        newer = [m for m in self._room(room) if m.id > since]
        return newer[-limit:], len(newer) > limit

    def registered_keys(self) -> set[str]:
        return set()

    def account_hash(self, key: str) -> str | None:
        return None

    def moderation_entries(self) -> list[object]:
        return []


class FakeBus:
    """Stores a draft at once and delivers it on the next loop iteration, like the
    group commit does; ``hold`` keeps drafts back to open the window between them."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self._ids = itertools.count(1)
        self._sink: Sink | None = None
        self.hold = False
        self._held: list[tuple[Message, object]] = []

    async def start(self, sink: Sink) -> None:
        self._sink = sink

    def publish(self, draft: Draft) -> None:
        message = stamp(draft, next(self._ids), "2026-12-02T10:00:00.000Z")
        assert isinstance(message, Message), "the fake bus carries messages only"
        if draft.room is not None:
            self._store.messages.append(message)
        self._held.append((message, draft.origin))
        if not self.hold:
            asyncio.get_running_loop().call_soon(self.release)

    def release(self) -> None:
        batch, self._held = self._held, []
        if batch and self._sink is not None:
            self._sink.deliver(batch)

    async def drain(self) -> None:
        self.release()

    async def close(self) -> None:
        pass


class Chat:
    """A hub on fakes, and helpers to connect members and read what they got."""

    def __init__(self, **settings: Any) -> None:
        self.clock = FakeClock()
        self.store = FakeStore()
        self.bus = FakeBus(self.store)
        config = ServerConfig(**{"rate_limit": 0.0, **settings})
        loop = asyncio.get_running_loop()
        self.hub = Hub(config, self.store, self.bus, loop=loop, clock=self.clock)  # type: ignore[arg-type]

        async def read_now(fn: Any, *args: Any) -> Any:  # no threads: answers at once
            return fn(*args)

        self.hub.read = read_now  # type: ignore[method-assign]

    async def start(self) -> Chat:
        await self.bus.start(self.hub)
        return self

    def connect(self, peer: str = "10.0.0.1") -> tuple[Member, FakeLink]:
        link = FakeLink(peer)
        member = self.hub.accept(link)  # type: ignore[arg-type]
        assert member is not None
        return member, link

    async def welcomed(self, nick: str, **hello: Any) -> tuple[Member, FakeLink]:
        member, link = self.connect()
        send(member, {"type": "hello", "nick": nick, **hello})
        await settle()
        link.frames()
        return member, link


def send(member: Member, *frames: dict[str, Any]) -> None:
    """``frames`` in one write, as a client pipelining them would send them."""
    import msgspec

    member.receive_data(b"".join(msgspec.json.encode(f) + b"\n" for f in frames))


async def settle() -> None:
    """Let every ready task and callback run (no time passes: the clock is fake)."""
    for _ in range(50):
        await asyncio.sleep(0)


def kinds(frames: list[ServerFrame]) -> list[str]:
    return [str(type(f).__struct_config__.tag) for f in frames]


__all__ = ["Chat", "FakeClock", "FakeLink", "encode", "kinds", "send", "settle"]
