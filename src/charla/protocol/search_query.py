"""What a user types into search, parsed into something safe to hand to SQLite FTS5.

A query is words (all must appear), ``"exact phrases"``, prefixes (``ejerc*``) and
filters: ``from:nick``, ``in:#room``, ``before:YYYY-MM-DD``, ``after:YYYY-MM-DD``. The
user's text never reaches FTS5 as syntax: every word and phrase becomes a quoted FTS5
string (``"`` doubled inside), so ``OR``, ``NEAR``, ``-`` or a stray ``(`` are only
words. Anything malformed raises :class:`ProtocolError` with ``bad_query`` and says what.

Matching ignores case and accents both ways (``cancion`` finds ``canción``), like the
index's ``unicode61 remove_diacritics 2`` tokenizer; :func:`match_ranges` marks the
matched words of a text the same way, for highlighting.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

from .errors import Code, ProtocolError
from .names import normalize_room

__all__ = ["MAX_QUERY", "MAX_TERMS", "SearchQuery", "match_ranges", "parse_query"]

#: Longest query, in characters, and most words and phrases in one.
MAX_QUERY = 500
MAX_TERMS = 16
#: Shortest prefix before ``*``: a one-letter prefix would read most of the index.
MIN_PREFIX = 2

_FILTERS = ("from", "in", "before", "after")
# A quoted phrase, or a run of anything else up to a space.
_PIECE = re.compile(r'"([^"]*)"?|(\S+)')
# A word as the index sees it: letters and digits (the tokenizer's separators are the rest).
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed query: the FTS5 expression and the filters."""

    fts: str
    #: Normalised words to mark in results: whole words and prefixes.
    words: frozenset[str] = frozenset()
    prefixes: frozenset[str] = frozenset()
    user: str | None = None
    room: str | None = None
    #: ISO timestamps bounding ``ts``: ``after <= ts < before``.
    after: str | None = None
    before: str | None = None


def fold(word: str) -> str:
    """``word`` as the index compares it: no case, no accents."""
    decomposed = unicodedata.normalize("NFD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def parse_query(text: str) -> SearchQuery:
    """Parse what the user typed; raises ``bad_query`` saying what is wrong."""
    if len(text) > MAX_QUERY:
        raise ProtocolError(
            Code.BAD_QUERY, "the query is too long (at most {most} characters)", most=MAX_QUERY
        )
    if text.count('"') % 2:
        raise ProtocolError(Code.BAD_QUERY, 'a phrase is missing its closing "')
    filters: dict[str, str] = {}
    fts: list[str] = []
    words: set[str] = set()
    prefixes: set[str] = set()
    for match in _PIECE.finditer(text):
        phrase, piece = match.group(1), match.group(2)
        if phrase is not None:
            tokens = _WORD.findall(phrase)
            if not tokens:
                raise ProtocolError(Code.BAD_QUERY, "an empty phrase: put words between the quotes")
            words.update(map(fold, tokens))
            fts.append(_quoted(" ".join(tokens)))
            continue
        name, colon, value = piece.partition(":")
        if colon and name.lower() in _FILTERS:
            _add_filter(filters, name.lower(), value)
            continue
        prefix = piece.endswith("*")
        tokens = _WORD.findall(piece.rstrip("*"))
        if not tokens:
            raise ProtocolError(
                Code.BAD_QUERY,
                "nothing to search for in {piece}: use letters or digits",
                piece=repr(piece[:40]),
            )
        if prefix:
            *whole, last = tokens
            if len(last) < MIN_PREFIX:
                raise ProtocolError(
                    Code.BAD_QUERY,
                    "a prefix needs at least {least} letters before *",
                    least=MIN_PREFIX,
                )
            words.update(map(fold, whole))
            prefixes.add(fold(last))
            fts.append(_quoted(" ".join(tokens)) + " *")
        else:
            words.update(map(fold, tokens))
            fts.append(_quoted(" ".join(tokens)))
    if not fts:
        raise ProtocolError(Code.BAD_QUERY, "give at least one word to look for")
    if len(fts) > MAX_TERMS:
        raise ProtocolError(Code.BAD_QUERY, "too many words (at most {most})", most=MAX_TERMS)
    return SearchQuery(
        fts=" AND ".join(fts),
        words=frozenset(words),
        prefixes=frozenset(prefixes),
        user=filters.get("from"),
        room=filters.get("in"),
        after=filters.get("after"),
        before=filters.get("before"),
    )


def _quoted(words: str) -> str:
    """An FTS5 string: whatever it holds is text, never syntax."""
    return '"' + words.replace('"', '""') + '"'


def _add_filter(filters: dict[str, str], name: str, value: str) -> None:
    if name in filters:
        raise ProtocolError(Code.BAD_QUERY, "{name}: given twice", name=name)
    if not value:
        raise ProtocolError(
            Code.BAD_QUERY,
            "{name}: needs a value, e.g. {example}",
            name=name,
            example=_EXAMPLES[name],
        )
    if name == "in":
        try:
            filters[name] = normalize_room(value)
        except ProtocolError:
            raise ProtocolError(
                Code.BAD_QUERY, "in: {value} is not a room name", value=repr(value[:40])
            ) from None
    elif name == "from":
        filters[name] = value.lstrip("@")
    else:
        filters[name] = _day(name, value)


_EXAMPLES = {
    "from": "from:ana",
    "in": "in:#clase",
    "before": "before:2026-03-01",
    "after": "after:2026-03-01",
}


def _day(name: str, value: str) -> str:
    """The ISO timestamp a date filter compares with: ``before:D`` is before day D
    begins, ``after:D`` from the start of day D on."""
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise ProtocolError(
            Code.BAD_QUERY,
            "{name}: {value} is not a date like {example}",
            name=name,
            value=repr(value[:40]),
            example=_EXAMPLES[name],
        ) from None
    if len(value) != len("YYYY-MM-DD"):
        raise ProtocolError(Code.BAD_QUERY, "{name}: write the date as YYYY-MM-DD", name=name)
    return day.isoformat()


def match_ranges(text: str, query: SearchQuery) -> list[tuple[int, int]]:
    """The ``[start, end)`` character ranges of ``text`` whose words the query matched."""
    ranges = []
    for word in _WORD.finditer(text):
        folded = fold(word.group())
        if folded in query.words or any(folded.startswith(p) for p in query.prefixes):
            ranges.append((word.start(), word.end()))
    return ranges
