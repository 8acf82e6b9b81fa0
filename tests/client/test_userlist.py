"""The user list beside the log: a big room shows its head count and the first page."""

from __future__ import annotations

from charla.client.tui.userlist import UserList


def _shown(users: tuple[str, ...], total: int | None) -> list[str]:
    widget = UserList(lang="en")
    widget.users = users
    widget.total = total
    return widget.render().plain.splitlines()


def test_a_big_room_shows_its_count_and_how_many_are_not_listed() -> None:
    assert _shown(("bob", "ana"), 10_000) == ["users (10000)", "ana", "bob", "… and 9998 more"]


def test_a_small_room_lists_everyone() -> None:
    assert _shown(("bob", "ana"), None) == ["users (2)", "ana", "bob"]
