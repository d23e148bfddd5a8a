#!/usr/bin/env bash
# The GPU check of issue 12 (item 5) for a lent GPU machine (H100/H200 class, jax with CUDA,
# no installs needed: run from anywhere, it uses this checkout through PYTHONPATH):
#   (a) where float64 runs on the CPU and the GPU part (benchmarks/gpu_diagnose.py),
#   (b) the GPU tests,
#   (c) backprop bench with GPU ensembles K = 1, 1024, 16384 on the GPU and the same machine's
#       CPU, and the other ensemble layout on the GPU at K = 16384 for comparison.
# Full logs go to $OUT (default: a new temporary folder); a short table is printed last. About 3-5
# minutes on an H100; every step has its own time limit, so one stuck step cannot eat the rest.
set -u
cd "$(dirname "$0")/.."
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY="${PYTHON:-python3}"
step() {  # step NAME LIMIT_S COMMAND...: run, keep its status in $OUT/status.txt
    local name=$1 limit=$2
    shift 2
    local started=$SECONDS
    timeout "$limit" "$@"
    echo "$name: exit $? after $((SECONDS - started)) s" >> "$OUT/status.txt"
}
: > "$OUT/status.txt"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 || true
  nproc
  "$PY" -c "import jax, numpy, sys; print(sys.version); print('jax', jax.__version__, \
'numpy', numpy.__version__); print(jax.devices())"
} > "$OUT/machine.txt" 2>&1

step diagnose 100 "$PY" benchmarks/gpu_diagnose.py --json "$OUT/diagnose.json" \
    > "$OUT/diagnose.log" 2>&1
# pyproject's addopts ask for pytest-xdist (-n auto: 16 GPU processes on a 16-core machine);
# four workers share the GPU here, and without xdist it is plain pytest.
PYTEST_OPTIONS=(-q -p no:cacheprovider)
if "$PY" -c "import xdist" 2>/dev/null; then PYTEST_OPTIONS+=(-n 4)
else PYTEST_OPTIONS+=(-o "addopts=-ra"); fi
step pytest 150 "$PY" -m pytest "${PYTEST_OPTIONS[@]}" tests/training/test_training_jax.py \
    tests/training/test_ensemble.py tests/training/test_distributed.py > "$OUT/pytest.log" 2>&1
step bench 200 "$PY" -m autodiff bench --iterations 20,000 --ensemble-iterations 200 \
    --repeats 3 --json > "$OUT/bench.json" 2> "$OUT/bench.err"
"$PY" - "$OUT" > "$OUT/bench.txt" 2>> "$OUT/bench.err" <<'PYTHON'
import json, sys
from autodiff.training.bench_report import format_table, notes
found = json.load(open(f"{sys.argv[1]}/bench.json"))
print(format_table(found["records"], found["machine"]))
print("\n".join(f"note: {note}" for note in notes(found["records"])))
PYTHON
if "$PY" -c "import jax, sys; sys.exit(0 if jax.devices()[0].platform == 'gpu' else 1)" \
    2>/dev/null; then
    step layout 60 "$PY" -m autodiff bench --engines jax --ensemble-devices gpu \
        --ensemble-sizes 16384 --ensemble-iterations 200 --repeats 2 \
        --layout networks-first --json > "$OUT/bench_networks_first.json" \
        2> "$OUT/bench_networks_first.err"
else
    echo '{"skipped": "no GPU"}' > "$OUT/bench_networks_first.json"
fi
cat "$OUT/bench.txt" "$OUT/status.txt"
echo
"$PY" benchmarks/gpu_summary.py "$OUT"
echo "logs: $OUT"
