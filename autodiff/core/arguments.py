"""argparse ``type`` readers shared by the command line and ``python -m`` entry points.

Each returns a parser that raises ``argparse.ArgumentTypeError`` saying what it expected, with
an example of the option's own kind, so argparse reports the option, the text and the
expectation in one line of its own usage (``argument --ensemble: expected …, got '0'``).
``picture_path`` checks where a picture is to be written before the work that draws it.
"""

from __future__ import annotations

import argparse
import math
import os
import re

_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+")


def comma_list(cast, what: str, example: str):
    """A reader of ``a,b,…`` as a non-empty list of ``cast`` values; ``what`` names them and
    ``example`` shows one such list in the error. An empty item (``1,,2``) is refused, not
    skipped: a slip of the finger must not change the run silently."""

    def parse(text: str) -> list:
        items = text.split(",")
        try:
            if not all(items):
                raise ValueError
            return [cast(item) for item in items]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {what} such as {example}, got {text!r}") from None

    return parse


def whole_number(text: str) -> int | None:
    """``text`` as an integer, its digits optionally grouped as the help texts write them
    (``50,000``, ``50_000``); ``None`` if it is not one (``5,0`` is not)."""
    try:
        return int(text.replace(",", "") if _THOUSANDS.fullmatch(text) else text)
    except ValueError:
        return None


def count(minimum: int, example: str, maximum: int | None = None, why: str = ""):
    """A reader of an integer ``>= minimum`` (and ``<= maximum`` if given; ``why`` says why
    not more) that may group its digits as the help texts write them: ``50,000``, ``50_000``
    and ``50000`` are all 50000 (``5,0`` is refused). ``example`` is a value of this option."""

    def parse(text: str) -> int:
        value = whole_number(text)
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(
                f"expected a whole number >= {minimum} such as {example}, got {text!r}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(
                f"expected at most {maximum:,}, got {text!r}{f' ({why})' if why else ''}")
        return value

    return parse


def layer_sizes(text: str) -> list[int]:
    """``n_in,…,n_out``: at least two whole numbers >= 1 (a width of 0 has no units to train,
    a negative one is no width)."""
    sizes = [whole_number(item) for item in text.split(",")]
    if len(sizes) < 2 or any(size is None or size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(
            f"expected layer widths n_in,…,n_out: two or more whole numbers >= 1 such as "
            f"1,6,7,2, got {text!r}")
    return sizes


def numbers(what: str, example: str, positive: bool = False):
    """A reader of a comma list of finite numbers, each ``> 0`` if ``positive`` else
    ``>= 0``; ``what`` names one of them and ``example`` shows a list."""
    bound = "> 0" if positive else ">= 0"
    read = comma_list(float, f"{what}s", example)

    def parse(text: str) -> list[float]:
        values = read(text)
        if not all(math.isfinite(v) and (v > 0 if positive else v >= 0) for v in values):
            raise argparse.ArgumentTypeError(
                f"expected finite {what}s {bound} such as {example}, got {text!r}")
        return values

    return parse


def counts(example: str):
    """A reader of a comma list of whole numbers >= 1 (``example`` shows one); ``""`` is
    the empty list, for an option where none is a choice."""

    def parse(text: str) -> list[int]:
        values = [whole_number(item) for item in text.split(",")] if text else []
        if any(value is None or value < 1 for value in values):
            raise argparse.ArgumentTypeError(
                f"expected whole numbers >= 1 such as {example}, got {text!r}")
        return values

    return parse


def picture_path(flag: str, path: str, default_name: str, suffixes) -> str:
    """Where a picture option (``--output``, ``--gif``, ``--plot``) writes: into ``path`` if it
    is a folder, with
    ``default_name``'s suffix added when ``path`` has none; a UsageError for a suffix not in
    ``suffixes`` or a folder that does not exist."""
    from autodiff.cli import UsageError

    if os.path.isdir(path):
        return os.path.join(path, default_name)
    if path.endswith((os.sep, "/")):  # meant as a folder: not 'nosuchdir/.png'
        raise UsageError(f"{flag}: the folder {path!r} does not exist")
    suffix = os.path.splitext(path)[1].lower().lstrip(".")
    if not suffix:
        path += os.path.splitext(default_name)[1]
    elif suffix not in suffixes:
        raise UsageError(f"{flag}: cannot write a {suffix!r} picture to {path!r}; expected "
                         f"one of {', '.join(sorted(suffixes))}")
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise UsageError(f"{flag}: the folder of {path!r} does not exist")
    return path
