"""``UTF8ONLY``: a line that is not UTF-8 is refused, never relayed."""

from __future__ import annotations

from charla.irc.messages import IrcLineSplitter, NotUtf8, parse
from charla.protocol import Say

from .test_session import registered


def test_a_line_that_is_not_utf8_is_refused_with_fail() -> None:
    splitter = IrcLineSplitter()
    got = splitter.feed(b"PRIVMSG #general :hi\xaa\r\nPRIVMSG #general :hi\xc3\xa1\r\n")
    assert got == [NotUtf8("PRIVMSG #general :hi\ufffd"), "PRIVMSG #general :hiá"]

    session = registered()
    session.receive_line(got[0])
    out, said = session.take()
    (refused,) = [parse(line.decode().rstrip("\r\n")) for line in out]
    assert (refused.command, refused.params[:2]) == ("FAIL", ["PRIVMSG", "INVALID_UTF8"])
    assert said == []  # nothing said
    session.receive_line(got[1])
    (said,) = session.take()[1]
    assert isinstance(said, Say) and said.text == "hiá"
