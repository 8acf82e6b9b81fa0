"""Presence across the nodes of a cluster.

- **Events in the log.** Every change of a node's users (``hello``, ``quit``, ``join``,
  ``leave``, ``nick``) is published to the stream's presence subject by that node, so
  every node applies them in the one order of the stream, between the same messages, and
  a node back from a NATS outage misses none (its consumer resumes after the last
  sequence it delivered).
- **Snapshots.** A node starting publishes ``online``; every other node answers with a
  ``roster`` of its users. The newcomer ignores presence events before its own ``online``
  and takes each node's roster as that node's state, without announcing anybody.
- **Nick claims** are keys of a KV bucket (hex of the casefolded nick), taken with the
  atomic ``create``; the node that holds one refreshes it every quarter of the bucket's
  TTL, so the claims of a cluster that died altogether expire by themselves.
- **Liveness.** Nodes heartbeat on a plain (not stored) subject. Each node sweeps: a
  node silent for ``dead_after`` is declared ``gone`` in the log — with a message id that
  makes every surviving node's declaration one entry — and on that entry every node
  announces its users gone to its own clients and frees their nicks. A node that is itself
  disconnected sweeps nobody, and after reconnecting it counts silence from then: a NATS
  outage shorter than ``dead_after`` announces no one gone.
- **Registered nicks** live in a second KV bucket (:mod:`charla.cluster.accounts`); an
  ``account`` event keeps each node's in-memory set of registered nicks current.
- **One user, several nodes.** A registered nick may have sessions on several nodes: each
  node's ``hello`` and ``sessions`` events say how many it has there, a ``move`` (the user
  joined or parted a room itself) makes its sessions on the other nodes follow, ``away``
  carries what it said and ``idle`` whether its sessions on that node are idle. A join or
  leave is announced only where it changes whether the user is in the room at all.
  Read markers travel in the stream too (:mod:`charla.cluster.markers`).
- **Checked.** Events, heartbeats and claims read from NATS hold only what a node writes
  (:mod:`charla.cluster.checks`); anything else is skipped with a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec
import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js.kv import KeyValue

from ..protocol import nick_key
from ..server.accounts import Accounts
from ..server.activity import MAX_AWAY
from .accounts import ClusterAccounts
from .checks import (
    SkipLog,
    all_valid,
    valid_key,
    valid_leave_reason,
    valid_nick,
    valid_origin,
    valid_room,
    valid_text,
)
from .connect import unreachable
from .markers import ClusterMarkerLog
from .moderation import ClusterModerationLog
from .relay import ClusterRelay
from .settings import name_token
from .stream import NatsBus

if TYPE_CHECKING:
    from ..protocol import RelayedTags, Typing
    from ..server.hub import Hub
    from ..server.users import User
    from ..store import Store

__all__ = ["ClusterPresence"]

log = logging.getLogger("charla.cluster")


class _State(msgspec.Struct, omit_defaults=True, frozen=True):
    """How a user is on one node: its sessions there, the away message it said ("" for
    none; None when it did not say it is away), whether its sessions there are idle."""

    n: int = 1
    away: str | None = None
    idle: bool = False


class _Event(msgspec.Struct, omit_defaults=True, frozen=True):
    ev: str
    node: str
    boot: str
    user: str | None = None
    room: str | None = None
    new: str | None = None
    #: A roster: [nick, [rooms]] per user, in parts of ROSTER_PART users (a NATS message
    #: has a size limit); ``more`` on every part but the last. ``states``: each one's
    #: state, in the same order (none from a node that does not send them).
    users: list[tuple[str, list[str]]] = []
    states: list[_State] = []
    more: bool = False
    key: str | None = None
    #: An account registered (``account``), a room joined (``move``), sessions idle (``idle``).
    on: bool = False
    #: Sessions of the user on the node (``hello``, ``sessions``).
    n: int = 1
    #: What the user said (``away``, ``hello``): None when it is not away.
    away: str | None = None
    #: A ``leave``'s part or quit message as the room was told it, and whether the user
    #: left the server rather than the room (IRC clients see one ``QUIT``).
    reason: str | None = None
    quit: bool = False


class _Beat(msgspec.Struct, frozen=True):
    node: str
    boot: str


class _Claim(msgspec.Struct, frozen=True):
    nick: str
    node: str
    boot: str


_encode = msgspec.json.Encoder().encode

#: Users per roster event: well under NATS's default 1 MB message limit.
ROSTER_PART = 1000
#: Most sessions one node may report for one user (its --max-sessions is far below).
MAX_SESSIONS = 1000

#: The fields each kind of event needs, besides its node and boot.
_NEEDS: dict[str, tuple[str, ...]] = {
    "online": (),
    "roster": (),
    "gone": (),
    "hello": ("user",),
    "quit": ("user",),
    "join": ("user", "room"),
    "leave": ("user", "room"),
    "nick": ("user", "new"),
    "account": ("key",),
    "sessions": ("user",),
    "move": ("user", "room"),
    "away": ("user",),
    "idle": ("user",),
}


def _read_claim(value: bytes | None) -> _Claim | None:
    """The holder of a nick claim, or None when the value is not one a node wrote
    (such a claim is taken over like a dead node's)."""
    try:
        claim = msgspec.json.decode(value or b"", type=_Claim)
    except msgspec.DecodeError:  # not JSON, or not the shape (ValidationError)
        return None
    return claim if valid_origin(claim.node, claim.boot) and valid_nick(claim.nick) else None


def _event_problem(event: _Event) -> str | None:
    """Why ``event`` is not one a node would have written, or None."""
    needs = _NEEDS.get(event.ev)
    if needs is None:
        return "unknown kind"
    if any(getattr(event, name) is None for name in needs):
        return f"{event.ev} without its {'/'.join(needs)}"
    if not valid_origin(event.node, event.boot):
        return "invalid node name or boot id"
    nicks = [nick for nick in (event.user, event.new) if nick is not None]
    nicks += [nick for nick, _ in event.users]
    rooms = [event.room] if event.room is not None else []
    rooms += [room for _, joined in event.users for room in joined]
    if len(event.users) > ROSTER_PART:
        return "roster part too long"
    if event.states and len(event.states) != len(event.users):
        return "roster states do not match its users"
    states = [_State(n=event.n, away=event.away), *event.states]
    if not all(1 <= state.n <= MAX_SESSIONS for state in states):
        return "invalid session count"
    if not all(_valid_away(state.away) for state in states):
        return "invalid away message"
    if not all_valid(nicks, valid_nick):
        return "invalid nick"
    if not all_valid(rooms, valid_room):
        return "invalid room"
    if event.key is not None and not valid_key(event.key):
        return "invalid nick key"
    if (event.reason is not None or event.quit) and event.ev != "leave":
        return f"a reason or quit on {event.ev}"
    if event.reason is not None and not valid_leave_reason(event.reason):
        return "invalid leave reason"
    return None


def _valid_away(away: str | None) -> bool:
    return away is None or away == "" or valid_text(away, MAX_AWAY)


@dataclass(slots=True)
class _Remote:
    """A user as another node has it."""

    nick: str
    rooms: set[str]
    sessions: int = 1
    away: str | None = None
    idle: bool = False

    def take(self, state: _State) -> None:
        self.sessions, self.away, self.idle = state.n, state.away, state.idle


@dataclass(slots=True)
class _Node:
    """What this node knows of another one."""

    boot: str
    last_seen: float
    #: nick key -> the user there
    users: dict[str, _Remote] = field(default_factory=dict)
    #: Its roster was applied (or it started after us): its changes are news to announce.
    synced: bool = False
    #: Parts of a roster being received.
    parts: list[tuple[str, list[str]]] = field(default_factory=list)
    part_states: list[_State] = field(default_factory=list)


class ClusterPresence:
    shared = True

    def __init__(self, bus: NatsBus) -> None:
        self.bus = bus
        self.settings = bus.settings
        self.node: str | None = bus.node
        self.boot = bus.boot
        self.hub: Hub | None = None
        self.ready = False
        self.nodes: dict[str, _Node] = {}
        #: Our nick claims: nick key -> (nick, KV revision).
        self.claims: dict[str, tuple[str, int]] = {}
        #: Our users announced to the cluster (nick keys).
        self.announced: set[str] = set()
        #: Last heartbeat heard per (node, boot), and instances known dead.
        self.heard: dict[tuple[str, str], float] = {}
        self.dead: set[tuple[str, str]] = set()
        self._declared: dict[str, float] = {}
        self._started = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self._nicks: KeyValue | None = None
        self._accounts: ClusterAccounts | None = None
        self._skips = SkipLog(log)
        self._background: set[asyncio.Task[None]] = set()
        self._relay = ClusterRelay(bus, self.holds, self._spawn)
        #: Claims we gave up while NATS was away (deleted once it is back), and claims
        #: being asked for right now, per nick key.
        self._unreleased: dict[str, int] = {}
        self._claiming: dict[str, int] = {}
        #: What our users asked for (moves, away) and the stream has not given back yet.
        self._unsettled: dict[tuple[str, str, str], int] = {}
        self.closing = False

    # --- setup ---------------------------------------------------------------------------

    def accounts(self, store: Store) -> Accounts:
        self._accounts = ClusterAccounts(self._announce_account)
        return self._accounts

    def moderation_log(self, hub: Hub) -> ClusterModerationLog:
        return ClusterModerationLog(self.bus, hub)

    def marker_log(self, hub: Hub) -> ClusterMarkerLog:
        return ClusterMarkerLog(self.bus, hub)

    def _announce_account(self, key: str, on: bool) -> None:
        self._publish("account", key=key, on=on)

    async def start(self, hub: Hub) -> None:
        self.hub = hub
        bus = self.bus
        await bus.connect()
        assert bus.js is not None and bus.nc is not None
        self._nicks = await _bucket(bus, self.settings.nicks_bucket, ttl=self.settings.claim_ttl)
        accounts = await _bucket(bus, self.settings.accounts_bucket)
        if self._accounts is not None:
            await self._accounts.open(accounts)
        bus.on_event = self._on_event
        bus.on_reconnect = self._reconnected
        await bus.nc.subscribe(self.settings.heartbeat_subject, cb=self._on_beat)
        await self._relay.start(hub)
        self._started = time.monotonic()
        self._publish("online")
        loop = asyncio.get_running_loop()
        for duty in (self._beat_forever, self._sweep_forever, self._refresh_forever):
            self._tasks.append(loop.create_task(duty()))

    async def close(self) -> None:
        self.closing = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._background:
            await asyncio.wait(self._background, timeout=2)
        # Leaving in order: the others announce our users gone now, not after
        # dead_after, and our nicks are free now, not when their claims expire.
        self._declare_gone(self.bus.node, self.boot)
        for key, (_, revision) in list(self.claims.items()):
            await self._delete_claim(key, revision)
        self.claims.clear()

    # --- what the hub reports ------------------------------------------------------------

    def _publish(self, ev: str, **fields: object) -> None:
        event = _Event(ev=ev, node=self.bus.node, boot=self.boot, **fields)  # type: ignore[arg-type]
        self.bus.publish_event(_encode(event))

    async def claim(self, nick: str) -> bool:
        assert self._nicks is not None
        if not self.bus.connected:  # answer now rather than after a request timeout
            raise unreachable(ConnectionError("disconnected from NATS"))
        key = nick_key(nick)
        value = _encode(_Claim(nick=nick, node=self.bus.node, boot=self.boot))
        self._claiming[key] = self._claiming.get(key, 0) + 1
        try:
            revision = await self._create_or_take_over(key, value)
        except (nats.errors.Error, OSError) as exc:
            raise unreachable(exc) from None
        finally:
            self._claiming[key] -= 1
            if not self._claiming[key]:
                del self._claiming[key]
        if revision is None:
            return False
        self.claims[key] = (nick, revision)
        return True

    async def _create_or_take_over(self, key: str, value: bytes) -> int | None:
        """Claim ``key``: create it, or take it over when its holder is dead. Another
        node freeing or taking it at the same moment makes us look again (a few times)."""
        assert self._nicks is not None
        token = name_token(key)
        for _ in range(3):
            try:
                return await self._nicks.create(token, value)
            except nats.js.errors.KeyWrongLastSequenceError:
                pass
            try:
                entry = await self._nicks.get(token)
            except nats.js.errors.NotFoundError:  # expired or released meanwhile
                continue
            holder = _read_claim(entry.value)
            if (
                holder is not None
                and not self._dead(holder.node, holder.boot)
                and not self._stale_own(key, holder)
            ):
                return None
            log.info("taking over a left-over nick claim of %s", holder and holder.node)
            try:
                return await self._nicks.update(token, value, last=entry.revision)
            except nats.js.errors.KeyWrongLastSequenceError:
                continue
        return None

    def _stale_own(self, key: str, holder: _Claim) -> bool:
        """A claim of ours that nobody here holds or is asking for but us: left over
        from a release that could not reach NATS."""
        mine = holder.node == self.bus.node and holder.boot == self.boot
        return mine and key not in self.claims and self._claiming.get(key, 0) <= 1

    def _dead(self, node: str, boot: str) -> bool:
        if (node, boot) in self.dead:
            return True
        if node == self.bus.node:
            return boot != self.boot  # an earlier run of this very node
        known = self.nodes.get(node)
        if known is not None:
            return known.boot != boot
        # Never heard of: alive if it heartbeated lately, dead once we have listened
        # long enough to be sure it is silent.
        heard = self.heard.get((node, boot))
        now = time.monotonic()
        if heard is not None:
            return now - heard > self.settings.dead_after
        return now - self._started > self.settings.dead_after

    def welcomed(self, nick: str) -> None:
        self.announced.add(nick_key(nick))
        # A registered nick's new session says it is away if its others said so.
        self._publish("hello", user=nick, away=self.away(nick))

    def released(self, nick: str) -> None:
        key = nick_key(nick)
        if key in self.announced:
            self.announced.discard(key)
            self._publish("quit", user=nick)
        claim = self.claims.pop(key, None)
        if claim is not None:
            self._spawn(self._delete_claim(key, claim[1]))

    def joined(self, nick: str, room: str) -> None:
        self._publish("join", user=nick, room=room)

    def left(self, nick: str, room: str, *, reason: str | None = None, quit: bool = False) -> None:
        self._publish("leave", user=nick, room=room, reason=reason, quit=quit)

    def counted(self, nick: str, sessions: int) -> None:
        if nick_key(nick) in self.announced:
            self._publish("sessions", user=nick, n=min(sessions, MAX_SESSIONS))

    def moved(self, nick: str, room: str, joined: bool) -> None:
        self._publish_wish("move", user=nick, room=room, on=joined)

    def said_away(self, nick: str, text: str | None) -> None:
        for _, user in self._places(nick_key(nick)):  # our own event does not come back
            user.away = text
        self._publish_wish("away", user=nick, away=text)

    def _publish_wish(self, ev: str, **fields: object) -> None:
        """Publish what the user asked for here (a move, away): until it is back from
        the stream, the same wish from another node came before it and is outdone."""
        event = _Event(ev=ev, node=self.bus.node, boot=self.boot, **fields)  # type: ignore[arg-type]
        wish = _wish(event)
        self._unsettled[wish] = self._unsettled.get(wish, 0) + 1
        self.bus.publish_event(_encode(event))

    def _settle(self, wish: tuple[str, str, str]) -> None:
        left = self._unsettled.pop(wish, 0) - 1
        if left > 0:
            self._unsettled[wish] = left

    def idled(self, nick: str, idle: bool) -> None:
        self._publish("idle", user=nick, on=idle)

    def relay(self, frame: Typing | RelayedTags) -> None:
        self._relay.send(frame)

    def renamed(self, old: str, new: str) -> None:
        old_key, new_key = nick_key(old), nick_key(new)
        self.announced.discard(old_key)
        self.announced.add(new_key)
        if old_key != new_key:
            claim = self.claims.pop(old_key, None)
            if claim is not None:
                self._spawn(self._delete_claim(old_key, claim[1]))
        self._publish("nick", user=old, new=new)

    # --- what the hub asks -----------------------------------------------------------------

    def users(self, room: str) -> list[str]:
        listed: dict[str, str] = {}
        for state in self.nodes.values():
            for key, user in state.users.items():
                if room in user.rooms and not self._here(key, room):
                    listed.setdefault(key, user.nick)
        return list(listed.values())

    def find(self, nick: str) -> str | None:
        return next((user.nick for _, user in self._places(nick_key(nick))), None)

    def room_sizes(self) -> dict[str, int]:
        members: dict[str, set[str]] = {}
        for state in self.nodes.values():
            for key, user in state.users.items():
                for room in user.rooms:
                    if not self._here(key, room):
                        members.setdefault(room, set()).add(key)
        return {room: len(keys) for room, keys in members.items()}

    def sessions(self, nick: str) -> int:
        return sum(user.sessions for _, user in self._places(nick_key(nick)))

    def rooms_of(self, nick: str) -> set[str]:
        return {room for _, user in self._places(nick_key(nick)) for room in user.rooms}

    def in_room(self, nick: str, room: str) -> bool:
        return self._in_room_except(nick_key(nick), room, None)

    def away(self, nick: str) -> str | None:
        said = (user.away for _, user in self._places(nick_key(nick)))
        return next((away for away in said if away is not None), None)

    def idle_elsewhere(self, nick: str) -> bool:
        return all(user.idle for _, user in self._places(nick_key(nick)))

    def holds(self, node: str, boot: str, nick: str, room: str | None) -> bool:
        """Whether run ``boot`` of ``node`` has user ``nick``, spelled so (in ``room``,
        when one is named)."""
        state = self.nodes.get(node)
        user = state.users.get(nick_key(nick)) if state is not None and state.boot == boot else None
        return user is not None and user.nick == nick and (room is None or room in user.rooms)

    def _places(self, key: str) -> Iterator[tuple[str, _Remote]]:
        """Each other node where user ``key`` is, and the user there."""
        for node, state in self.nodes.items():
            user = state.users.get(key)
            if user is not None:
                yield node, user

    def _in_room_except(self, key: str, room: str, node: str | None) -> bool:
        """Whether user ``key`` is in ``room`` on another node than ``node``."""
        return any(room in user.rooms for where, user in self._places(key) if where != node)

    def _here(self, key: str, room: str) -> bool:
        """Whether user ``key`` is in ``room`` on this node (listed and counted here)."""
        user = self.hub.users.by_key.get(key) if self.hub is not None else None
        return user is not None and any(room in s.rooms for s in user.sessions)

    # --- events from the log, in stream order --------------------------------------------

    def _on_event(self, seq: int, payload: bytes) -> None:
        try:
            event = msgspec.json.decode(payload, type=_Event)
        except msgspec.DecodeError:  # not JSON, or not the shape (ValidationError)
            self._skips.skipped("presence event", seq, "not a charla event")
            return
        problem = _event_problem(event)
        if problem is not None:
            self._skips.skipped("presence event", seq, problem)
            return
        if event.ev == "account":
            if self._accounts is not None and event.key is not None:
                self._accounts.note(event.key, event.on)
            return
        ours = event.node == self.bus.node and event.boot == self.boot
        if not self.ready:
            # Before our own "online", state comes from the rosters that answer it.
            self.ready = ours and event.ev == "online"
            return
        if ours:
            if event.ev == "gone" and not self.closing:
                self._declared_gone()
            if event.ev in _WISHES:
                self._settle(_wish(event))
            return
        if event.ev == "gone":
            self._gone(event.node, event.boot)
            return
        self._apply(event)

    def _apply(self, event: _Event) -> None:
        now = time.monotonic()
        state = self.nodes.get(event.node)
        if state is not None and state.boot != event.boot:
            self._gone(event.node, state.boot)  # restarted: its earlier run is over
            state = None
        if event.ev == "online":
            # A node that just started has nobody yet: whatever it reports next is news.
            self.nodes[event.node] = _Node(event.boot, now, synced=True)
            self._publish_roster()
            return
        if state is None:
            state = self.nodes[event.node] = _Node(event.boot, now)
        state.last_seen = now
        if event.ev == "roster":
            # One node's parts follow each other in the log: apply them as one.
            state.parts.extend(event.users)
            state.part_states.extend(event.states or [_State()] * len(event.users))
            if not event.more:
                users, state.parts = state.parts, []
                states, state.part_states = state.part_states, []
                self._apply_roster(event.node, state, users, states)
        elif event.user is not None:
            self._apply_change(event.node, state, event)

    def _apply_change(self, node: str, state: _Node, event: _Event) -> None:
        nick = event.user or ""
        key = nick_key(nick)
        tell = self._announcer(node, state)
        if event.ev == "hello":
            state.users[key] = _Remote(nick, set(), sessions=event.n, away=event.away)
            self._user_changed(nick)  # sessions active there: not away by itself
            return
        user = state.users.get(key)
        if user is None:
            return
        if event.ev == "join" and event.room is not None:
            user.rooms.add(event.room)
            tell("join", nick, event.room)
        elif event.ev == "leave" and event.room is not None:
            user.rooms.discard(event.room)
            tell("leave", nick, event.room, reason=event.reason, quit=event.quit)
        elif event.ev == "quit":
            del state.users[key]
            for room in sorted(user.rooms):
                tell("leave", nick, room, quit=True)
            self._user_changed(nick)
        elif event.ev == "nick" and event.new is not None:
            del state.users[key]
            state.users[nick_key(event.new)] = _Remote(event.new, user.rooms, away=user.away)
            for room in sorted(user.rooms):
                tell("nick", nick, room, event.new)
        else:
            self._apply_user_change(user, event)

    def _apply_user_change(self, user: _Remote, event: _Event) -> None:
        """The events of a user who may have sessions on several nodes."""
        hub = self.hub
        if event.ev == "sessions":
            user.sessions = event.n
        elif _wish(event) in self._unsettled:
            return  # ours comes later in the stream: every node ends where ours says
        elif event.ev == "move" and event.room is not None and hub is not None:
            hub.users.follow(user.nick, event.room, joined=event.on)
        elif event.ev == "away":
            # Said on one node, true on all of them.
            for _, place in self._places(nick_key(user.nick)):
                place.away = event.away
            if hub is not None:
                hub.activity.away_elsewhere(user.nick, event.away)
        elif event.ev == "idle":
            user.idle = event.on
            self._user_changed(user.nick)

    def _user_changed(self, nick: str) -> None:
        """Sessions of ``nick`` came, went or idled on another node."""
        if self.hub is not None:
            self.hub.activity.idle_changed(nick)

    def _apply_roster(
        self, node: str, state: _Node, users: list[tuple[str, list[str]]], states: list[_State]
    ) -> None:
        tell = self._announcer(node, state)
        known = state.users
        state.users = {}
        for (nick, rooms), user_state in zip(users, states, strict=True):
            user = state.users[nick_key(nick)] = _Remote(nick, set(rooms))
            user.take(user_state)
        for key, user in known.items():
            kept = state.users[key].rooms if key in state.users else set()
            for room in sorted(user.rooms - kept):
                tell("leave", user.nick, room)
        for key, user in state.users.items():
            had = known[key].rooms if key in known else set()
            for room in sorted(user.rooms - had):
                tell("join", user.nick, room)
        state.synced = True
        for nick in {user.nick for user in (*known.values(), *state.users.values())}:
            self._user_changed(nick)

    def _announcer(self, node: str, state: _Node) -> _Tell:
        hub = self.hub if state.synced else None
        return _Tell(hub, lambda key, room: self._in_room_except(key, room, node))

    def _publish_roster(self) -> None:
        assert self.hub is not None
        users: list[tuple[str, list[str]]] = []
        states: list[_State] = []
        for conn in self.hub.nicks.values():
            if conn.nick is None or nick_key(conn.nick) not in self.announced:
                continue
            users.append((conn.nick, sorted(conn.rooms)))
            states.append(_state_of(conn.user))
        for start in range(0, max(1, len(users)), ROSTER_PART):
            part = users[start : start + ROSTER_PART]
            more = start + ROSTER_PART < len(users)
            state_part = states[start : start + ROSTER_PART]
            self._publish("roster", users=part, states=state_part, more=more)

    def _gone(self, node: str, boot: str) -> None:
        """Node ``node`` (run ``boot``) is dead: its users leave, their nicks are free."""
        self.dead.add((node, boot))
        state = self.nodes.get(node)
        if state is None or state.boot != boot:
            return
        del self.nodes[node]
        log.warning("node %s is gone: %d users leave", node, len(state.users))
        tell = self._announcer(node, state)
        for user in state.users.values():
            for room in sorted(user.rooms):
                tell("leave", user.nick, room, quit=True)  # their connections are gone
            self._user_changed(user.nick)
        self._spawn(self._free_claims(node, boot, list(state.users)))

    def _declared_gone(self) -> None:
        """The others took us for dead (we were cut off longer than ``dead_after``):
        tell them who is here again, and take our nicks back."""
        log.warning("this node was declared gone by the cluster: announcing its users again")
        self._publish_roster()
        self._spawn(self._refresh_claims())

    # --- liveness --------------------------------------------------------------------------

    async def _beat_forever(self) -> None:
        assert self.bus.nc is not None
        beat = _encode(_Beat(node=self.bus.node, boot=self.boot))
        while True:
            if self.bus.connected:
                with contextlib.suppress(Exception):
                    await self.bus.nc.publish(self.settings.heartbeat_subject, beat)
            await asyncio.sleep(self.settings.heartbeat)

    async def _on_beat(self, msg: Msg) -> None:
        try:
            beat = msgspec.json.decode(msg.data, type=_Beat)
        except msgspec.DecodeError:  # not JSON, or not the shape (ValidationError)
            return
        if not valid_origin(beat.node, beat.boot):
            self._skips.skipped("heartbeat", "", "invalid node name or boot id")
            return
        now = time.monotonic()
        same_name = beat.node == self.bus.node and beat.boot != self.boot
        if same_name and (beat.node, beat.boot) not in self.heard:
            log.error("another node is also named %s: give each a unique --node-name", beat.node)
        self.heard[(beat.node, beat.boot)] = now
        state = self.nodes.get(beat.node)
        if state is not None and state.boot == beat.boot:
            state.last_seen = now

    def _reconnected(self) -> None:
        if self._unreleased:
            self._spawn(self._release_leftovers())
        # Nobody could be heard while we were away: count silence from now.
        now = time.monotonic()
        for state in self.nodes.values():
            state.last_seen = now

    async def _sweep_forever(self) -> None:
        period = min(1.0, self.settings.heartbeat / 2)
        while True:
            await asyncio.sleep(period)
            if self.bus.connected and self.ready:
                self._sweep(time.monotonic())

    def _sweep(self, now: float) -> None:
        limit = self.settings.dead_after
        for node, state in self.nodes.items():
            silent = now - state.last_seen
            if silent <= limit or now - self._declared.get(node, -limit) < limit:
                continue
            log.warning("node %s silent for %.1f s: declaring it gone", node, silent)
            self._declared[node] = now
            self._declare_gone(node, state.boot)

    def _declare_gone(self, node: str, boot: str) -> None:
        event = _Event(ev="gone", node=node, boot=boot)
        # One id for every survivor's declaration: the stream keeps one.
        self.bus.publish_event(_encode(event), msg_id=f"gone.{node}.{boot}")

    # --- nick claims -----------------------------------------------------------------------

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.claim_ttl / 4)
            await self._refresh_claims()

    async def _refresh_claims(self) -> None:
        assert self._nicks is not None
        for key, (nick, revision) in list(self.claims.items()):
            value = _encode(_Claim(nick=nick, node=self.bus.node, boot=self.boot))
            try:
                try:
                    revision = await self._nicks.update(name_token(key), value, last=revision)
                except nats.js.errors.KeyWrongLastSequenceError:
                    fresh = await self._create_or_take_over(key, value)
                    if fresh is None:
                        log.warning("lost the nick claim of %s to another node", nick)
                        continue
                    revision = fresh
            except (nats.errors.Error, OSError) as exc:
                log.debug("refreshing claims: %s", exc)
                return
            if key in self.claims:
                self.claims[key] = (nick, revision)

    async def _delete_claim(self, key: str, revision: int) -> None:
        assert self._nicks is not None
        try:
            await self._nicks.delete(name_token(key), last=revision)
        except nats.js.errors.KeyWrongLastSequenceError:
            pass  # someone else holds it by now
        except (nats.errors.Error, OSError) as exc:
            log.debug("releasing the claim of %s: %s (retried on reconnect)", key, exc)
            self._unreleased[key] = revision

    async def _release_leftovers(self) -> None:
        leftovers, self._unreleased = self._unreleased, {}
        for key, revision in leftovers.items():
            if key not in self.claims:
                await self._delete_claim(key, revision)

    async def _free_claims(self, node: str, boot: str, keys: list[str]) -> None:
        assert self._nicks is not None
        for key in keys:
            try:
                entry = await self._nicks.get(name_token(key))
                holder = _read_claim(entry.value)
                if holder is not None and (holder.node, holder.boot) == (node, boot):
                    await self._nicks.delete(name_token(key), last=entry.revision)
            except (nats.errors.Error, OSError) as exc:
                log.debug("freeing the claim of %s: %s", key, exc)

    def _spawn(self, coro: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(self._guard(coro))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _guard(self, coro: Coroutine[object, object, None]) -> None:
        try:
            await coro
        except Exception:
            log.exception("cluster presence")


async def _bucket(bus: NatsBus, name: str, ttl: float | None = None) -> KeyValue:
    """Open KV bucket ``name``, creating it when it does not exist yet (the first node
    creates it; the others use it as it is)."""
    assert bus.js is not None
    try:
        return await bus.js.key_value(name)
    except nats.js.errors.BucketNotFoundError:
        return await bus.js.create_key_value(bucket=name, history=1, ttl=ttl)


#: Events that say what a user asked for.
_WISHES = frozenset({"move", "away"})


def _wish(event: _Event) -> tuple[str, str, str]:
    """What a ``move`` or ``away`` event is about: the latest in the stream wins."""
    return event.ev, nick_key(event.user or ""), event.room or ""


def _state_of(user: User | None) -> _State:
    """How ``user`` is on this node, for a roster."""
    if user is None:
        return _State()
    said = None if user.auto_away else user.away
    return _State(n=min(len(user.sessions), MAX_SESSIONS) or 1, away=said, idle=user.idle)


@dataclass(frozen=True, slots=True)
class _Tell:
    """Announces what a user of another node did to this node's members of the room
    (nobody, before that node's roster is applied)."""

    hub: Hub | None
    #: Whether the user (nick key) is in the room on a node other than the one it left.
    elsewhere: Callable[[str, str], bool]

    def __call__(
        self,
        event: str,
        user: str,
        room: str,
        new: str | None = None,
        *,
        reason: str | None = None,
        quit: bool = False,
    ) -> None:
        # A user still in the room on a third node neither joins nor leaves it.
        if self.hub is None or (event != "nick" and self.elsewhere(nick_key(user), room)):
            return
        self.hub.announce_elsewhere(event, user, room, new=new, reason=reason, quit=quit)
