"""Visitor text made safe for one-line places such as email headers."""

import re

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
