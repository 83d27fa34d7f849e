"""Text from student code made safe to show and to store, whatever the student's code put in it.

Feedback quotes exception messages and printed output of student code.  Before
any of it reaches a terminal, a page or a file, :func:`clean` makes control
characters visible as escapes (so an ANSI sequence cannot repaint the
instructor's terminal), turns carriage returns into newlines (so no line can be
overwritten), and replaces lone surrogates by U+FFFD (so the text is valid
UTF-8); :func:`capped` bounds its length.
"""

from __future__ import annotations

import re
from typing import Any

CASE_CHARS = 2000  # feedback of one case, and what the student's code printed
REPORT_CHARS = 64_000  # all feedback of one submission
# C0 controls but tab and newline, DEL, C1 controls, bidirectional overrides and isolates, line separators.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """``text`` with control characters shown as escapes (``\\x1b``) and lone surrogates replaced."""
    text = SURROGATE.sub("\ufffd", text.replace("\r\n", "\n").replace("\r", "\n"))
    return UNSAFE.sub(_escape, text)


def clean_tree(value: Any) -> Any:
    """A JSON-like tree with every string in it cleaned."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean_tree(key): clean_tree(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_tree(item) for item in value]
    return value


def capped(text: str, limit: int) -> str:
    """``text``, cut to ``limit`` characters with a note saying so."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n... (cut: only the first {limit} characters are shown)"


def printable(text: str, limit: int) -> str:
    """``text`` cleaned and cut to ``limit`` characters (the work is bounded first)."""
    return capped(clean(text[:4 * limit]), limit)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
