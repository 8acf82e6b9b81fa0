"""TLS, the server password, registered nicks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import ssl
import subprocess
from pathlib import Path

import pytest
import trustme

from charla.protocol import Error, Message, System, Users, Welcome

from ..helpers import Peer, charla_cmd, make_config, running, subprocess_env


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_files(tmp_path: Path, ca: trustme.CA) -> tuple[Path, Path, Path]:
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_path, key_path, ca_path = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    ca.cert_pem.write_to_path(str(ca_path))
    return cert_path, key_path, ca_path


async def test_tls_welcomes_a_verifying_client_and_not_a_plaintext_one(
    tmp_path: Path, tls_files: tuple[Path, Path, Path]
) -> None:
    cert, key, ca_path = tls_files
    async with running(make_config(tmp_path, tls_cert=cert, tls_key=key)) as server:
        context = ssl.create_default_context(cafile=str(ca_path))
        secure = await Peer.connect(server.port, ssl=context, server_hostname="127.0.0.1")
        welcome, _ = await secure.hello("ana")
        assert welcome.nick == "ana"
        plain = await Peer.connect(server.port)
        await plain.send({"type": "hello", "nick": "bob"})
        with pytest.raises((AssertionError, ConnectionError, ValueError)):
            await plain.expect(Welcome, timeout=5)
        # A client that does not trust the certificate refuses to talk.
        with pytest.raises(ssl.SSLError):
            await Peer.connect(server.port, ssl=ssl.create_default_context())
        # The line client over TLS, verifying with the test CA.
        result = await asyncio.to_thread(
            subprocess.run,
            charla_cmd(
                "join",
                "--port",
                str(server.port),
                "--tls",
                "--tls-ca",
                str(ca_path),
                "--nick",
                "tlsbot",
            ),
            input="cifrado\n",
            capture_output=True,
            text=True,
            env=subprocess_env(),
            timeout=30,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert (await secure.expect(Message, user="tlsbot")).text == "cifrado"
        await secure.close()


async def test_a_client_without_tls_at_a_tls_server_is_told_to_try_tls(
    tmp_path: Path, tls_files: tuple[Path, Path, Path]
) -> None:
    cert, key, _ = tls_files
    async with running(make_config(tmp_path, tls_cert=cert, tls_key=key)) as server:
        result = await asyncio.to_thread(
            subprocess.run,
            charla_cmd("join", "--port", str(server.port), "--nick", "ana", "--lang", "es"),
            input="hola\n",
            capture_output=True,
            text=True,
            env=subprocess_env(),
            timeout=30,
        )
    assert result.returncode == 1
    assert "!! el servidor cerró la conexión (¿usa TLS? prueba con --tls)" in result.stdout


async def test_a_tls_client_leaving_leaves_no_warning_in_the_log(
    tmp_path: Path, tls_files: tuple[Path, Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    # Keeping a half-closed socket open is a plain-TCP thing; over TLS asyncio warned
    # "returning true from eof_received() has no effect" for every client that left.
    cert, key, ca_path = tls_files
    async with running(make_config(tmp_path, tls_cert=cert, tls_key=key)) as server:
        context = ssl.create_default_context(cafile=str(ca_path))
        watcher = await Peer.connect(server.port, ssl=context, server_hostname="127.0.0.1")
        await watcher.hello("bob")
        peer = await Peer.connect(server.port, ssl=context, server_hostname="127.0.0.1")
        await peer.hello("ana")
        with caplog.at_level(logging.WARNING):
            await peer.close()
            await watcher.expect(System, event="leave", user="ana")
        await watcher.close()
    assert "eof_received" not in caplog.text


async def test_server_password(tmp_path: Path) -> None:
    async with running(make_config(tmp_path, server_password="s3cret")) as server:
        for attempt in (None, "wrong"):
            peer = await Peer.connect(server.port)
            hello = {"type": "hello", "nick": "ana"}
            if attempt:
                hello["server_password"] = attempt
            await peer.send(hello)
            frames = await peer.until_closed()
            assert [f.code for f in frames if isinstance(f, Error)] == ["bad_password"]
        peer = await Peer.connect(server.port)
        welcome, _ = await peer.hello("ana", server_password="s3cret")
        assert welcome.nick == "ana"
        await peer.close()


async def test_register_then_only_the_password_holder_gets_the_nick(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        ana = await Peer.connect(server.port)
        await ana.hello("ana")
        await ana.say("/register corto")
        assert (await ana.expect(Error)).code == "password_too_short"
        await ana.say("/registrar contraseña-larga")
        registered = await ana.expect(System, event="registered")
        assert registered.user == "ana"
        await ana.say("/register otra-mas-larga")
        assert (await ana.expect(Error)).code == "nick_registered"
        await ana.close()

        impostor = await Peer.connect(server.port)
        await impostor.send({"type": "hello", "nick": "ANA"})
        assert (await impostor.expect(Error)).code == "nick_registered"
        await impostor.send({"type": "hello", "nick": "ana", "password": "guess1234"})
        assert (await impostor.expect(Error)).code == "bad_password"
        welcome, _ = await impostor.hello("impostor")  # may try another nick
        await impostor.say("/nick Ana")
        assert (await impostor.expect(Error)).code == "nick_registered"
        await impostor.close()

        owner = await Peer.connect(server.port)
        welcome, _ = await owner.hello("ana", password="contraseña-larga")
        assert welcome.nick == "ana"
        await owner.say("/passwd mala nueva-clave-1")
        assert (await owner.expect(Error)).code == "bad_password"
        await owner.say("/clave contraseña-larga nueva-clave-1")
        await owner.expect(System, event="password_changed")
        await owner.close()

        owner = await Peer.connect(server.port)
        await owner.hello("ana", password="nueva-clave-1")
        await owner.say("/unregister nueva-clave-1")
        await owner.expect(System, event="unregistered")
        await owner.close()
        anyone = await Peer.connect(server.port)
        welcome, _ = await anyone.hello("ana")
        assert welcome.nick == "ana"
        await anyone.close()
    # Neither password is anywhere in the database files, only argon2id hashes.
    for path in tmp_path.glob("charla.db*"):
        data = path.read_bytes()
        assert "contraseña-larga".encode() not in data and b"nueva-clave-1" not in data
    conn = sqlite3.connect(tmp_path / "charla.db")
    assert conn.execute("SELECT count(*) FROM accounts").fetchone()[0] == 0  # unregistered


async def test_registration_survives_a_restart_and_hashes_are_argon2id(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        ana = await Peer.connect(server.port)
        await ana.hello("ana")
        await ana.say("/register una-clave-buena")
        await ana.expect(System, event="registered")
        await ana.close()
    (stored,) = (
        sqlite3.connect(tmp_path / "charla.db").execute("SELECT hash FROM accounts").fetchone()
    )
    assert stored.startswith("$argon2id$") and "una-clave-buena" not in stored
    async with running(make_config(tmp_path)) as server:
        peer = await Peer.connect(server.port)
        await peer.send({"type": "hello", "nick": "ana"})
        assert (await peer.expect(Error)).code == "nick_registered"
        await peer.close()


async def test_password_guessing_is_limited_per_address(tmp_path: Path) -> None:
    async with running(make_config(tmp_path, max_auth_failures=3)) as server:
        owner = await Peer.connect(server.port)
        await owner.hello("ana")
        await owner.say("/register la-buena-clave")
        await owner.expect(System, event="registered")
        await owner.close()
        guesser = await Peer.connect(server.port)
        for i in range(3):
            await guesser.send({"type": "hello", "nick": "ana", "password": f"guess-{i}xx"})
            assert (await guesser.expect(Error)).code == "bad_password"
        await guesser.send({"type": "hello", "nick": "ana", "password": "la-buena-clave"})
        frames = await guesser.until_closed()
        assert [f.code for f in frames if isinstance(f, Error)] == ["too_many_attempts"]


async def test_clients_take_the_password_from_the_environment(tmp_path: Path) -> None:
    async with running(make_config(tmp_path)) as server:
        owner = await Peer.connect(server.port)
        await owner.hello("ana")
        await owner.say("/register desde-el-entorno")
        await owner.expect(System, event="registered")
        await owner.close()
        watcher = await Peer.connect(server.port)
        await watcher.hello("watcher")

        def join(**env: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                charla_cmd("join", "--port", str(server.port), "--nick", "ana", "--plain"),
                input="soy yo\n",
                capture_output=True,
                text=True,
                env=subprocess_env(**env),
                timeout=30,
            )

        refused = await asyncio.to_thread(join)
        assert refused.returncode == 1 and "registrado" in refused.stdout
        accepted = await asyncio.to_thread(join, CHARLA_PASSWORD="desde-el-entorno")
        assert accepted.returncode == 0, accepted.stdout
        assert (await watcher.expect(Message, user="ana")).text == "soy yo"
        await watcher.close()


async def test_frames_sent_while_a_password_is_checked_wait_for_the_answer(
    tmp_path: Path,
) -> None:
    # A second hello in the same write as a registered nick's hello used to be handled
    # while the password was being checked: the connection got both nicks, and the
    # first one stayed taken (a ghost) after it left.
    async with running(make_config(tmp_path)) as server:
        owner = await Peer.connect(server.port)
        await owner.hello("ana")
        await owner.say("/register una-clave-buena")
        await owner.expect(System, event="registered")
        await owner.close()
        peer = await Peer.connect(server.port)
        await peer.send(
            b'{"type":"hello","nick":"ana","password":"una-clave-buena"}\n'
            b'{"type":"hello","nick":"bob"}\n{"type":"say","text":"hola"}\n'
        )
        welcome = await peer.expect(Welcome)
        assert welcome.nick == "ana"
        assert (await peer.expect(Error)).code == "already_welcomed"
        await peer.sync()  # the say is handled, as ana
        await peer.close()
        bob = await Peer.connect(server.port)
        _, (history,) = await bob.hello("bob")  # free: nobody ever held it
        assert [(m.user, m.text) for m in history.messages] == [("ana", "hola")]
        await bob.say("/usuarios")
        assert (await bob.expect(Users)).users == ["bob"]
        await bob.close()


async def test_sockets_that_never_finish_the_tls_handshake_are_capped_and_timed_out(
    tmp_path: Path, tls_files: tuple[Path, Path, Path]
) -> None:
    # Caps apply when the socket is accepted, before TLS; the handshake timeout covers
    # the TLS handshake. They used to wait for asyncio's own 60 s, uncounted.
    cert, key, ca_path = tls_files
    config = make_config(tmp_path, tls_cert=cert, tls_key=key, max_per_ip=20, handshake_timeout=0.5)
    async with running(config) as server:
        assert server.hub is not None
        silent = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(120)]

        async def closed_by_server(reader: asyncio.StreamReader) -> bool:
            with contextlib.suppress(ConnectionError):
                return await asyncio.wait_for(reader.read(1), 10) == b""
            return True

        assert all(await asyncio.gather(*(closed_by_server(r) for r, _ in silent)))
        assert len(server.hub.admission) == 0
        assert server.hub.metrics.refused == 100
        # The slots are free again: a real TLS client gets in.
        context = ssl.create_default_context(cafile=str(ca_path))
        secure = await Peer.connect(server.port, ssl=context, server_hostname="127.0.0.1")
        welcome, _ = await secure.hello("ana")
        assert welcome.nick == "ana"
        await secure.close()
        for _, writer in silent:
            writer.close()
