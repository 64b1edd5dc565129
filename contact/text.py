"""Visitor text made safe for one-line places such as email headers."""

import re

# Line breaks (including Unicode's) and other control characters have no
# place in a one-line field that ends up in an email header.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(value: str) -> str:
    """Return ``value`` on one line: control characters and runs of
    whitespace become single spaces, and the ends are trimmed."""
    return " ".join(_CONTROL_CHARACTERS.sub(" ", value).split())
