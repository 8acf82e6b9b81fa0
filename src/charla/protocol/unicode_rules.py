"""Unicode properties the standard library does not give, for names and text people type.

- :func:`skeleton`: the UTS #39 skeleton, what a string looks like (``аna`` with a Cyrillic
  ``а`` and ``ana`` have the same one), from the generated table in ``_confusables.py``.
- :func:`is_default_ignorable`: the Default_Ignorable_Code_Point property, characters that
  are drawn as nothing (zero-width joiners, variation selectors, Hangul fillers...).
- :func:`is_blank`: nothing visible at all: default-ignorable or whitespace.
- :func:`cap_combining_runs`: "Zalgo" text, with its towers of combining marks, cut down.
"""

from __future__ import annotations

import unicodedata

from ._confusables import CONFUSABLES

__all__ = [
    "MAX_COMBINING_RUN",
    "cap_combining_runs",
    "is_blank",
    "is_default_ignorable",
    "skeleton",
]

#: Most combining marks kept in a row. Real writing stacks a few (Vietnamese two, Hebrew
#: with cantillation four or so); dozens are only there to spill over other lines.
MAX_COMBINING_RUN = 8

# Default_Ignorable_Code_Point is derived (DerivedCoreProperties.txt) as
#   Other_Default_Ignorable_Code_Point + Cf + Variation_Selector
#   - White_Space - FFF9..FFFB - 13430..1343F - Prepended_Concatenation_Mark.
# Cf comes from unicodedata; the other sets are small and spelled out here (Unicode 15).
_OTHER_IGNORABLE_AND_SELECTORS = (
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180D),  # Mongolian free variation selectors
    (0x180F, 0x180F),
    (0x2065, 0x2065),
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF0, 0xFFF8),
    (0xE0000, 0xE0FFF),  # tags, variation selectors supplement, reserved
)
_FORMAT_BUT_VISIBLE = frozenset(
    [
        *range(0xFFF9, 0xFFFC),  # interlinear annotation
        *range(0x13430, 0x13440),  # Egyptian hieroglyph format controls
        # Prepended_Concatenation_Mark: number signs drawn around the digits they precede
        *range(0x0600, 0x0606),
        *(0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x110BD, 0x110CD),
    ]
)
#: Drawn as nothing though not default-ignorable: a blank made of it looks empty too.
_INVISIBLE_SYMBOLS = frozenset("\u2800")  # braille pattern blank


def is_default_ignorable(ch: str) -> bool:
    cp = ord(ch)
    if any(low <= cp <= high for low, high in _OTHER_IGNORABLE_AND_SELECTORS):
        return True
    return unicodedata.category(ch) == "Cf" and cp not in _FORMAT_BUT_VISIBLE


def is_blank(ch: str) -> bool:
    """Whether ``ch`` shows nothing: whitespace, default-ignorable or a blank symbol."""
    return ch.isspace() or ch in _INVISIBLE_SYMBOLS or is_default_ignorable(ch)


def skeleton(text: str) -> str:
    """UTS #39 ``skeleton``: NFD, each character replaced by its prototype, NFD again.

    The table holds only what a case-folded nick can contain (see ``gen_confusables``).
    """
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(CONFUSABLES.get(ch, ch) for ch in decomposed))


def cap_combining_runs(text: str, limit: int = MAX_COMBINING_RUN) -> str:
    """``text`` with every run of more than ``limit`` combining marks cut to ``limit``."""
    if text.isascii():
        return text  # the common case: no marks at all
    out: list[str] = []
    run = 0
    for ch in text:
        run = run + 1 if unicodedata.category(ch)[0] == "M" else 0
        if run <= limit:
            out.append(ch)
    return "".join(out)
