"""The commands' progress bars: tqdm on stderr, shown only where stderr is a terminal.

A terminal may report its size as 0 columns by 0 rows (a pseudo-terminal nobody sized: an
editor's shell, ``script``, an agent's session). tqdm then draws nothing at all, so a run of
minutes looked hung; the bar takes the size ``shutil.get_terminal_size`` gives instead, which
falls back to ``$COLUMNS``/``$LINES`` or 80 by 24 when the terminal says 0.
"""

from __future__ import annotations

import shutil
import sys


def wanted(quiet: bool = False) -> bool:
    """Whether to draw a bar: stderr is a terminal and the command was not asked for JSON."""
    return not quiet and sys.stderr.isatty()


def progress_bar(total: int, enabled: bool, **options):
    """A tqdm bar of ``total`` steps on stderr (``options`` go to tqdm: ``unit``, ``desc``,
    ``leave``); a disabled one, which draws nothing and costs nothing, unless ``enabled``."""
    from tqdm import tqdm

    columns, lines = shutil.get_terminal_size()
    return tqdm(total=total, disable=not enabled, file=sys.stderr, ncols=columns,
                nrows=lines, **options)
