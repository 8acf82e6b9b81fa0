"""The client's half of the connection, without sockets: what it refuses to send, and
what it does with what the server sends."""

from __future__ import annotations

import pytest

from charla.protocol import (
    ClientConnection,
    ClientPing,
    ClientUsers,
    Hello,
    LocalProtocolError,
    Say,
    State,
    decode_client_frame,
)

WELCOME = b'{"type":"welcome","nick":"ana","server":{"name":"c","version":"2"}}\n'
REFUSED = b'{"type":"error","code":"nick_taken","message":"taken"}\n'


def welcomed() -> ClientConnection:
    conn = ClientConnection(max_line=4096)
    conn.send(Hello(nick="ana"))
    conn.receive_data(WELCOME)
    return conn


def test_nothing_but_hello_or_ping_goes_first() -> None:
    conn = ClientConnection(max_line=4096)
    with pytest.raises(LocalProtocolError):
        conn.send(Say(text="hola"))
    assert conn.send(ClientPing(token="t"))
    conn.send(Hello(nick="ana"))
    # Requests may follow the hello before its welcome: the server keeps their order.
    assert decode_client_frame(conn.send(Say(text="hola"))) == Say(text="hola")


def test_a_second_hello_only_after_a_refusal() -> None:
    conn = ClientConnection(max_line=4096)
    conn.send(Hello(nick="ana"))
    with pytest.raises(LocalProtocolError):
        conn.send(Hello(nick="ana"))
    conn.receive_data(REFUSED)
    assert conn.state is State.NEW
    conn.send(Hello(nick="ana_"))
    conn.receive_data(WELCOME)
    assert conn.state is State.WELCOMED
    with pytest.raises(LocalProtocolError):
        conn.send(Hello(nick="otra"))


def test_after_quitting_only_pings() -> None:
    conn = welcomed()
    conn.send(Say(text="/salir"))
    assert conn.state is State.QUITTING
    with pytest.raises(LocalProtocolError):
        conn.send(Say(text="hola"))
    assert conn.send(ClientPing(token="barrier"))


def test_a_command_it_cannot_parse_is_left_to_the_server() -> None:
    conn = welcomed()
    for text in ("/nosuch", "/unirse"):  # unknown; missing its argument
        assert decode_client_frame(conn.send(Say(text=text))) == Say(text=text)
    assert conn.state is State.WELCOMED


def test_a_label_that_is_not_one_is_refused_before_sending() -> None:
    conn = welcomed()
    with pytest.raises(LocalProtocolError):
        conn.send(ClientUsers(room="general", label="a\nb"))
    labels = {conn.next_label() for _ in range(3)}
    assert len(labels) == 3


def test_the_servers_pings_are_answered_and_unknown_frames_skipped() -> None:
    conn = welcomed()
    frames = conn.receive_data(
        b'{"type":"ping","token":"k"}\n{"type":"newfangled"}\n'
        b'{"type":"users","room":"general","users":["ana"],"label":"c1"}\n'
    )
    assert [type(f).__name__ for f in frames] == ["Users"]
    assert frames[0].label == "c1"
    assert conn.data_to_send() == b'{"type":"pong","token":"k"}\n'
    assert conn.data_to_send() == b""
