#!/usr/bin/env bash
# Upgrade the pinned dependency set: resolve the newest versions pyproject.toml allows in a scratch
# virtualenv, run the test suite there, and only if it passes write them to constraints.txt.
#
#   scripts/lock.sh            # then review `git diff constraints.txt` and commit it with the tests' result
#   LLAMA_CPP_PYTHON=0.3.40 scripts/lock.sh   # also move llama-cpp-python (default: keep the pinned one)
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
current=$(sed -n 's/^llama-cpp-python==\([^ ;]*\).*/\1/p' constraints.txt)
llama=${LLAMA_CPP_PYTHON:-$current}
# the install script reads the llama-cpp-python pin from the constraints file it is given
printf 'llama-cpp-python==%s\n' "$llama" > "$scratch/constraints.txt"
git worktree add -q --detach "$scratch/tree" HEAD
cp "$scratch/constraints.txt" "$scratch/tree/constraints.txt"
git diff HEAD -- . ':!constraints.txt' | (cd "$scratch/tree" && git apply --allow-empty)
(cd "$scratch/tree" && scripts/install.sh && .venv/bin/python -m pytest -q -x)
{
  echo "# The exact versions CI tested (scripts/lock.sh wrote this; scripts/install.sh installs from it)."
  echo "# Python $(cd "$scratch/tree" && .venv/bin/python -c 'import platform; print(platform.python_version())'), $(date -u +%Y-%m-%d)."
  (cd "$scratch/tree" && .venv/bin/python -m pip freeze --all --exclude-editable | grep -v -i '^radlite[= ]' \
     | sed -E "s/^llama[_-]cpp[_-]python @ .*/llama-cpp-python==$llama/" | sort -f)
} > constraints.txt
git worktree remove --force "$scratch/tree"
echo "constraints.txt updated; the suite passed with it" >&2
