from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from charla.protocol import (
    Code,
    ProtocolError,
    clean_text,
    format_ts,
    nick_key,
    normalize_nick,
    normalize_room,
)


def test_room_names_are_lowercased_and_lose_their_hash() -> None:
    assert normalize_room("#Dev.Ops-1_x") == "dev.ops-1_x"


def test_nick_key_folds_case_and_normalisation() -> None:
    assert nick_key("JOSÉ") == nick_key("jose\u0301") == nick_key("josé")
    assert nick_key("Straße") == nick_key("STRASSE")


@given(st.text(max_size=40))
def test_any_string_is_a_valid_nick_or_a_nick_invalid_error(raw: str) -> None:
    try:
        nick = normalize_nick(raw)
    except ProtocolError as exc:
        assert exc.code is Code.NICK_INVALID
    else:
        assert 1 <= len(nick) <= 32 and nick == normalize_nick(nick)


def test_format_ts() -> None:
    assert format_ts(1_795_651_200.123) == "2026-11-26T00:00:00.123Z"


def test_clean_text_limits() -> None:
    assert clean_text("x" * 10, limit=10) == "x" * 10
    with pytest.raises(ProtocolError) as exc:
        clean_text("x" * 11, limit=10)
    assert exc.value.code is Code.TEXT_TOO_LONG
    with pytest.raises(ProtocolError):
        clean_text("\x00\x01 ")
