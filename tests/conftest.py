"""Hypothesis profiles: "ci" (the default) is deterministic and modest, so the suite is
reproducible and fits its time budget; "thorough" (``HYPOTHESIS_PROFILE=thorough``) explores
far more examples for a local or nightly run."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=15,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    deadline=None,
    max_examples=500,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
