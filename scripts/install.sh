#!/usr/bin/env bash
# Install RadLite ETL into .venv from the tested, pinned dependency set (constraints.txt).
#
# llama-cpp-python is built from source for a fixed, portable CPU baseline (x86-64-v3: AVX2, FMA,
# F16C; no AVX-512, no AMX kernels) so that it runs on any x86-64 server of the last ten years,
# instead of pip's default `-march=native` build (which crashes on AMX CPUs with 0.3.36).
# The built wheel is kept in our own cache keyed by version AND flags, so a wheel that pip cached
# from some other build is never reused by accident.
#
#   scripts/install.sh              # runtime + dev/test extras, portable llama.cpp
#   RADLITE_LLAMA_BUILD=tuned scripts/install.sh   # opt in: llama.cpp tuned to THIS host (see docs/performance.md)
#   RADLITE_EXTRAS=dask scripts/install.sh         # other extras (default: dev)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
python=${PYTHON:-python3}
extras=${RADLITE_EXTRAS:-dev}
build=${RADLITE_LLAMA_BUILD:-portable}

version=$(sed -n 's/^llama-cpp-python==\([^ ;]*\).*/\1/p' constraints.txt)
[ -n "$version" ] || { echo "error: constraints.txt pins no llama-cpp-python version" >&2; exit 1; }

case "$build" in
  portable) cmake_args=$(grep -v '^#' scripts/llama-cpp-portable.cmake-args | tr '\n' ' ') ;;
  # -march=native, minus AMX. ggml reads GGML_AMX_*=OFF only when GGML_NATIVE=OFF: on an AMX host
  # -march=native alone compiles the crashing AMX kernels in, so the compiler is told -mno-amx-* too.
  tuned) no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
    cmake_args="-DGGML_NATIVE=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF '-DCMAKE_C_FLAGS=$no_amx' '-DCMAKE_CXX_FLAGS=$no_amx'" ;;
  *) echo "error: RADLITE_LLAMA_BUILD must be 'portable' or 'tuned', not '$build'" >&2; exit 1 ;;
esac
key=$(printf '%s %s %s' "$version" "$build" "$cmake_args" | sha256sum | cut -c1-16)
cache=${RADLITE_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/radlite/wheels}/llama-cpp-python-$version-$build-$key
if [ "$build" = tuned ]; then
  # a tuned wheel is only right for the CPU it was built on
  cache=$cache-$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null | sha256sum | cut -c1-12)
fi

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade -c constraints.txt pip

if ! ls "$cache"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "building llama-cpp-python $version ($build: $cmake_args); about 5 minutes, once per machine" >&2
  tmp=$(mktemp -d)
  CMAKE_ARGS="$cmake_args" FORCE_CMAKE=1 .venv/bin/python -m pip wheel -q --no-deps --no-cache-dir \
    --no-binary llama-cpp-python -w "$tmp" "llama-cpp-python==$version"
  mkdir -p "$(dirname "$cache")"
  rm -rf "$cache" && mv "$tmp" "$cache"
  printf '%s\n' "$cmake_args" > "$cache/CMAKE_ARGS"
fi
wheel=$(ls "$cache"/llama_cpp_python-*.whl)
.venv/bin/python -m pip install -q --force-reinstall --no-deps "$wheel"
.venv/bin/python -m pip install -q -c constraints.txt "$wheel" -e ".[$extras]"
printf '{"build": "%s", "version": "%s", "cmake_args": "%s", "wheel": "%s"}\n' "$build" "$version" \
  "$(echo $cmake_args)" "$(basename "$wheel")" > .venv/radlite-llama-build.json
echo "installed: $(.venv/bin/python -c 'import llama_cpp; print("llama-cpp-python", llama_cpp.__version__)') ($build build)" >&2
