"""The connection's rules with no I/O: both halves, bytes passed straight between them."""

from __future__ import annotations

import pytest

from charla.protocol import (
    PAUSED,
    Bye,
    ClientConnection,
    ClientPong,
    ClientUsers,
    Error,
    Goodbye,
    Hello,
    LocalProtocolError,
    Ping,
    Rejected,
    Say,
    ServerConnection,
    State,
    Welcome,
    encode,
)
from charla.protocol.frames import ServerInfo

INFO = ServerInfo(name="charla", version="0")


def test_a_client_must_say_hello_first_and_nothing_after_quitting() -> None:
    client = ClientConnection(max_line=1024)
    with pytest.raises(LocalProtocolError):
        client.send(Say(text="hola"))
    client.send(Hello(nick="ana"))
    assert client.state is State.GREETING
    client.send(Say(text="pipelined after hello"))  # allowed: the server orders it
    client.receive_data(encode(Welcome(nick="ana", server=INFO)))
    assert client.state is State.WELCOMED
    client.send(Say(text="/salir"))
    assert client.state is State.QUITTING
    with pytest.raises(LocalProtocolError):
        client.send(Say(text="too late"))


def test_a_refused_hello_lets_the_client_try_another() -> None:
    client = ClientConnection(max_line=1024)
    client.send(Hello(nick="ana"))
    client.receive_data(encode(Error(code="nick_taken", message="taken")))
    assert client.state is State.NEW
    client.send(Hello(nick="ana2"))


def test_the_client_answers_keepalive_pings_itself() -> None:
    client = ClientConnection(max_line=1024)
    assert client.receive_data(encode(Ping(token="k"))) == []
    assert client.data_to_send() == encode(ClientPong(token="k"))


def test_unknown_server_frames_are_skipped() -> None:
    client = ClientConnection(max_line=1024)
    assert client.receive_data(b'{"type":"from_the_future"}\n') == []


def _server(**options: int) -> ServerConnection:
    return ServerConnection(max_line=1024, **options)


def test_only_hello_is_handled_before_welcome() -> None:
    server = _server()
    server.receive_data(b'{"type":"users","label":"u"}\n{"type":"hello","nick":"ana"}\n')
    event = server.next_event()
    assert isinstance(event, Rejected) and event.error.code == "not_welcomed"
    assert event.label == "u"
    assert isinstance(server.next_event(), Hello)
    assert server.state is State.GREETING


def test_nothing_runs_while_the_hello_is_decided() -> None:
    server = _server()
    server.receive_data(b'{"type":"hello","nick":"ana"}\n{"type":"users"}\n')
    server.next_event()
    assert server.next_event() is PAUSED
    server.send(Welcome(nick="ana", server=INFO))
    assert isinstance(server.next_event(), ClientUsers)


def test_a_second_hello_is_refused() -> None:
    server = _server()
    server.receive_data(b'{"type":"hello","nick":"ana"}\n{"type":"hello","nick":"bea"}\n')
    server.next_event()
    server.send(Welcome(nick="ana", server=INFO))
    event = server.next_event()
    assert isinstance(event, Rejected) and event.error.code == "already_welcomed"


def test_commands_become_typed_requests_with_the_say_label() -> None:
    server = _server()
    server.receive_data(b'{"type":"hello","nick":"ana"}\n')
    server.next_event()
    server.send(Welcome(nick="ana", server=INFO))
    server.receive_data(b'{"type":"say","text":"/usuarios dev","label":"l"}\n')
    assert server.next_event() == ClientUsers(room="dev", label="l")
    server.receive_data(b'{"type":"say","text":"//no command"}\n')
    assert server.next_event() == Say(text="/no command")


def test_work_in_progress_holds_what_follows() -> None:
    server = _server()
    server.receive_data(b'{"type":"hello","nick":"ana"}\n')
    server.next_event()
    server.send(Welcome(nick="ana", server=INFO))
    server.receive_data(b'{"type":"join","room":"x"}\n{"type":"say","text":"hi"}\n')
    server.next_event()
    server.begin_work()
    assert server.next_event() is PAUSED
    server.end_work()
    assert isinstance(server.next_event(), Say)


def test_end_of_input_quits_after_what_came_before() -> None:
    server = _server()
    server.receive_data(b'{"type":"ping"}\n')
    server.receive_eof()
    assert server.next_event() is not PAUSED  # the ping
    assert server.next_event().reason == "eof"  # type: ignore[union-attr]  # the quit
    assert isinstance(server.next_event(), Goodbye)
    server.send(Bye(reason="eof"))
    assert server.state is State.CLOSED and server.next_event() is PAUSED


def test_a_flood_is_only_what_cannot_run() -> None:
    server = _server(max_queued=2)
    server.receive_data(b'{"type":"ping"}\n' * 5)
    with pytest.raises(Exception, match="too many"):
        server.check_backlog()
    for _ in range(5):
        server.next_event()
    server.check_backlog()
