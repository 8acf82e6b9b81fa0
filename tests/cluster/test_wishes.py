"""What a user asks for on two nodes at once (a join here, a part there) ends as the
stream orders it, on both: events fed by hand to one node's presence, no NATS needed."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import msgspec
import pytest

pytest.importorskip("nats", reason="the cluster modules need nats-py (the cluster extra)")

from charla.cluster.presence import ClusterPresence
from charla.cluster.settings import ClusterSettings


class _Bus:
    """What the presence needs of the bus: a name, and somewhere to publish."""

    def __init__(self) -> None:
        self.settings = ClusterSettings(url="nats://127.0.0.1", node="a")
        self.node = "a"
        self.boot = "0a"
        self.published: list[bytes] = []

    def publish_event(self, payload: bytes, *, msg_id: str | None = None) -> None:
        self.published.append(payload)


def _presence() -> tuple[ClusterPresence, list[tuple[str, str, bool]]]:
    followed: list[tuple[str, str, bool]] = []
    hub = SimpleNamespace(
        users=SimpleNamespace(
            by_key={},
            follow=lambda nick, room, *, joined: followed.append((nick, room, joined)),
        ),
        activity=SimpleNamespace(idle_changed=lambda nick: None),
        announce_elsewhere=lambda *args, **kw: None,
    )
    presence = ClusterPresence(_Bus())  # type: ignore[arg-type]
    presence.hub = hub  # type: ignore[assignment]
    presence.ready = True
    return presence, followed


def _feed(presence: ClusterPresence, node: str, **fields: Any) -> None:
    boot = "0a" if node == "a" else "0b"
    event = msgspec.json.encode({"node": node, "boot": boot, **fields})
    presence._on_event(0, event)


def test_a_move_from_elsewhere_before_ours_in_the_stream_is_outdone() -> None:
    presence, followed = _presence()
    _feed(presence, "b", ev="hello", user="ana")
    presence.moved("ana", "dev", True)  # ana joins dev here...
    _feed(presence, "b", ev="move", user="ana", room="dev", on=False)  # ...and parts on b
    assert followed == []  # ours comes later in the stream: b will follow it
    _feed(presence, "a", ev="move", user="ana", room="dev", on=True)  # ours, back
    _feed(presence, "b", ev="move", user="ana", room="dev", on=False)  # later: it wins
    assert followed == [("ana", "dev", False)]
