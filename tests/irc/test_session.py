"""The IRC session without a server: lines and frames in, requests and lines out."""

from __future__ import annotations

import base64
import fnmatch

from hypothesis import given, settings
from hypothesis import strategies as st

from charla.irc.messages import IrcLineSplitter, IrcMessage, TooLong, parse, serialize
from charla.irc.session import MAX_EARLY_LINES, IrcOptions, IrcSession, Person
from charla.irc.translate import _glob
from charla.protocol import (
    BanInfo,
    Bans,
    Deleted,
    Edited,
    Error,
    Hello,
    History,
    Joined,
    Message,
    Pong,
    Reaction,
    Read,
    RoomMode,
    Say,
    ServerInfo,
    System,
    Topic,
    UserAway,
    Users,
    Welcome,
)


def options(**overrides: object) -> IrcOptions:
    base: dict[str, object] = {
        "server_name": "charla",
        "network": "charla",
        "version": "1",
        "created": "today",
        "motd": None,
        "max_text": 4000,
        "max_page": 200,
        "server_password": False,
        "is_registered": lambda nick: nick == "robot",
        "find_nick": lambda nick: None,
        "channel_exists": lambda name: name != "#nowhere",
        "in_channel": lambda nick, name: False,
        "person": lambda nick: None,
        "neighbours": lambda nick, limit: [],
    }
    base.update(overrides)
    return IrcOptions(**base)  # type: ignore[arg-type]


def lines(session: IrcSession) -> list[IrcMessage]:
    out, _ = session.take()
    return [parse(line.decode().rstrip("\r\n")) for line in out]


def test_tags_are_escaped_and_parsed_back() -> None:
    message = IrcMessage("PRIVMSG", ["#general", "a b :c"], "ana!ana@charla", {"k": "x; y\\z"})
    assert parse(serialize(message).decode().rstrip("\r\n")) == message


def test_a_line_over_the_bound_is_reported_once_and_skipped() -> None:
    splitter = IrcLineSplitter(max_line=16)
    assert splitter.feed(b"x" * 40) == [TooLong()]
    assert splitter.feed(b"y" * 40 + b"\r\nPING a\r\n") == ["PING a"]


def test_nick_and_user_make_one_hello_and_its_welcome_the_001() -> None:
    session = IrcSession(options())
    session.receive_line("NICK ana")
    session.receive_line("USER ana 0 * :Ana")
    _, frames = session.take()
    # An IRC server joins nobody anywhere: the client joins its channels.
    assert frames == [
        Hello(nick="ana", away_notify=True, join_default=False, lang="en", label="hello")
    ]
    session.receive_frame(
        Welcome(nick="ana", server=ServerInfo(name="c", version="1"), label="hello")
    )
    assert [m.command for m in lines(session)][:5] == ["001", "002", "003", "004", "005"]


def test_a_taken_nick_is_433_and_another_nick_tries_again() -> None:
    session = IrcSession(options())
    session.receive_line("NICK ana")
    session.receive_line("USER ana 0 * :Ana")
    session.take()
    session.receive_frame(Error(code="nick_taken", message="taken", label="hello"))
    assert lines(session)[0].command == "433"
    session.receive_line("NICK ana_")
    assert session.take()[1] == [
        Hello(nick="ana_", away_notify=True, join_default=False, lang="en", label="hello")
    ]


def test_lines_sent_with_the_registration_are_read_once_charla_welcomes() -> None:
    """A script sends everything at once, as to any IRC server: what comes while the
    hello is being answered waits for the welcome, then is read in order."""
    session = IrcSession(options())
    for line in ["NICK ci", "USER ci 0 * :ci", "JOIN #general", "PRIVMSG #general :build ok"]:
        session.receive_line(line)
    out, frames = session.take()
    assert out == []  # no 451: nothing refused while the hello is answered
    assert [type(frame).__name__ for frame in frames] == ["Hello"]
    info = ServerInfo(name="c", version="1")
    session.receive_frame(Welcome(nick="ci", server=info, label="hello"))
    out, frames = session.take()
    assert b" 001 " in out[0] and not [line for line in out if b" 451 " in line]
    asked = [type(frame).__name__ for frame in frames]
    assert asked[0] == "Join" and asked[-1] == "Say"  # the JOIN's NAMES in between


