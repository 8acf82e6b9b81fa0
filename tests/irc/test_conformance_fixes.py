"""What the IRC conformance suite (irctest) found the front-end answering wrongly."""

from __future__ import annotations

from charla.irc.messages import MAX_CLIENT_TAGS, parse
from charla.irc.session import IrcSession, Person
from charla.protocol import (
    ClientPing,
    ClientRooms,
    ClientUsers,
    Code,
    Error,
    Message,
    Msg,
    Pong,
    RoomInfo,
    Rooms,
    Say,
    ServerInfo,
    System,
    Topic,
    Welcome,
)

from .test_session import lines, options, registered


def test_a_user_line_with_an_empty_real_name_is_not_enough_parameters() -> None:
    session = IrcSession(options())
    session.receive_line("NICK ana")
    session.receive_line("USER ana 0 * :")
    out, asked = session.take()
    (reply,) = [parse(line.decode().rstrip("\r\n")) for line in out]
    assert (reply.command, reply.params[1]) == ("461", "USER")
    assert asked == []  # no hello: not registered


def test_ping_without_a_token_is_no_origin_and_an_empty_token_comes_back_empty() -> None:
    session = registered()
    session.receive_line("PING")
    assert [m.command for m in lines(session)] == ["409"]
    session.receive_line("PING :")
    (pong,) = lines(session)
    assert (pong.command, pong.params) == ("PONG", ["charla", ""])


def test_client_tags_over_their_share_of_the_line_are_refused_with_417() -> None:
    session = registered()
    session.receive_line("@+big=" + "a" * MAX_CLIENT_TAGS + " PRIVMSG #general :hi")
    out, asked = session.take()
    assert [parse(line.decode().rstrip("\r\n")).command for line in out] == ["417"]
    assert asked == []  # nothing reached charla
    session.receive_line("@+small=a PRIVMSG #general :hi")
    assert session.take()[1] != []


def test_names_of_something_that_is_not_a_channel_ends_at_once_under_that_name() -> None:
    session = registered()
    session.receive_line("NAMES invalid,#real")
    out, asked = session.take()
    (end,) = [parse(line.decode().rstrip("\r\n")) for line in out]
    assert (end.command, end.params[1]) == ("366", "invalid")
    assert [type(f) for f in asked] == [ClientUsers]  # only #real is asked of charla


def test_list_with_channels_lists_only_those() -> None:
    session = registered()
    session.receive_line("LIST #b,#NOPE")
    (asked,) = session.take()[1]
    assert isinstance(asked, ClientRooms)
    rooms = [RoomInfo(name=name, users=1, joined=False) for name in ("a", "b")]
    session.receive_frame(Rooms(rooms=rooms, label=asked.label))
    listed = [m.params[1] for m in lines(session) if m.command == "322"]
    assert listed == ["#b"]


def test_a_reply_to_a_message_charla_does_not_know_is_said_without_the_reply() -> None:
    session = registered()
    session.receive_line("CAP REQ :echo-message labeled-response batch")
    session.take()
    session.receive_line("@label=L;+draft/reply=123 PRIVMSG #general :hi")
    session.receive_line("PING x")  # answered after the PRIVMSG, whatever happens to it
    say, barrier, ping_barrier = session.take()[1]
    assert isinstance(say, Say) and say.reply_to == 123 and isinstance(barrier, ClientPing)

    session.receive_frame(Error(code=Code.NO_SUCH_MESSAGE, message="no", label=say.label))
    out, (again, second_barrier) = session.take()
    assert out == []  # no error for the client
    assert isinstance(again, Say) and (again.text, again.reply_to) == ("hi", None)
    # The first barriers' answers do not end the response: the message is still out.
    for answered in (barrier, ping_barrier):
        session.receive_frame(Pong(token="barrier", label=answered.label))
    assert lines(session) == []
    echo = Message(id=9, user="ana", text="hi", ts="t", room="general", label=again.label)
    session.receive_frame(echo)
    session.receive_frame(Pong(token="barrier", label=second_barrier.label))
    said, pong = lines(session)
    assert (said.command, said.params, said.tags["label"]) == ("PRIVMSG", ["#general", "hi"], "L")
    assert pong.command == "PONG"


def test_a_message_to_yourself_comes_back_as_echo_and_as_delivery() -> None:
    session = registered()
    session.receive_line("CAP REQ :echo-message")
    session.take()
    session.receive_line("PRIVMSG ANA :note to self")
    (sent,) = session.take()[1]
    assert isinstance(sent, Msg)
    session.receive_frame(
        Message(id=3, user="ana", to="ana", text="note", ts="t", label=sent.label)
    )
    assert [m.command for m in lines(session)] == ["PRIVMSG", "PRIVMSG"]

    session.receive_line("CAP REQ :-echo-message")
    session.take()
    session.receive_line("PRIVMSG ana :again")
    (sent,) = session.take()[1]
    session.receive_frame(
        Message(id=4, user="ana", to="ana", text="again", ts="t", label=sent.label)
    )
    assert [m.params for m in lines(session)] == [["ana", "again"]]  # delivered, not echoed


def test_the_topic_of_a_channel_nobody_uses_is_no_such_channel() -> None:
    session = registered()
    session.receive_line("TOPIC #nowhere")
    out, asked = session.take()
    (reply,) = [parse(line.decode().rstrip("\r\n")) for line in out]
    assert (reply.command, reply.params[1]) == ("403", "#nowhere")
    assert asked == []
    session.receive_line("TOPIC #somewhere")
    assert [type(f) for f in session.take()[1]] == [Topic]


def test_a_kick_in_a_channel_nobody_uses_is_no_such_channel() -> None:
    session = registered()
    session.receive_line("KICK #nowhere bob")
    (reply,) = lines(session)
    assert (reply.command, reply.params[1]) == ("403", "#nowhere")


def test_sasl_after_registration_is_may_not_reregister_unless_logged_in() -> None:
    session = registered()
    session.receive_line("AUTHENTICATE PLAIN")
    assert [m.command for m in lines(session)] == ["462"]  # charla has no SASL after it
    session.account = "ana"
    session.receive_line("AUTHENTICATE PLAIN")
    assert [m.command for m in lines(session)] == ["907"]


def test_an_invite_from_a_registered_nick_carries_its_account() -> None:
    session = IrcSession(options(is_registered=lambda nick: nick == "profe"))
    session.receive_line("CAP REQ :account-tag")
    session.receive_line("CAP END")
    session.receive_line("NICK ana")
    session.receive_line("USER ana 0 * :Ana")
    session.receive_frame(
        Welcome(nick="ana", server=ServerInfo(name="c", version="1"), label="hello")
    )
    session.take()
    session.receive_frame(System(event="invite", room="clase", user="ana", by="profe"))
    (invite,) = lines(session)
    assert (invite.command, invite.params, invite.tags) == (
        "INVITE",
        ["ana", "#clase"],
        {"account": "profe"},
    )


def test_userhost_marks_an_away_user_with_a_minus() -> None:
    people = {
        "bea": Person("bea", "b", "Bea", away="lunch"),
        "cai": Person("cai", "c", "Cai"),
    }
    session = IrcSession(options(person=people.get))
    session.receive_line("NICK ana")
    session.receive_line("USER ana 0 * :Ana")
    session.receive_frame(
        Welcome(nick="ana", server=ServerInfo(name="c", version="1"), label="hello")
    )
    session.take()
    session.receive_line("USERHOST bea cai nadie")
    (reply,) = lines(session)
    assert reply.params[1] == "bea=-b@charla cai=+c@charla"
