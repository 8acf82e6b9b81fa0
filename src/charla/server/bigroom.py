"""What changes when a room is big: quiet joins and leaves, and ``users`` in pages.

Announcing every join and leave to every member costs a room of N members N²/2 notices
to fill (fifty million for a lecture hall of 10 000), and a list of 10 000 names is no
use on a screen. So past ``--announce-max`` members a room stops announcing joins and
leaves (renames still are: they are rare and change who a member talks to), and a
``users`` answer lists one page of names in a fixed order, with the total count; a
client that wants the rest asks again with ``after`` = the last name it got.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["UsersPage", "announces", "users_page"]

#: Events that stop being announced in a big room.
_QUIET_WHEN_BIG = frozenset({"join", "leave"})


def announces(event: str, members: int, announce_max: int) -> bool:
    """Whether a room of ``members`` (counting the one who joins or leaves) announces
    ``event``; ``announce_max`` 0 announces in rooms of any size."""
    return event not in _QUIET_WHEN_BIG or not announce_max or members <= announce_max


def _order(name: str) -> tuple[str, str]:
    """Case-insensitive order, ties broken by the exact name: a total order, so a page
    boundary given by one name is never ambiguous."""
    return name.casefold(), name


@dataclass(frozen=True, slots=True)
class UsersPage:
    names: list[str]
    #: How many names there are in all; None when this page lists every one of them.
    total: int | None
    #: Names come after this page: ask again with ``after`` = the last one.
    more: bool


def users_page(names: Iterable[str], *, after: str | None, size: int) -> UsersPage:
    """The first ``size`` of ``names`` in order that come after ``after`` (from the
    start when None)."""
    ordered = sorted(names, key=_order)
    start = 0 if after is None else bisect.bisect_right(ordered, _order(after), key=_order)
    page = ordered[start : start + size]
    more = start + size < len(ordered)
    partial = more or start > 0
    return UsersPage(names=page, total=len(ordered) if partial else None, more=more)
