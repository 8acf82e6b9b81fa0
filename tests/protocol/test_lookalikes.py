"""Nicks that imitate others, invisible names and text, Zalgo: the Unicode rules."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from charla.protocol import (
    Code,
    ProtocolError,
    clean_text,
    nick_key,
    normalize_nick,
    normalize_room,
)
from charla.protocol.gen_confusables import build_table, parse, render
from charla.protocol.unicode_rules import MAX_COMBINING_RUN, is_default_ignorable

FILLERS = ["\u3164", "\u115f", "\u1160", "\uffa0"]


@pytest.mark.parametrize(
    "imitation",
    [
        "аna",  # Cyrillic а
        "Αna",  # Greek capital alpha
        "ａｎａ",  # fullwidth
        "ANA",
        "anа",  # Cyrillic а at the end
    ],
)
def test_lookalikes_of_a_nick_share_its_key(imitation: str) -> None:
    assert nick_key(imitation) == nick_key("Ana")


@pytest.mark.parametrize(("a", "b"), [("Ana", "Ada"), ("José", "Jose"), ("ana1", "ana2")])
def test_nicks_that_look_different_keep_different_keys(a: str, b: str) -> None:
    assert nick_key(a) != nick_key(b)


@given(st.text(max_size=20))
def test_nick_key_ignores_case(nick: str) -> None:
    assert nick_key(nick) == nick_key(nick.casefold()) == nick_key(nick.upper())


@pytest.mark.parametrize("filler", FILLERS)
def test_invisible_fillers_are_refused_in_nicks_and_rooms(filler: str) -> None:
    for raw in ("Ana" + filler, filler, "A" + filler + "na"):
        with pytest.raises(ProtocolError) as exc:
            normalize_nick(raw)
        assert exc.value.code is Code.NICK_INVALID
        assert "invisible" in exc.value.message
        with pytest.raises(ProtocolError) as exc:
            normalize_room(raw)
        assert exc.value.code is Code.ROOM_INVALID


@pytest.mark.parametrize(
    "ch",
    [
        "\u200b",
        "\u200c",
        "\u200d",
        "\u2060",
        "\ufe0f",
        "\U000e0100",
        "\u00ad",
        "\ufeff",
        "\u202e",
        "\u2066",
        "\u034f",
        *FILLERS,
    ],
)
def test_default_ignorable_code_points(ch: str) -> None:
    assert is_default_ignorable(ch)


@pytest.mark.parametrize("ch", ["a", " ", "\u0301", "\u0600", "日", "-"])
def test_visible_characters_are_not_ignorable(ch: str) -> None:
    assert not is_default_ignorable(ch)


@pytest.mark.parametrize(
    "nick", ["server", "System", "Sуstem", "ADMIN", "root", "charla", "NickServ", "chanserv"]
)
def test_reserved_nicks_and_their_lookalikes_are_refused(nick: str) -> None:
    with pytest.raises(ProtocolError) as exc:
        normalize_nick(nick)
    assert exc.value.code is Code.NICK_INVALID
    assert "reserved" in exc.value.message


def test_names_near_reserved_ones_are_fine() -> None:
    assert normalize_nick("servidor") == "servidor"
    assert normalize_nick("rooted") == "rooted"


@pytest.mark.parametrize("text", ["\u200b", "\u3164\u3164", " \u2800 \u200d\ufe0f", "\u00ad\t"])
def test_text_of_only_invisible_characters_is_empty(text: str) -> None:
    with pytest.raises(ProtocolError) as exc:
        clean_text(text)
    assert exc.value.code is Code.TEXT_EMPTY


def test_invisible_characters_inside_visible_text_are_kept() -> None:
    # Joiners carry meaning there: emoji sequences, Persian words.
    assert clean_text("👩\u200d💻 می\u200cخواهم") == "👩\u200d💻 می\u200cخواهم"


def test_zalgo_runs_of_combining_marks_are_cut() -> None:
    zalgo = "Z" + "\u0300\u0301\u0302\u0303" * 10 + "a" + "\u0489" * 50 + "lgo"
    cleaned = clean_text(zalgo)
    assert cleaned == "Z" + ("\u0300\u0301\u0302\u0303" * 2) + "a" + "\u0489" * 8 + "lgo"


def test_real_accents_survive() -> None:
    text = "Tiếng Việt, español, שָׁלוֹם"
    assert clean_text(unicodedata.normalize("NFD", text)) == unicodedata.normalize("NFD", text)


@given(st.text(max_size=200))
def test_no_run_of_combining_marks_is_longer_than_the_cap(text: str) -> None:
    try:
        cleaned = clean_text(text)
    except ProtocolError:
        return
    run = 0
    for ch in cleaned:
        run = run + 1 if unicodedata.category(ch).startswith("M") else 0
        assert run <= MAX_COMBINING_RUN


def test_the_generator_reads_confusables_txt() -> None:
    source = [
        "\ufeff# confusables.txt\n",
        "# Version: 99.0.0\n",
        "0430 ;\t0061 ;\tMA\t# ( а → a ) CYRILLIC SMALL LETTER A → LATIN SMALL LETTER A\n",
        "006D ;\t0072 006E ;\tMA\t# ( m → rn )\n",
        "0410 ;\t0041 ;\tMA\t# capital: folded before the table is used, so left out\n",
        "2460 ;\t0031 ;\tMA\t# circled digit: NFKC turns it into 1 first, left out\n",
    ]
    version, mapping = parse(source)
    table = build_table(mapping)
    assert version == "99.0.0"
    assert table == {"\u0430": "a", "m": "rn"}
    namespace: dict[str, object] = {}
    exec(render(version, table), namespace)
    assert namespace["CONFUSABLES"] == table and namespace["UNICODE_VERSION"] == "99.0.0"
