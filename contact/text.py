"""Visitor text made safe for one-line places such as email headers."""

import re
import unicodedata

# Line breaks (including Unicode's) and other control characters have no
# place in a one-line field that ends up in an email header; nor have the
# invisible ones that reverse the text around them (a name that displays as
# something else) or take no space at all (a subject that looks empty).
_CONTROL_CHARACTERS = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u200b\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]+"
)


def one_line(value: str) -> str:
    """Return ``value`` on one line: control characters and runs of
    whitespace become single spaces, and the ends are trimmed."""
    return " ".join(_CONTROL_CHARACTERS.sub(" ", value).split())


# Characters that draw nothing though Unicode files them as letters, symbols
# or marks: Hangul fillers, the blank Braille pattern, the combining
# grapheme joiner.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f")


def looks_empty(value: str) -> bool:
    """Return True if ``value`` shows nothing: only spaces, line breaks,
    control and format characters (zero-width joiners, direction marks, soft
    hyphens, tags) and characters drawn blank."""
    return all(
        unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp")
        or char in _BLANK_LOOKING
        for char in value
    )