def test_lines_after_a_refused_hello_wait_for_the_next_one() -> None:
    session = IrcSession(options())
    for line in ["NICK ana", "USER ana 0 * :Ana", "NICK ana_", "JOIN #general"]:
        session.receive_line(line)
    session.take()
    session.receive_frame(Error(code="nick_taken", message="taken", label="hello"))
    out, frames = session.take()
    assert b" 433 " in out[0]
    # The NICK that came meanwhile is read: a second hello; the JOIN waits for it.
    assert frames == [
        Hello(nick="ana_", away_notify=True, join_default=False, lang="en", label="hello")
    ]
    info = ServerInfo(name="c", version="1")
    session.receive_frame(Welcome(nick="ana_", server=info, label="hello"))
    assert type(session.take()[1][0]).__name__ == "Join"


def test_only_so_many_lines_wait_for_the_welcome() -> None:
    session = IrcSession(options())
    session.receive_line("NICK ci")
    session.receive_line("USER ci 0 * :ci")
    for _ in range(MAX_EARLY_LINES + 3):
        session.receive_line("PING x")
    assert [m.command for m in lines(session)] == ["PONG"] * 3  # read at once, past the bound


def test_sasl_plain_sends_the_password_in_the_hello_and_unknown_accounts_fail() -> None:
    session = IrcSession(options())
    session.receive_line("CAP LS 302")
    session.receive_line("CAP REQ :sasl")
    session.receive_line("AUTHENTICATE PLAIN")
    assert lines(session)[-1] == IrcMessage("AUTHENTICATE", ["+"])
    session.receive_line("AUTHENTICATE " + base64.b64encode(b"\0nadie\0pw").decode())
    assert lines(session)[-1].command == "904"
    session.receive_line("AUTHENTICATE PLAIN")
    session.receive_line("AUTHENTICATE " + base64.b64encode(b"robot\0robot\0pw").decode())
    _, frames = session.take()
    assert frames == [
        Hello(
            nick="robot",
            password="pw",
            away_notify=True,
            join_default=False,
            lang="en",
            label="sasl",
        )
    ]


def test_messages_before_registration_ends_are_held_then_told() -> None:
    session = IrcSession(options())
    session.receive_line("CAP LS 302")
    session.receive_line("NICK ana")
    session.receive_line("USER ana 0 * :Ana")
    session.receive_line("AUTHENTICATE PLAIN")
    session.receive_line("AUTHENTICATE " + base64.b64encode(b"\0robot\0pw").decode())
    session.take()
    info = ServerInfo(name="c", version="1")
    session.receive_frame(Welcome(nick="robot", server=info, label="sasl"))
    session.receive_frame(Joined(room="general", label="sasl"))
    session.receive_frame(History(room="general", messages=[], label="sasl"))
    assert [m.command for m in lines(session)] == ["900", "903"]
    session.receive_line("CAP END")
    told = [m.command for m in lines(session)]
    assert told[0] == "001" and "JOIN" in told


def test_text_that_looks_like_a_command_is_said_as_text() -> None:
    session = registered()
    session.receive_line("PRIVMSG #general :/nick robot")
    _, frames = session.take()
    assert isinstance(frames[0], Say) and frames[0].text == "//nick robot"


def test_own_messages_are_not_echoed_without_echo_message() -> None:
    session = registered()
    session.receive_line("PRIVMSG #general :hola")
    _, frames = session.take()
    own = Message(id=1, user="ana", text="hola", ts="t", room="general", label=frames[0].label)
    session.receive_frame(own)
    assert lines(session) == []


def test_a_bot_saying_thousands_of_lines_keeps_nothing_once_they_are_answered() -> None:
    session = registered()
    for i in range(3000):
        target = "#general" if i % 2 else "beto"
        session.receive_line(f"PRIVMSG {target} :line {i}")
    _, frames = session.take()
    assert session.unanswered == 3000
    for i, frame in enumerate(frames):
        if i == 7:
            answer: Message | Error = Error(code="bad_frame", message="no", label=frame.label)
        else:
            where = {"room": "general"} if i % 2 else {"to": "beto"}
            answer = Message(
                id=i + 1, user="ana", text=f"line {i}", ts="t", label=frame.label, **where
            )
        session.receive_frame(answer)
    assert session.unanswered == 0
    assert [m.command for m in lines(session)] == ["400"]  # only the refusal is told


def test_names_are_split_to_fit_the_line() -> None:
    session = registered()
    session.receive_frame(Users(room="general", users=[f"user{i:03d}" for i in range(200)]))
    told = lines(session)
    assert [m.command for m in told][-1] == "366"
    assert sum(m.params[-1].count(" ") + 1 for m in told if m.command == "353") == 200
    assert all(len(serialize(m)) <= 512 for m in told)


