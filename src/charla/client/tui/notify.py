"""Desktop notifications through the terminal: the escape sequence for a title and a body.

Terminals differ in the sequence they turn into a desktop notification:

- OSC 777 (``ESC ] 777 ; notify ; TITLE ; BODY ST``): foot, VTE terminals (GNOME Terminal,
  Tilix...), urxvt, Ghostty, WezTerm, Konsole. The default.
- OSC 9 (``ESC ] 9 ; TEXT ST``, no title): iTerm2, Windows Terminal, ConEmu.
- OSC 99 (``ESC ] 99 ; ... ST``): kitty.

The choice follows ``$CHARLA_NOTIFY`` (``osc777``, ``osc9``, ``osc99``) when set, else
``$TERM_PROGRAM`` / ``$LC_TERMINAL`` / ``$TERM``. Inside tmux (``$TMUX``) the sequence is
wrapped so tmux passes it to the outer terminal (tmux needs ``set -g allow-passthrough on``).

The title and body come from other people: escape sequences, control characters and the
separator ``;`` of the title are removed, and both are cut short.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..format import sanitize_line

__all__ = ["FLAVOURS", "flavour", "notification"]

ST = "\x1b\\"
FLAVOURS = ("osc777", "osc9", "osc99")
TITLE_MAX = 80
BODY_MAX = 200

#: Terminals (``$TERM_PROGRAM``, ``$LC_TERMINAL``) that want OSC 9.
_OSC9_TERMINALS = ("iterm.app", "iterm2", "windows_terminal", "conemu")


def flavour(env: Mapping[str, str]) -> str:
    """Which sequence this terminal understands."""
    chosen = env.get("CHARLA_NOTIFY", "").strip().lower()
    if chosen in FLAVOURS:
        return chosen
    program = (env.get("TERM_PROGRAM") or env.get("LC_TERMINAL") or "").lower()
    if program in _OSC9_TERMINALS or "WT_SESSION" in env:
        return "osc9"
    if env.get("TERM") == "xterm-kitty" or "KITTY_WINDOW_ID" in env:
        return "osc99"
    return "osc777"


def _clean(text: str, limit: int) -> str:
    # Sanitised first (no ESC, BEL or other control), then cut: the cut cannot split an
    # escape sequence that is no longer there.
    text = sanitize_line(text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def notification(title: str, body: str, env: Mapping[str, str]) -> str:
    """The sequence that shows ``title`` / ``body`` as a desktop notification."""
    title = _clean(title, TITLE_MAX).replace(";", ",")
    body = _clean(body, BODY_MAX)
    kind = flavour(env)
    if kind == "osc9":
        sequence = f"\x1b]9;{title}: {body}{ST}"
    elif kind == "osc99":
        # kitty: the title, then the body of the same notification (i=), shown when done.
        sequence = f"\x1b]99;i=charla:d=0;{title}{ST}\x1b]99;i=charla:d=1:p=body;{body}{ST}"
    else:
        sequence = f"\x1b]777;notify;{title};{body}{ST}"
    if env.get("TMUX"):
        sequence = _tmux_passthrough(sequence)
    return sequence


def _tmux_passthrough(sequence: str) -> str:
    """tmux hands the inside of ``ESC P tmux; ... ST`` to the outer terminal, with each
    ESC written twice."""
    return f"\x1bPtmux;{sequence.replace(chr(27), chr(27) * 2)}{ST}"
