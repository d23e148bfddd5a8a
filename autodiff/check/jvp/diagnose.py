"""Name the pattern behind a wrong tangent of ``check_jvp``, beyond ``vjp.diagnose``'s
array-level slips (a sign, 2, ½, N, a transpose, zeros): a tangent that leaves out one
argument's term of the chain rule (``x·dW`` forgotten beside ``dx·W``), that holds only one
argument's term, that is the primal output itself, or an input's tangent passed through
unchanged (the local derivative forgotten). Each argument's own term ``J_i·t_i`` is
asked of the same oracle with the other tangents set to zero, only for a failing tangent."""

from __future__ import annotations

import numpy as np

from autodiff.core.diagnose import Diagnosis


def _close(got, value, limit: float) -> bool:
    return np.shape(got) == np.shape(value) and bool(np.all(np.abs(got - value) <= limit))


def term_diagnoses(got: np.ndarray, expected: np.ndarray, limit: float, terms: dict,
                   primal: np.ndarray, tangents: dict) -> list[Diagnosis]:
    """The first pattern ``got`` matches within ``limit``: ``terms`` maps each argument's name
    to its own term of the tangent (``None`` where it could not be had), ``tangents`` to its
    tangent."""
    present = {name: term for name, term in terms.items()
               if term is not None and np.any(np.abs(term) > limit)}
    if len(present) > 1:
        for name, term in present.items():
            if _close(got, expected - term, limit):
                return [Diagnosis("missing_term", f"the term of {name} is missing: the tangent "
                                  f"holds every argument's term of the chain rule but "
                                  f"{name}'s")]
        for name, term in present.items():  # (of two arguments, "missing" said it already)
            if _close(got, term, limit):
                return [Diagnosis("only_term", f"only {name}'s term: the other arguments' "
                                  "tangents are not carried through")]
            if _close(got, expected - 2 * term, limit):
                return [Diagnosis("sign_term", f"the term of {name} has the wrong sign")]
    if _close(got, primal, limit) and not _close(expected, primal, limit):
        return [Diagnosis("primal", "the tangent is the primal output: the rule returns out "
                          "where its tangent belongs")]
    for name, tangent in tangents.items():
        if _close(got, tangent, limit) and not _close(expected, tangent, limit):
            return [Diagnosis("passed_through", f"the tangent of {name} passed through "
                              "unchanged: the local derivative is missing")]
    return []
