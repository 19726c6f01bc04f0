#!/usr/bin/env bash
# Sets up the machine, then runs the project's own tests (unit, pytester, and end-to-end
# against real Chromium and a loopback S3 that the tests start themselves).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m pytest tests "$@"
