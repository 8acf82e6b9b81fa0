"""Fan-out: messages go to the bus, and come back stored, to every reader at once.

A member's message is published as a :class:`~charla.bus.Draft` whose origin is an
:class:`Origin` (the member and the label of its request). The bus gives it an id, makes
it durable, and hands back batches in the one order everybody sees; :meth:`FanOut.deliver`
then writes each run of one room's messages, encoded once, to every reader of the room.
Only a sender who labelled its request gets a copy of its own of that message, with the
label: nobody else ever sees a label, and unlabelled traffic costs nothing extra.

A batch that reaches a big room may be held for a few milliseconds (:mod:`.pacing`), so
that a room of thousands is written fewer times with more in each write. While a batch is
held, every later one waits behind it: each client still gets everything in id order,
and a sender's acknowledgement, and the requests queued behind its message, wait for the
delivery too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec

from ..bus import Delivery, Draft, Event, position
from ..protocol import Code, Deleted, Message, ProtocolError, encode
from .authors import author_of
from .pacing import Pacer

if TYPE_CHECKING:
    from .hub import Hub
    from .member import Member

__all__ = ["FanOut", "Origin"]


@dataclass(frozen=True, slots=True)
class Origin:
    """Who published a draft here, and the label its answer carries."""

    member: Member
    label: str | None = None


class FanOut:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        #: The highest id fanned out so far (everything stored at start counts as such),
        #: and the readers waiting for an id to be fanned out.
        self._delivered_upto = hub.store.last_id
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._pacer = Pacer(hub.clock)
        #: Batches waiting for a big room's next pass, in the order they came.
        self._held: list[Delivery] = []
        self._release_timer: asyncio.TimerHandle | None = None

    @property
    def delivered_upto(self) -> int:
        """The highest id fanned out so far: a member welcomed now gets every later
        message live."""
        return self._delivered_upto

    def publish(self, member: Member, draft: Draft, label: str | None) -> None:
        draft.origin = Origin(member, label)
        if draft.kind == "message":
            draft.author = author_of(member)
        member.proto.published()
        self._hub.metrics.messages_in += 1
        self._hub.bus.publish(draft)

    def deliver(self, batch: list[Delivery]) -> None:
        """Fan out messages (and changes to them) that are now durable: at once, or with
        the next pass of a big room when the batch reaches one that was written a moment
        ago."""
        if self._held:
            self._held += batch
            return
        pace = self._pace()
        # Off by default: then the hot path never looks for the batch's widest room.
        wait = self._pacer.wait(self._widest(batch), pace) if pace else 0.0
        if wait > 0:
            self._held = list(batch)
            self._release_timer = self._hub.loop.call_later(wait, self.release)
            return
        self._deliver_now(batch)

    def release(self) -> None:
        """Deliver what is held now (its time has come, or the server is stopping)."""
        if self._release_timer is not None:
            self._release_timer.cancel()
            self._release_timer = None
        held, self._held = self._held, []
        if held:
            self._deliver_now(held)

    def _pace(self) -> float:
        """Seconds a pass over a big room costs per reader (``--fanout-pace-us``)."""
        return self._hub.config.fanout_pace_us / 1e6

    def _widest(self, batch: list[Delivery]) -> int:
        """The most readers one room of ``batch`` has."""
        rooms = self._hub.rooms.by_name
        names = {event.room for event, _ in batch if not isinstance(event, ProtocolError)}
        return max((len(rooms[name].live) for name in names if name in rooms), default=0)

    def _deliver_now(self, batch: list[Delivery]) -> None:
        """Fan out messages (and changes to them) that are now durable, in id order for
        every client.

        Consecutive messages of one room are joined into one ``bytes`` and each reader
        gets a reference to it: encoding and copying are paid once per run, not once
        per recipient. A change refused when it was stored goes to its sender only.
        """
        hub = self._hub
        rooms = hub.rooms.by_name
        start = 0
        widest = 0
        while start < len(batch):
            first, origin = batch[start]
            end = start + 1
            if isinstance(first, ProtocolError):
                _tell_sender(first, origin)
            elif first.room is None:
                self._deliver_direct(first, origin)
            else:
                while end < len(batch) and _room_of(batch[end][0]) == first.room:
                    end += 1
                room = rooms.get(first.room)
                if room is not None:
                    widest = max(widest, len(room.live))
                    run = batch[start:end]
                    messages = [e for e, _ in run if not isinstance(e, ProtocolError)]
                    encoded = list(map(encode, messages))
                    data = b"".join(encoded)
                    labelled = _labelled_senders(run)
                    if labelled:
                        for reader in room.live:
                            if reader in labelled:
                                reader.send_bytes(_own_copy(run, encoded, reader))
                            else:
                                reader.send_bytes(data)
                    else:  # the common case, the hot loop: one call per reader
                        for reader in room.live:
                            reader.link.send(data)
                    for held in room.joining.values():
                        held.extend(messages)
                    hub.metrics.deliveries += len(run) * len(room.live)
            start = end
        self._pacer.passed(widest, self._pace())
        self._settle(origin for _, origin in batch)
        if batch:
            self._delivered_upto = max(self._delivered_upto, *(position(e) for e, _ in batch))
        if self._waiters:
            self._wake_waiters()

    def reject(self, drafts: list[Draft], reason: str) -> None:
        """Drafts that could not be stored: each sender gets its text back (after what
        is held, which was stored before them)."""
        self.release()
        for draft in drafts:
            origin = draft.origin
            if isinstance(origin, Origin):
                origin.member.send_error(
                    Code.UNAVAILABLE,
                    "message not stored: {reason}",
                    values={"reason": reason},
                    text=draft.text or None,
                    label=origin.label,
                )
        self._settle(draft.origin for draft in drafts)

    def _settle(self, origins: Iterable[object]) -> None:
        """The senders' messages are answered: requests waiting behind them may run."""
        senders: dict[Member, int] = {}
        for origin in origins:
            if isinstance(origin, Origin):
                senders[origin.member] = senders.get(origin.member, 0) + 1
        for member, count in senders.items():
            member.proto.settled(count)
            self._hub.pump(member)

    def _deliver_direct(self, message: Event, origin: object) -> None:
        """To every session of both parties here (a registered sender's sessions here
        too when it sent it from another node); a labelled sender's copy is its own."""
        data = encode(message)
        users = self._hub.users
        sender = origin.member if isinstance(origin, Origin) else None
        readers = dict.fromkeys(users.sessions(message.to or ""))
        if sender is not None:
            readers.update(dict.fromkeys(users.sessions_of(sender)))
        elif (author := users.get(_sender_of(message))) is not None and author.registered:
            readers.update(dict.fromkeys(author.sessions))
        for reader in readers:
            if reader is sender and isinstance(origin, Origin) and origin.label:
                reader.send_bytes(_labelled(message, origin.label))
            else:
                reader.send_bytes(data)
        self._hub.metrics.deliveries += len(readers)
        if sender is None and isinstance(message, Message) and message.to is not None:
            # Sent on another node, which answered it if the recipient is away.
            self._hub.activity.replied_elsewhere(message.user, message.to)

    async def delivered_through(self, message_id: int) -> None:
        """Return once every message up to ``message_id`` has been through ``deliver``."""
        if message_id <= self._delivered_upto:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((message_id, waiter))
        await waiter

    def _wake_waiters(self) -> None:
        waiting = []
        for message_id, waiter in self._waiters:
            if message_id > self._delivered_upto:
                waiting.append((message_id, waiter))
            elif not waiter.done():
                waiter.set_result(None)
        self._waiters = waiting


