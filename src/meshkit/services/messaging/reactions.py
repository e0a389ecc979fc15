"""What a reaction may be: one emoji from the Unicode emoji set, or a known shortcode.

The rule is one set, taken from the ``emoji`` package (the Unicode emoji data, kept
current with each Unicode release): every emoji and emoji sequence it lists (skin tones,
ZWJ families, flags, keycaps) and every ``:shortcode:`` it names (GitHub/Slack aliases
and the CLDR names written in lower case). Nothing else passes: no text, no two emoji, no
stray joiner or variation selector, no bidi or other control character.

The set is written once, as :data:`REACTION_PATTERN`, a regular expression compiled from
a trie of the set. Pydantic validates the path parameter with it (Rust regex) and the
OpenAPI document carries the same pattern (ECMA-262), so a client, a generated SDK or a
fuzzer can know, without asking, exactly which values the server takes. It is long
(tens of kilobytes) because the set is; a shorter "looks like an emoji" pattern would
let schema-valid requests be refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

import emoji
from pydantic import Field

SHORTCODE_NAME = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_+-")
MAX_SHORTCODE = 40
_SPECIAL = frozenset("\\^$.|?*+()[]{}/")


def _escape(char: str) -> str:
    """Escape for both Rust regex and ECMA-262 ``u`` mode (which refuses ``\\-`` etc.)."""
    return "\\" + char if char in _SPECIAL else char


def _trie_pattern(words: Iterable[str]) -> str:
    """A regex matching exactly ``words`` (no anchors), sharing common prefixes."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def render(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [_escape(char) + render(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        if len(branches) == 1 and not ends:
            return branches[0]
        return "(?:" + "|".join(branches) + ")" + ("?" if ends else "")

    return render(trie)


def _shortcodes() -> frozenset[str]:
    found: set[str] = set()
    for data in emoji.EMOJI_DATA.values():
        for code in [data["en"], *data.get("alias", [])]:
            name = code[1:-1]
            if (
                code.startswith(":")
                and code.endswith(":")
                and 0 < len(name) <= MAX_SHORTCODE
                and set(name) <= SHORTCODE_NAME
            ):
                found.add(code)
    return frozenset(found)


EMOJI: frozenset[str] = frozenset(emoji.EMOJI_DATA)
"""Every emoji and emoji sequence of the Unicode emoji data."""
SHORTCODES: frozenset[str] = _shortcodes()
"""Every ``:shortcode:`` the server knows."""
REACTION_PATTERN = (
    "^(?::" + _trie_pattern(code[1:-1] for code in SHORTCODES) + ":|" + _trie_pattern(EMOJI) + ")$"
)
"""Exactly one of :data:`EMOJI` or :data:`SHORTCODES`."""
MAX_REACTION = max(len(value) for value in EMOJI | SHORTCODES)

Reaction = Annotated[
    str,
    Field(
        title="Reaction",
        max_length=MAX_REACTION,
        pattern=REACTION_PATTERN,
        description="One emoji of the Unicode emoji set (a single grapheme: skin tones, "
        "ZWJ sequences, flags and keycaps included), URL-encoded, or a `:shortcode:` the "
        "server knows (e.g. `:thumbs_up:`, `:+1:`, `:rocket:`). The pattern lists them "
        "all.",
    ),
]
"""A reaction, as a path parameter or a field: validated against the pattern."""


def is_reaction(value: str) -> bool:
    """Whether ``value`` is a reaction the server takes (the same set, without a regex)."""
    return value in EMOJI or value in SHORTCODES
