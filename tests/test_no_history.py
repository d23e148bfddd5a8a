"""The code says what it does now: no compatibility shims (re-exports of a moved name kept
importable at its old place) and no history in ``autodiff/`` or ``reference/``."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Phrases that only a shim or a history comment uses; words like "was" describe runs too.
HISTORY = re.compile(r"old home|still importable|for compatibility|backwards? compatib|"
                     r"previously|used to be|formerly|deprecated", re.IGNORECASE)


def test_no_shims_or_history_comments():
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for folder in ("autodiff", "reference")
             for path in sorted((ROOT / folder).rglob("*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if HISTORY.search(line)]
    assert found == [], "\n".join(found)
