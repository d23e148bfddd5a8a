"""Hypothesis profiles: "ci" (the default) is deterministic and modest, so the suite is
reproducible and fits its time budget; "thorough" (``HYPOTHESIS_PROFILE=thorough``) explores
far more examples for a local or nightly run.

On a GPU machine every xdist worker is a JAX process, and JAX's default is to take 75% of the
GPU's memory at its first use: the second worker then fails with CUDA_ERROR_OUT_OF_MEMORY (seen
on an H100 with 16 workers). The tests' arrays are tiny, so each worker allocates on demand.
The command line's compilation cache goes to a temporary folder, never the real home."""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

# The tests mirror the package's folders; the helpers they share (grade_arena,
# layer_examples) stay beside this file, importable from every folder.
sys.path.insert(0, str(Path(__file__).parent))

# The command line keeps compiled programs in ~/.cache (autodiff.core.compile_cache); the
# suite's commands, in process or in a child, keep them in a folder of this worker's own.
_COMPILE_CACHE = tempfile.mkdtemp(prefix="backprop-compile-cache-")
atexit.register(shutil.rmtree, _COMPILE_CACHE, ignore_errors=True)
os.environ["BACKPROP_COMPILE_CACHE"] = _COMPILE_CACHE
os.environ.pop("JAX_COMPILATION_CACHE_DIR", None)

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
