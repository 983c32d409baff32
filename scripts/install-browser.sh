#!/usr/bin/env bash
# Headless Chromium for the review page's browser tests (tests/review/test_page.py), from Debian's packages:
# Playwright's own browser download is not used. Idempotent: does nothing when /usr/bin/chromium exists.
# Playwright for Python comes with the project's `browser` extra (part of `dev`): pip install -e '.[browser]'.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  /usr/bin/chromium --version
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium
/usr/bin/chromium --version
