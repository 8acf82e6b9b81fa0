"""What a reaction may be: one emoji, and the ``:shortcode:`` names users type for them.

A reaction is one emoji as a user sees one: a single grapheme cluster built the way
emoji are built (UTS #51): a pictograph with an optional presentation selector and skin
tone, several of those joined by ZERO WIDTH JOINER (👩‍💻), a flag (two regional
indicators, or a tag sequence), or a keycap (``1️⃣``). Letters, words, two emoji side by
side and invisible text are not reactions.
"""

from __future__ import annotations

from .errors import Code, ProtocolError

__all__ = ["SHORTCODES", "check_emoji", "expand_shortcode"]

#: Longest reaction, in code points (the longest emoji ZWJ sequences have 10).
MAX_EMOJI = 16

_ZWJ = 0x200D
_VS16 = 0xFE0F
_KEYCAP = 0x20E3
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_REGIONAL = range(0x1F1E6, 0x1F200)
_TAGS = range(0xE0020, 0xE007F)
_CANCEL_TAG = 0xE007F
_KEYCAP_BASES = frozenset(map(ord, "0123456789#*"))

# Extended_Pictographic, in ranges (emoji-data.txt, rounded to the blocks it fills).
_PICTOGRAPHS = (
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21A9, 0x21AA),
    (0x231A, 0x231B),
    (0x2328, 0x2328),
    (0x23CF, 0x23CF),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25AB),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x2600, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1F000, 0x1F1E5),
    (0x1F201, 0x1F3FA),
    (0x1F400, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
)

#: ``:name:`` -> emoji, for what people react with most (Slack and GitHub names).
SHORTCODES: dict[str, str] = {
    "+1": "👍",
    "thumbsup": "👍",
    "-1": "👎",
    "thumbsdown": "👎",
    "tada": "🎉",
    "white_check_mark": "✅",
    "check": "✅",
    "eyes": "👀",
    "heart": "❤️",
    "joy": "😂",
    "smile": "😄",
    "laughing": "😆",
    "wink": "😉",
    "thinking": "🤔",
    "cry": "😢",
    "open_mouth": "😮",
    "fire": "🔥",
    "rocket": "🚀",
    "clap": "👏",
    "pray": "🙏",
    "100": "💯",
    "ok_hand": "👌",
    "wave": "👋",
    "raised_hands": "🙌",
    "muscle": "💪",
    "star": "⭐",
    "bulb": "💡",
    "warning": "⚠️",
    "x": "❌",
    "question": "❓",
    "bug": "🐛",
    "coffee": "☕",
    "party": "🥳",
    "sob": "😭",
    "see_no_evil": "🙈",
}


def _pictograph(cp: int) -> bool:
    return any(low <= cp <= high for low, high in _PICTOGRAPHS)


def _element(cps: list[int], i: int) -> int:
    """Index after the emoji element starting at ``i`` (pictograph, optional VS16 or
    skin tone), or -1 when none starts there."""
    if i >= len(cps) or not _pictograph(cps[i]):
        return -1
    i += 1
    if i < len(cps) and (cps[i] == _VS16 or cps[i] in _SKIN_TONES):
        i += 1
    return i


def _is_emoji(cps: list[int]) -> bool:
    if len(cps) == 2 and all(cp in _REGIONAL for cp in cps):
        return True  # a flag
    if cps[0] in _KEYCAP_BASES:
        return cps[1:] in ([_VS16, _KEYCAP], [_KEYCAP])
    end = _element(cps, 0)
    if end < 0:
        return False
    if cps[end:] and cps[end] in _TAGS:  # subdivision flags: 🏴 + tags + cancel tag
        tags = cps[end:-1]
        return cps[-1] == _CANCEL_TAG and bool(tags) and all(t in _TAGS for t in tags)
    while end < len(cps):
        if cps[end] != _ZWJ:
            return False
        end = _element(cps, end + 1)
        if end < 0:
            return False
    return True


def check_emoji(raw: str) -> str:
    """``raw`` if it is one emoji (a ``:shortcode:`` of :data:`SHORTCODES` is turned into
    its emoji); raises ``bad_arguments`` otherwise."""
    emoji = expand_shortcode(raw.strip())
    cps = list(map(ord, emoji))
    if not cps or len(cps) > MAX_EMOJI or not _is_emoji(cps):
        raise ProtocolError(Code.BAD_ARGUMENTS, "a reaction is one emoji, like 👍 or :+1:")
    return emoji


def expand_shortcode(text: str) -> str:
    """The emoji ``:name:`` stands for, or ``text`` unchanged."""
    if len(text) > 2 and text.startswith(":") and text.endswith(":"):
        return SHORTCODES.get(text[1:-1].lower(), text)
    return text
