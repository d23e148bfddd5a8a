"""argparse ``type`` readers shared by the command line and ``python -m`` entry points.

Each returns a parser that raises ``argparse.ArgumentTypeError`` naming what it expected, so
argparse reports the option, the text and the expectation in one line of its own usage.
"""

from __future__ import annotations

import argparse
import re

_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+")


def comma_list(cast, what: str):
    """A reader of ``a,b,…`` as a list of ``cast`` values (``what`` names them in the error);
    empty items are skipped, so ``""`` is the empty list."""

    def parse(text: str) -> list:
        try:
            return [cast(item) for item in text.split(",") if item]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what} a,b,…, got {text!r}") from None

    return parse


def whole_number(text: str) -> int | None:
    """``text`` as an integer, its digits optionally grouped as the help texts write them
    (``50,000``, ``50_000``); ``None`` if it is not one (``5,0`` is not)."""
    try:
        return int(text.replace(",", "") if _THOUSANDS.fullmatch(text) else text)
    except ValueError:
        return None


def count(minimum: int = 1):
    """A reader of an integer ``>= minimum`` that may group its digits as the help texts
    write them: ``50,000``, ``50_000`` and ``50000`` are all 50000 (``5,0`` is refused)."""

    def parse(text: str) -> int:
        value = whole_number(text)
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(
                f"expected a whole number >= {minimum} such as 50,000, got {text!r}")
        return value

    return parse
