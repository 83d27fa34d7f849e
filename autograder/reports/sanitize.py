"""Text from student code made safe to show: no terminal escapes, no control characters, bounded length."""

from __future__ import annotations

import re

ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str, limit: int) -> str:
    """``text`` without ANSI sequences, control characters or lone surrogates, cut to ``limit`` characters."""
    text = text[:4 * limit]  # bound the work before the regular expressions run
    text = CONTROL.sub("", ANSI.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))
    text = text.encode("utf-8", "replace").decode("utf-8")
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n... (cut: only the first {limit} characters are shown)"
