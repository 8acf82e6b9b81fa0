"""What a node accepts from NATS, and how it keeps NATS secrets out of sight (no NATS
server needed)."""

from __future__ import annotations

import logging
from pathlib import Path

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
