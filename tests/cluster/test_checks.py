"""What a node accepts from NATS, and how it keeps NATS secrets out of sight (no NATS
server needed)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import argon2
import msgspec
import pytest

from charla.bus import BusUnavailable
from charla.cluster.checks import SkipLog, valid_key, valid_nick, valid_room, valid_text
from charla.cluster.settings import has_credentials, safe_url
from charla.protocol import nick_key

pytest.importorskip("nats", reason="the cluster modules need nats-py (the cluster extra)")

from charla.cluster.accounts import ClusterAccounts
from charla.cluster.connect import load_credentials


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("nats://u:secret@127.0.0.1:4222", "nats://127.0.0.1:4222"),
        ("tls://tok@nats1:4222, nats://a:b@nats2", "tls://nats1:4222,nats://nats2"),
        ("nats://127.0.0.1:4222", "nats://127.0.0.1:4222"),
    ],
)
def test_urls_are_logged_without_their_credentials(url: str, shown: str) -> None:
    assert safe_url(url) == shown
    assert has_credentials(url) == (url.replace(" ", "") != shown)


def test_a_credentials_file_gives_user_and_password_or_token(tmp_path: Path) -> None:
    path = tmp_path / "n1.creds"
    path.write_text("# node n1\nuser = n1\npassword=p=w\n\n")
    assert load_credentials(path) == {"user": "n1", "password": "p=w"}
    path.write_text("token=abc\n")
    assert load_credentials(path) == {"token": "abc"}
    path.write_text("-----BEGIN NATS USER JWT-----\neyJ...\n------END NATS USER JWT------\n")
    assert load_credentials(path) == {"user_credentials": str(path)}


@pytest.mark.parametrize("text", ["hunter2-secret\n", "user=n1\n", "pass=hunter2-secret\n"])
def test_a_bad_credentials_file_is_refused_without_echoing_it(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.creds"
    path.write_text(text)
    with pytest.raises(BusUnavailable) as refused:
        load_credentials(path)
    assert str(path) in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_only_what_a_node_writes_is_valid() -> None:
    assert valid_nick("ana") and not valid_nick("Ana\x1b") and not valid_nick("a b")
    assert valid_room("café") and not valid_room("Café") and not valid_room("#x")
    assert valid_text("hola\tmundo", 10) and not valid_text("x" * 11, 10)
    assert not valid_text("\x1b[2J", 10) and not valid_text("a\u202eb", 10)
    # Keys of valid nicks, even those casefolding makes longer or decomposes.
    for nick in ("Ana", "ß" * 32, "İrem"):
        assert valid_key(nick_key(nick)), nick
    assert not valid_key("Ana") and not valid_key("a b") and not valid_key("a\x1b")


def test_skipped_input_is_logged_at_most_once_per_period(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    skips = SkipLog(logging.getLogger("test.skips"), every=10.0, clock=lambda: now[0])
    for seq in range(5):
        skips.skipped("stream message", seq, "invalid text")
    now[0] += 10.0
    skips.skipped("stream message", 9, "invalid sender")
    assert [r.getMessage() for r in caplog.records] == [
        "skipping stream message 0 from NATS: invalid text",
        "skipping stream message 9 from NATS: invalid sender (and 4 more since the last warning)",
    ]


class _FakeKV:
    def __init__(self, keys: list[str]) -> None:
        self._keys = keys

    async def keys(self) -> list[str]:
        return self._keys


async def test_account_keys_that_are_no_nick_keys_are_skipped() -> None:
    accounts = ClusterAccounts(lambda key, on: None)
    await accounts.open(_FakeKV(["616e61", "zz", "6120", "ff"]))  # type: ignore[arg-type]
    assert accounts.is_registered("Ana")
    assert not accounts.is_registered("a ")


def test_an_account_record_must_hold_a_hash_charla_would_write() -> None:
    accounts = ClusterAccounts(lambda key, on: None)
    hasher = argon2.PasswordHasher()
    good = hasher.hash("password1")

    def record(nick: str, hashed: str) -> bytes:
        return msgspec.json.encode({"nick": nick, "hash": hashed})

    assert accounts._stored_hash("ana", record("Ana", good)) == good
    costly = good.replace(f"m={hasher.memory_cost},", "m=4000000000,")
    for value in (
        b"not json",
        record("Ana", "$argon2id$nonsense"),
        record("Bea", good),  # another nick's record under ana's key
        record("Ana", costly),  # a forged hash that would cost a node gigabytes
    ):
        assert accounts._stored_hash("ana", value) is None, value


def test_presence_events_of_several_sessions_hold_only_what_a_node_writes() -> None:
    from charla.cluster.presence import _Event, _event_problem, _State

    def problem(**fields: object) -> str | None:
        return _event_problem(_Event(node="n1", boot="0a", **fields))  # type: ignore[arg-type]

    assert problem(ev="sessions", user="ana", n=3) is None
    assert problem(ev="away", user="ana", away="comiendo") is None
    assert problem(ev="away", user="ana", away="") is None  # away without a message
    assert problem(ev="move", user="ana", room="dev", on=True) is None
    assert problem(ev="sessions", user="ana", n=0) == "invalid session count"
    assert problem(ev="sessions", user="ana", n=10**9) == "invalid session count"
    assert problem(ev="away", user="ana", away="\x1b[2J") == "invalid away message"
    assert problem(ev="away", user="ana", away="x" * 301) == "invalid away message"
    assert problem(ev="move", user="ana") == "move without its user/room"
    roster = [("ana", ["general"]), ("beto", [])]
    assert problem(ev="roster", users=roster, states=[_State(n=2), _State()]) is None
    assert problem(ev="roster", users=roster, states=[_State()]) is not None
    assert problem(ev="roster", users=roster, states=[_State(), _State(away="\x07")]) is not None


def test_a_leave_carries_only_a_reason_a_room_is_told() -> None:
    from charla.cluster.presence import _Event, _event_problem

    def problem(**fields: object) -> str | None:
        event = _Event(node="n1", boot="0a", user="ana", **fields)  # type: ignore[arg-type]
        return _event_problem(event)

    assert problem(ev="leave", room="dev", reason="me voy", quit=True) is None
    assert problem(ev="leave", room="dev", quit=True) is None  # a dropped connection
    for reason in ("\x1b[2J", "x" * 301, "dos\nlíneas", " espacio", "", "\u202e"):
        assert problem(ev="leave", room="dev", reason=reason) == "invalid leave reason", reason
    assert problem(ev="join", room="dev", reason="hola") == "a reason or quit on join"
    assert problem(ev="hello", quit=True) == "a reason or quit on hello"


def test_every_reason_a_room_is_told_passes_the_other_nodes_checks() -> None:
    """A node checks a leave's reason by telling it again: a reason told once must come
    out the same, or the other nodes skip the leave and keep the user in the room."""
    from charla.cluster.checks import valid_leave_reason
    from charla.server.rooms import MAX_LEAVE_REASON, leave_reason

    hostile = (
        "adiós \x1b ya",  # a control character between spaces
        "a \x00\x07 b",
        "x" * (MAX_LEAVE_REASON - 1) + " y",  # a space where the reason is cut
        "x" * (MAX_LEAVE_REASON - 1) + "\x1b" * 5 + " y",
        "\x1b hola \x1b",
        " a \t\n b ",
    )
    for text in hostile:
        told = leave_reason(text)
        assert told is not None and valid_leave_reason(told), repr(told)
        assert leave_reason(told) == told


def test_relays_hold_only_what_a_node_writes() -> None:
    from charla.cluster.relay import Relayed, relay_problem

    def problem(**fields: object) -> str | None:
        return relay_problem(Relayed(**{"node": "n1", "boot": "0a", "user": "ana", **fields}))  # type: ignore[arg-type]

    ref = "t0123456789abcdef"
    assert problem(room="dev", state="active") is None
    assert problem(to="bea", state="done") is None
    assert problem(room="dev", tags={"+x/y": "a b"}, ref=ref) is None
    assert problem(node="n\n1", room="dev", state="active") == "invalid node name or boot id"
    assert problem(state="active") == "neither or both of room and to"
    assert problem(room="dev", to="bea", state="active") == "neither or both of room and to"
    assert problem(user="ana\x1b[0m", room="dev", state="active") == "invalid nick"
    assert problem(to="b ea", state="active") == "invalid nick"
    assert problem(room="d\x07ev", state="active") == "invalid room"
    assert problem(room="dev", state="shouting") == "invalid typing"
    assert problem(room="dev", state="active", ref=ref) == "invalid typing"
    assert problem(room="dev") == "invalid tags"  # neither a typing nor tags
    assert problem(room="dev", tags={"+x": "1"}) == "invalid tags"  # no ref
    assert problem(room="dev", tags={"+x": "1"}, ref="\x1b[2J") == "invalid tags"
    assert problem(room="dev", tags={"label": "1"}, ref=ref) == "invalid tags"
    assert problem(room="dev", tags={"+x": "\r\n"}, ref=ref) == "invalid tags"
    assert problem(room="dev", tags={"+x": "x" * 9000}, ref=ref) == "invalid tags"


def test_read_markers_hold_only_what_a_node_writes() -> None:
    from charla.cluster.markers import Mark, mark_problem
    from charla.cluster.settings import ClusterSettings

    settings = ClusterSettings(url="nats://127.0.0.1")
    prefix = settings.read_prefix

    def problem(subject_key: str = "ana", **fields: object) -> str | None:
        mark = Mark(seq=100, **fields)  # type: ignore[arg-type]
        return mark_problem(mark, settings.read_subject(subject_key), prefix)

    assert problem(k="ana", c="#general", id=99) is None
    assert problem(k="ana", c="@beto", id=5, w="Beto") is None
    assert problem(k="ana", c="@beto", id=5) is None  # spelling unknown: counted, not told
    assert problem(k="ana") is None  # forget every marker of ana
    assert problem(k="ana", c="#general", id=100) == "invalid id"  # not past its own place
    assert problem(k="ana", c="#general", id=-1) == "invalid id"
    assert problem("beto", k="ana", c="#general", id=1) == "invalid user"
    assert problem(k="Ana", c="#general", id=1) == "invalid user"
    assert problem(k="ana", c="#General", id=1) == "invalid room"
    assert problem(k="ana", c="#general", id=1, w="beto") == "invalid room"
    assert problem(k="ana", c="%general", id=1) == "invalid conversation"
    assert problem(k="ana", c="@beto", id=1, w="carla") == "invalid other party"
    assert problem(k="ana", c="@beto", id=1, w="beto\x1b") == "invalid other party"
    assert problem(k="ana", id=3) == "invalid forget"


def test_a_moderation_entry_holds_modes_only_as_a_node_writes_them() -> None:
    from charla.cluster.moderation import entry_problem
    from charla.protocol import ModEntry

    def entry(action: str, **fields: Any) -> ModEntry:
        return ModEntry(
            ts="2024-05-01T10:00:00.000Z", action=action, by="ana", room="aula", **fields
        )

    assert entry_problem(entry("mode", open_topic=True, text="-t")) is None
    assert entry_problem(entry("mode", open_topic=False, slow=30, text="+s 30 +t")) is None
    assert entry_problem(entry("mode", text="-t")) == "invalid modes"  # a mode entry changing none
    # Modes on another entry: a node never writes them there.
    assert entry_problem(entry("topic", text="hola", open_topic=True)) == "invalid modes"
    assert entry_problem(entry("owner", nick="ana", invite_only=True)) == "invalid modes"
