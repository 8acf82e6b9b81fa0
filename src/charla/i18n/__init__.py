"""Spanish and English for every string a person reads, through gettext.

Message ids are the English text; ``locale/es/LC_MESSAGES/charla.po`` holds the Spanish.
The compiled ``.mo`` file sits beside it; ``python -m charla.i18n`` rebuilds it after
the ``.po`` changes (a test fails while it is stale).

Spanish is the default, as in the chat charla grew from.
"""

from __future__ import annotations

import gettext
import os
from functools import cache
from pathlib import Path

__all__ = [
    "DEFAULT_LANG",
    "LANGS",
    "LOCALE_DIR",
    "N_",
    "Msgid",
    "language_from_env",
    "normalize_lang",
    "tr",
]

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "charla"
LANGS = ("es", "en")
DEFAULT_LANG = "es"


def normalize_lang(lang: str | None) -> str:
    """``es_ES.UTF-8`` -> ``es``; anything unknown -> the default."""
    if not lang:
        return DEFAULT_LANG
    code = lang.split(".")[0].split("_")[0].split("-")[0].lower()
    return code if code in LANGS else DEFAULT_LANG


def language_from_env(environ: dict[str, str] | None = None) -> str:
    """The language the environment asks for (LC_ALL, LC_MESSAGES, LANG)."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if value and value not in ("C", "POSIX"):
            return normalize_lang(value)
    return DEFAULT_LANG


@cache
def translations(lang: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


class Msgid(str):
    """A value that is a message id itself: ``tr`` translates it before it fills its
    field (the arguments of a command in ``usage: /{command} {arguments}``)."""

    __slots__ = ()


def tr(lang: str, message: str, /, **values: object) -> str:
    """``message`` in ``lang``, with ``{name}`` fields filled from ``values`` (each
    :class:`Msgid` among them in ``lang`` too)."""
    catalog = translations(lang)
    text = catalog.gettext(message)
    if not values:
        return text
    return text.format(
        **{k: catalog.gettext(v) if isinstance(v, Msgid) else v for k, v in values.items()}
    )


def N_(message: str, /) -> str:
    """Mark ``message`` as a message id translated later (gettext's ``N_``): for
    templates kept in tables, which ``tr`` or ``ProtocolError`` get as a variable."""
    return message
