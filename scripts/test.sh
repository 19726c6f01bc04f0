#!/usr/bin/env bash
# Sets up the machine, then runs the project's own tests (unit, pytester, and end-to-end
# against real Chromium and a loopback S3 that the tests start themselves).
#
# The tests run on pytest-xdist workers ($TEST_WORKERS, default 4), whole files at a time
# (--dist loadfile): the end-to-end files share module-scoped stand-ins (a local Lambda, a
# loopback S3) that must be started once per file, not once per worker, and examples/byo's
# suites serve their app on fixed ports, which one file at a time keeps free. Four workers
# on two cores: much of a worker's time is a test waiting (deadlines, timeouts, a stand-in's
# answer), and more workers fill it: 512 s at two, 466 s at three, 415 s at four, where each
# test took about as long as at three (docs/benchmarks.md).
# Arguments go to pytest after these, so `-n 0` runs serially, `-m "not e2e"` starts no browser.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Python's and pytest's caches of compiled code, as a developer's machine keeps them (and the
# function image, compiled by pip): a machine that sets PYTHONDONTWRITEBYTECODE makes each of
# the ~500 Python processes a run starts compile the project and rewrite pytest's plugins again,
# 0.10-0.15 CPU-s each (docs/benchmarks.md). The caches are ignored by git and by the bundle.
unset PYTHONDONTWRITEBYTECODE
exec .venv/bin/python -m pytest tests -n "${TEST_WORKERS:-4}" --dist loadfile "$@"
