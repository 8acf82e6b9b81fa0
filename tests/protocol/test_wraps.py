"""Wraps: where an author's lines were cut without a line feed survive cleaning, and the
lines come back as they were sent."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from charla.protocol import (
    MAX_WRAPS,
    Code,
    ProtocolError,
    Say,
    clean_text,
    clean_wrapped,
    parse_command,
    split_at_wraps,
    valid_wraps,
)
from charla.protocol.names import strip_unsafe
from charla.protocol.unicode_rules import cap_combining_runs


def test_the_lines_come_back_as_the_author_sent_them() -> None:
    text = "hello\n#how is everyone?"
    assert split_at_wraps(text, [14]) == [
        ("hello", False),
        ("#how is ", False),
        ("everyone?", True),
    ]
    assert split_at_wraps("\nuno", None) == [("", False), ("uno", False)]


@pytest.mark.parametrize(
    "wraps",
    [[0], [3], [9], [4, 4], [6, 2], [2, 5]],
    ids=["at-start", "at-end", "past-end", "twice", "descending", "before-line-feed"],
)
def test_a_wrap_outside_the_text_or_next_to_a_line_feed_is_refused(wraps: list[int]) -> None:
    text = "abcde\nxyz"[: 3 if wraps == [3] else 9]
    with pytest.raises(ProtocolError) as caught:
        clean_wrapped(text, wraps, limit=100)
    assert caught.value.code is Code.BAD_ARGUMENTS


def test_too_many_wraps_are_refused() -> None:
    text = "ab" * (MAX_WRAPS + 2)
    assert not valid_wraps(text, list(range(1, MAX_WRAPS + 2)))


def test_wraps_move_with_the_control_characters_cleaning_removes() -> None:
    # "a\x07b" + "c\x1bd": the bell and the escape go, the pieces still meet after "ab".
    text, wraps = clean_wrapped("a\x07bc\x1bd", [3], limit=100)
    assert (text, wraps) == ("abcd", [2])


def test_a_piece_left_empty_by_cleaning_wraps_nowhere() -> None:
    assert clean_wrapped("ab\x07cd", [2, 3], limit=100) == ("abcd", [2])
    assert clean_wrapped("ab\n\x07cd", [4], limit=100) == ("ab\ncd", None)


def test_marks_capped_inside_a_piece_keep_the_wraps() -> None:
    """A run of combining marks longer than allowed is cut inside its piece: the pieces
    still meet, a little earlier. Only a run across a wrap loses the wraps."""
    marked = "e" + "\u0301" * 12
    assert clean_wrapped(f"{marked}xyz", [13], limit=100) == ("e" + "\u0301" * 8 + "xyz", [9])
    across = "e" + "\u0301" * 6
    assert clean_wrapped(across + "\u0301" * 6, [7], limit=100)[1] is None


def test_text_with_no_wraps_is_cleaned_as_any_text() -> None:
    assert clean_wrapped("hola\x07", None, limit=100) == ("hola", None)
    with pytest.raises(ProtocolError) as caught:
        clean_wrapped("hola amigos", [4], limit=5)
    assert caught.value.code is Code.TEXT_TOO_LONG


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30)


@given(st.lists(_TEXT, min_size=1, max_size=6))
def test_pieces_cleaned_and_split_again_are_the_cleaned_pieces(sent: list[str]) -> None:
    """Whatever pieces an author sends as one line, cleaning their join keeps where they
    met: the readers get each cleaned, non-empty piece back, in order."""
    text = "".join(sent)
    ends = [sum(map(len, sent[: i + 1])) for i in range(len(sent) - 1)]
    if "\n" in text:
        return  # not one line
    try:
        cleaned, moved = clean_wrapped(text, ends, limit=1000)
    except ProtocolError as exc:
        assert exc.code is Code.TEXT_EMPTY
        return
    assert cleaned == clean_text(text, limit=1000)
    assert moved is None or valid_wraps(cleaned, moved)
    back = [piece for piece, _ in split_at_wraps(cleaned, moved)]
    if moved is not None:  # None only when marks across a wrap were cut
        assert back == [cap_combining_runs(p) for p in map(strip_unsafe, sent) if p]


def test_an_escaped_slash_keeps_the_rest_of_the_say() -> None:
    """``//text`` says ``/text``: still a notice, a reply, with its tags, its wraps
    moved back by the slash it loses."""
    say = Say(text="//uno dos", notice=True, reply_to=7, tags={"+a": "1"}, wraps=[5])
    assert parse_command(say) == Say(
        text="/uno dos", notice=True, reply_to=7, tags={"+a": "1"}, wraps=[4]
    )


class _Counted(int):
    """A wrap that counts the comparisons made with it."""

    made = 0

    def __lt__(self, other: object) -> bool:
        _Counted.made += 1
        return int(self) < other  # type: ignore[operator]

    def __gt__(self, other: object) -> bool:
        _Counted.made += 1
        return int(self) > other  # type: ignore[operator]


def test_splitting_takes_no_work_per_line_and_wrap() -> None:
    """Every IRC reader's copy of a message is split: a text of many short lines with as
    many wraps as allowed must not cost lines x wraps comparisons."""
    lines = 2000
    text = "ab\n" * lines
    wraps = [_Counted(3 * i + 1) for i in range(MAX_WRAPS)]
    _Counted.made = 0
    pieces = split_at_wraps(text, wraps)
    assert len(pieces) == lines + 1 + MAX_WRAPS
    assert _Counted.made < 50 * (lines + MAX_WRAPS)  # a scan per line makes 4 million
