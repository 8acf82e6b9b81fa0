"""Wraps: where the author's client cut a line of a message without a line feed.

A message's text keeps its line feeds; some clients also send one long line in pieces
(IRC's ``draft/multiline`` batches mark such a piece ``draft/multiline-concat``). The
text joins the pieces, and ``wraps`` keeps where they met, as offsets into the text (in
code points): ``"#how is everyone?"`` sent as ``"#how is "`` + ``"everyone?"`` is that
text with ``wraps=[8]``. A client that shows the text ignores them; one that sends lines
(IRC) cuts there again, so the readers get the lines the author sent.

A wrap lies strictly inside the text, never next to a line feed (a piece is never
empty), and wraps ascend. They are checked like the text: a wrong one is
``bad_arguments``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import accumulate, pairwise

from .errors import Code, ProtocolError
from .names import clean_text, strip_unsafe
from .unicode_rules import cap_combining_runs

__all__ = ["MAX_WRAPS", "clean_wrapped", "split_at_wraps", "valid_wraps"]

#: Most wraps one message may carry (a ``draft/multiline`` batch has at most 100 lines).
MAX_WRAPS = 1024


def valid_wraps(text: str, wraps: Sequence[int]) -> bool:
    """Whether every wrap lies inside ``text``, away from its line feeds, ascending."""
    if len(wraps) > MAX_WRAPS:
        return False  # before the walk: a NATS neighbour's list is bounded by nothing else
    previous = 0
    for wrap in wraps:
        if not previous < wrap < len(text) or "\n" in (text[wrap - 1], text[wrap]):
            return False
        previous = wrap
    return True


def clean_wrapped(
    text: str, wraps: Sequence[int] | None, *, limit: int
) -> tuple[str, list[int] | None]:
    """``text`` cleaned as :func:`~charla.protocol.names.clean_text` cleans it, with its
    ``wraps`` moved to where the pieces meet in the cleaned text (a piece left empty
    wraps nowhere). Raises ``bad_arguments`` for wraps that are not valid for ``text``,
    and whatever ``clean_text`` raises."""
    if not wraps:
        return clean_text(text, limit=limit), None
    if not valid_wraps(text, wraps):
        raise ProtocolError(
            Code.BAD_ARGUMENTS, "wraps must ascend inside the text, away from its line feeds"
        )
    final = clean_text(text, limit=limit)
    # Each piece cleaned alone: a run of marks inside one is capped there, so only a run
    # across a wrap makes the pieces differ from the text.
    pieces = pairwise([0, *wraps, len(text)])
    cleaned = [cap_combining_runs(strip_unsafe(text[a:b])) for a, b in pieces]
    if "".join(cleaned) != final:  # marks across a wrap were cut: keep the text
        return final, None
    moved = list(accumulate(map(len, cleaned[:-1])))  # where each piece ends now
    kept = [w for w in dict.fromkeys(moved) if valid_wraps(final, [w])]
    return final, kept or None


def split_at_wraps(text: str, wraps: Sequence[int] | None) -> list[tuple[str, bool]]:
    """``text`` as the lines its author sent: ``(piece, continues)`` for each piece of
    each line, ``continues`` when the piece goes on the line before it without a line
    feed. A blank line is one blank piece."""
    cuts = sorted(set(wraps or ()))
    out: list[tuple[str, bool]] = []
    start = first = 0
    for line in text.split("\n"):
        end = start + len(line)
        # Bisected, not scanned: a text of many lines with many wraps renders for every
        # IRC reader, and a scan of all the wraps per line is lines x wraps work.
        first = bisect_right(cuts, start, lo=first)
        inside = [w - start for w in cuts[first : bisect_left(cuts, end, lo=first)]]
        for index, (a, b) in enumerate(pairwise([0, *inside, len(line)])):
            out.append((line[a:b], index > 0))
        start = end + 1
    return out