def test_topic_changes_faster_than_answered_cost_one_more_read_not_one_each() -> None:
    session = registered()
    for text in ("a", "b", "c"):
        session.receive_frame(System(event="topic", room="x", by="mallory", text=text))
    _, asked = session.take()
    assert [type(frame) for frame in asked] == [Topic]
    session.receive_frame(System(event="topic", room="x", text="c", label=asked[0].label))
    out, again = session.take()
    assert [type(frame) for frame in again] == [Topic]  # the changes made meanwhile
    session.receive_frame(System(event="topic", room="x", text="c", label=again[0].label))
    assert session.take()[1] == []
    assert len(out) == 1
    assert parse(out[0].decode().rstrip("\r\n")).params == ["#x", "c"]


def registered() -> IrcSession:
    session = IrcSession(options())
    session.receive_line("NICK ana")
    session.receive_line("USER ana 0 * :Ana")
    session.receive_frame(
        Welcome(nick="ana", server=ServerInfo(name="c", version="1"), label="hello")
    )
    session.take()
    return session


irc_words = st.sampled_from(
    [
        "CAP",
        "LS",
        "REQ",
        "END",
        "302",
        "NICK",
        "USER",
        "PASS",
        "AUTHENTICATE",
        "PLAIN",
        "*",
        "+",
        "JOIN",
        "PART",
        "PRIVMSG",
        "NOTICE",
        "NAMES",
        "LIST",
        "WHO",
        "WHOIS",
        "TOPIC",
        "MODE",
        "KICK",
        "INVITE",
        "PING",
        "PONG",
        "QUIT",
        "BATCH",
        "CHATHISTORY",
        "LATEST",
        "BEFORE",
        "msgid=1",
        "#general",
        "#x",
        "ana",
        ":",
        "\x01ACTION",
        "\x01",
        "0",
        "@label=a",
        "@batch=x",
        "+x",
        "-x",
        "draft/multiline",
        "AWAY",
        "TAGMSG",
        "REDACT",
        "MARKREAD",
        "@+draft/reply=1;+draft/react=x",
        "timestamp=2026",
        "+imvob",
        "-q",
    ]
)
irc_lines = st.lists(irc_words | st.text(max_size=12), max_size=8).map(" ".join) | st.text(
    max_size=60
)
frames = st.sampled_from(
    [
        Welcome(nick="ana", server=ServerInfo(name="c", version="1"), label="hello"),
        Error(code="nick_taken", message="x", label="hello"),
        Error(code="bogus", message="x", label="i1"),
        Joined(room="general", label="i2"),
        History(room="general", messages=[], label="i3"),
        Message(id=1, user="bob", text="a\nb", ts="t", room="general"),
        Users(room="x", users=["a"], label="i1", roles={"a": "owner"}, away=["a"]),
        System(event="topic", room="x", by="b", text="t"),
        System(event="topic", room="x", text="t", label="i4"),
        System(event="kick", room="general", user="ana", by="b"),
        System(event="mode", room="x", by="b", label="i5"),
        System(event="away", user="b", label="i1"),
        RoomMode(room="x", invite_only=True, label="i6"),
        Bans(room="x", bans=[BanInfo(nick="b", by="c")], label="i1"),
        Reaction(id=1, seq=2, user="b", emoji="x", on=False, room="x"),
        Edited(id=1, seq=2, user="b", text="t", edited="t", to="ana"),
        Deleted(id=1, seq=2, by="b", room="x"),
        Read(id=1, room="x"),
        Joined(room="x", topic="t", read=3),
    ]
)


@settings(max_examples=300)
@given(st.lists(irc_lines | frames, max_size=30))
def test_nothing_a_client_sends_raises(inputs: list[object]) -> None:
    session = IrcSession(options())
    for item in inputs:
        if isinstance(item, str):
            session.receive_line(item)
        else:
            session.receive_frame(item)  # type: ignore[arg-type]
        out, _ = session.take()
        assert all(len(line) <= 512 + 8191 for line in out)


def test_text_with_a_line_break_from_charla_never_starts_another_irc_line() -> None:
    # charla text keeps line feeds (an away message, a topic, a kick reason): an IRC
    # line carrying one must not become two, the second forged by whoever wrote it.
    forged = "brb\n:evil!evil@charla PRIVMSG #general :forged\rPING x"
    session = registered()
    session.caps.add("away-notify")
    session.receive_frame(UserAway(user="bob", text=forged))
    session.receive_frame(
        System(event="kick", room="general", user="carl", by="bob", reason=forged)
    )
    out, _ = session.take()
    assert len(out) == 2
    for line in out:
        assert line.endswith(b"\r\n")
        assert b"\r" not in line[:-2] and b"\n" not in line[:-2]
        assert not parse(line.decode().rstrip("\r\n")).command.startswith("PRIVMSG")


