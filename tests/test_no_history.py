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


# A merge's conflict markers (a line that is exactly one of these, or starts with the
# seven-character opener or closer and a space); one once stood in a docstring, where Python
# runs it and only a reader sees it.
CONFLICT = re.compile(r"^(<{7}|>{7}) |^={7}$")


def conflict_markers(text: str) -> list[int]:
    return [number for number, line in enumerate(text.splitlines(), 1) if CONFLICT.match(line)]


def test_no_merge_conflict_markers_in_tracked_text():
    files = [path for pattern in ("*.py", "*.md", "*.toml", "*.cfg", "*.txt", "*.yml")
             for path in ROOT.rglob(pattern)
             if not {".venv", ".git", "node_modules", "executed"} & set(path.parts)]
    found = [f"{path.relative_to(ROOT)}:{number}" for path in files
             for number in conflict_markers(path.read_text(encoding="utf-8", errors="replace"))]
    assert found == [], "\n".join(found)


def test_the_marker_search_sees_a_conflict():
    text = "a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> branch\n"
    assert conflict_markers(text) == [2, 4, 6]
    assert conflict_markers("a = '======='\n# ==========\n") == []
