"""One escaping for everything a submission can put into an output: text, CSV, JSON, file names.

A file's name and what its code says (an exception's message, a load error) come from the
student. Before they reach a terminal, a gradebook cell, Gradescope's or PrairieLearn's JSON,
or the name of a results file, ``escaped`` writes every character that is not printable as a
Python escape: control characters (tab, newline, ESC, C1), the bidirectional controls (U+202A
to U+202E, U+2066 to U+2069, U+200E/F) and every other format character, line and paragraph
separators, and the lone surrogates of a file name that is not UTF-8 (``\\udce9`` for a Latin-1
"é"). The result is printable, one line, and escaping it again changes nothing.
"""

from __future__ import annotations

# What a spreadsheet reads as the start of a formula (OWASP's list; tab and CR are escaped).
FORMULA_STARTS = ("=", "+", "-", "@")
# Linux refuses a file name longer than this many bytes (NAME_MAX), whatever its characters.
NAME_MAX = 255


def escaped(text: str, limit: int | None = None) -> str:
    """``text`` cut to ``limit`` characters (`` …`` marks a cut), every non-printable
    character written as its escape (``\\n``, ``\\x1b``, ``\\u202e``, ``\\udce9``)."""
    text = str(text)
    if limit is not None and len(text) > limit:
        text = text[:limit] + " …"
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace")
                   .decode("ascii") for c in text)


def cell(value):
    """A CSV cell a spreadsheet shows as the text it is: escaped, and a string whose first
    non-blank character would start a formula gets a leading ``'``. Numbers are kept."""
    if not isinstance(value, str):
        return value
    text = escaped(value)
    if value.lstrip()[:1] in FORMULA_STARTS or text.lstrip()[:1] in FORMULA_STARTS:
        return "'" + text
    return text


def file_name(stem: str, suffix: str, taken: set[str]) -> str:
    """``stem + suffix`` escaped, its stem cut so that the name fits in ``NAME_MAX`` bytes of
    UTF-8, and made distinct from ``taken`` (``-2``, ``-3`` … before ``suffix``); the name is
    added to ``taken``."""
    stem = escaped(stem).replace("/", "_")
    count = 1
    while True:
        tail = suffix if count == 1 else f"-{count}{suffix}"
        name = _cut(stem, NAME_MAX - len(tail.encode())) + tail
        if name not in taken:
            taken.add(name)
            return name
        count += 1


def _cut(text: str, size: int) -> str:
    """The longest start of ``text`` whose UTF-8 takes at most ``size`` bytes (whole
    characters only)."""
    return text.encode()[:size].decode("utf-8", "ignore")