def test_a_who_mask_of_many_stars_answers_at_once() -> None:
    # As one regular expression, a dozen stars against a name that almost matches
    # backtracked for minutes, and the whole server with it.
    people = {"ana": Person("ana", "ana", "a" * 100), "bob": Person("bob", "bob", "a" * 99 + "b")}
    session = IrcSession(
        options(person=people.get, neighbours=lambda nick, limit: sorted(people)[:limit])
    )
    session.receive_line("NICK ana")
    session.receive_line("USER ana 0 * :Ana")
    session.receive_frame(
        Welcome(nick="ana", server=ServerInfo(name="c", version="1"), label="hello")
    )
    session.take()
    session.receive_line("WHO " + "*a" * 30 + "*B")
    assert [(m.command, m.params[5]) for m in lines(session) if m.command == "352"] == [
        ("352", "bob")
    ]


@given(st.text("ab*?", max_size=8), st.text("abAB", max_size=10))
def test_who_masks_match_as_globs_do(mask: str, text: str) -> None:
    assert _glob(mask or "*")(text) == fnmatch.fnmatchcase(text.lower(), (mask or "*").lower())


def test_the_user_line_others_see_in_who_holds_no_control_or_bidi_characters() -> None:
    session = IrcSession(options())
    session.receive_line("NICK ana")
    session.receive_line("USER \x1b[2Ja\u202ena\x03 0 * :\x1b]0;x\x07Ana \u202eB")
    assert (session.user, session.realname) == ("[2Jana", "]0;xAna B")


def test_pieces_concatenated_in_a_batch_count_against_its_limits() -> None:
    """``draft/multiline-concat`` lines are lines of the batch: a client cannot grow one
    line past ``max-lines`` or ``max-bytes`` by sending it in pieces."""
    session = IrcSession(options(max_text=1000))
    for line in ("CAP LS 302", "CAP REQ :batch draft/multiline", "NICK ana", "USER a 0 * :A"):
        session.receive_line(line)
    session.receive_line("CAP END")
    session.receive_frame(
        Welcome(nick="ana", server=ServerInfo(name="c", version="1"), label="hello")
    )
    session.take()
    for pieces, size in ((150, 1), (5, 300)):  # too many lines; too many bytes
        session.receive_line("BATCH +b draft/multiline #general")
        session.receive_line("@batch=b PRIVMSG #general :hola")
        for _ in range(pieces):
            session.receive_line(f"@batch=b;draft/multiline-concat PRIVMSG #general :{'x' * size}")
        session.receive_line("BATCH -b")
        out, frames = session.take()
        told = [parse(line.decode().rstrip("\r\n")) for line in out]
        assert told[0].params[:2] == ["BATCH", "MULTILINE_MAX_BYTES"]
        assert {m.command for m in told} == {"FAIL"}  # the rest name a batch now gone
        assert frames == []


def test_a_labelled_history_keeps_its_multiline_messages_nested_in_it() -> None:
    """A labelled CHATHISTORY is one chathistory batch carrying the label, its multiline
    messages batches nested in it: none of their lines is moved to another batch."""
    session = IrcSession(options())
    caps = "batch draft/multiline labeled-response message-tags"
    for line in ("CAP LS 302", f"CAP REQ :{caps}", "NICK ana", "USER a 0 * :A", "CAP END"):
        session.receive_line(line)
    session.receive_frame(
        Welcome(nick="ana", server=ServerInfo(name="c", version="1"), label="hello")
    )
    session.receive_line("JOIN #general")
    _, (join, *_) = session.take()
    session.receive_frame(Joined(room="general", label=join.label))
    session.receive_frame(History(room="general", messages=[], label=join.label))
    session.take()
    session.receive_line("@label=h CHATHISTORY LATEST #general * 10")
    _, (request, barrier) = session.take()
    said = Message(id=1, user="bob", text="uno\ndos", ts="t", room="general")
    session.receive_frame(History(room="general", messages=[said], label=request.label))
    session.receive_frame(Pong(token="barrier", label=barrier.label))
    told = lines(session)
    assert [m.command for m in told] == ["BATCH", "BATCH", "PRIVMSG", "PRIVMSG", "BATCH", "BATCH"]
    history, multiline = told[0].params[0][1:], told[1].params[0][1:]
    assert told[0].tags["label"] == "h" and told[0].params[1] == "chathistory"
    assert told[1].tags["batch"] == history and told[1].params[1] == "draft/multiline"
    assert [m.tags["batch"] for m in told[2:4]] == [multiline, multiline]
    assert [m.params[1] for m in told[2:4]] == ["uno", "dos"]
