"""The cases of one grading run and their expected Jacobians: the same for every submission.

Under one seed, hypothesis draws the same cases for every submission until one of them fails,
so the run draws them once (``draw_cases``), computes ``jax.grad`` on each once, and sends
them to every sandbox in one batch. When a function fails, the grader runs hypothesis' own
search again with the same seed and settings: it replays these cases (answered from the
batch, without calling the child) up to the first failing one, then shrinks it.

The default seed is fresh for every run (``fresh_seed``) and printed in the report, so that
``--seed`` reproduces a run and a table of answers recorded against one seed is useless.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import tempfile
import threading

from hypothesis import HealthCheck, Phase, Verbosity, configuration, find, settings
from hypothesis.errors import NoSuchExample

from autodiff.core import worksheet_oracle as oracle
from autodiff.grading.cases import Case, cases, saturated_case, worksheet_case


def fresh_seed() -> int:
    return secrets.randbelow(2**32)


def search_settings(examples: int) -> settings:
    """Hypothesis' settings for a grading: the seed, not a test profile, decides the cases;
    no explain phase (it costs a hundred calls per failing function and says nothing here)."""
    return settings(max_examples=examples, database=None, deadline=None, derandomize=False,
                    suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
                    phases=(Phase.generate, Phase.shrink))


class _PrivateStorage:
    """Hypothesis' storage folder moved, while any grader's search runs, to a temporary one
    removed after: with ``database=None`` it still caches the constants it reads from local
    modules under ``.hypothesis/`` of the folder the grader started in (a class's folder).
    Nested and concurrent searches share one folder; the last to end restores the old one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._folder: tempfile.TemporaryDirectory | None = None
        self._previous = None

    @contextlib.contextmanager
    def __call__(self):
        with self._lock:
            if self._users == 0:
                self._previous = configuration.storage_directory(intent_to_write=False).path
                self._folder = tempfile.TemporaryDirectory(prefix="backprop-grade-")
                configuration.set_hypothesis_home_dir(self._folder.name)
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    configuration.set_hypothesis_home_dir(self._previous)
                    self._folder.cleanup()


private_storage = _PrivateStorage()


def search(strategy, condition, seed: int, examples: int):
    """Hypothesis' ``find`` with the grading's settings and ``seed``, its storage private."""
    with private_storage():
        return find(strategy, condition, settings=search_settings(examples),
                    random=random.Random(seed))


def draw_cases(seed: int, examples: int) -> list[Case]:
    """The cases hypothesis' search with ``seed`` tries, in order, when none fails."""
    drawn: list[Case] = []

    def record(case: Case) -> bool:
        drawn.append(case)
        return False

    with contextlib.suppress(NoSuchExample):  # none failed: the search's usual end
        search(cases(), record, seed, examples)
    return drawn


class CaseBook:
    """The run's cases (the worksheet's own, its saturated twin, then the drawn ones) and a
    cache of expected Jacobians and tolerances, keyed by case. Picklable, for the workers."""

    def __init__(self, seed: int, examples: int):
        self.seed, self.examples = seed, examples
        self.fixed = [worksheet_case(), saturated_case(seed)]
        self.drawn = draw_cases(seed, examples)
        self._oracle: dict[bytes, tuple[dict, dict]] = {}

    @property
    def cases(self) -> list[Case]:
        return [*self.fixed, *self.drawn]

    def oracle(self, case: Case) -> tuple[dict, dict]:
        """Expected Jacobians and tolerances of ``case``, keyed by block, computed once."""
        key = case.key
        if key not in self._oracle:
            self._oracle[key] = (oracle.expected_jacobians(case.params, case.x, case.y),
                                 oracle.tolerance(case.params, case.x, case.y))
        return self._oracle[key]

    def warm(self) -> CaseBook:
        """Compute every case's expected values now (before the book is sent to workers)."""
        for case in self.cases:
            self.oracle(case)
        return self