def _sender_of(event: Event) -> str:
    return event.by if isinstance(event, Deleted) else event.user


def _room_of(event: Event | ProtocolError) -> str | None:
    return None if isinstance(event, ProtocolError) else event.room


def _tell_sender(refusal: ProtocolError, origin: object) -> None:
    """A change the store refused (the message was deleted meanwhile, too many
    reactions): only its sender hears of it."""
    if isinstance(origin, Origin):
        origin.member.refuse(refusal, origin.label)


def _labelled_senders(run: list[Delivery]) -> set[Member]:
    return {origin.member for _, origin in run if isinstance(origin, Origin) and origin.label}


def _own_copy(run: list[Delivery], encoded: list[bytes], reader: Member) -> bytes:
    """The run as ``reader`` sees it: its own labelled messages carry their labels. Only
    those are encoded again: a run of many labelled senders (every IRC client labels its
    requests) costs each of them a copy, not an encoding of the whole run."""
    return b"".join(
        _labelled(message, origin.label)
        if isinstance(origin, Origin) and origin.member is reader and origin.label
        else piece
        for (message, origin), piece in zip(run, encoded, strict=True)
    )


def _labelled(message: Event | ProtocolError, label: str | None) -> bytes:
    assert not isinstance(message, ProtocolError)  # a refusal is in no room's run
    return encode(msgspec.structs.replace(message, label=label))
