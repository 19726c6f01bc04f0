#!/usr/bin/env bash
# Sets up the machine, then runs the example UI suite end to end on local headless Chromium:
# a JUnit report in reports/, and a filmstrip of screenshots per test under artifacts/<run-id>/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p reports
set +e
.venv/bin/python -m pytest examples/ui -p no:cacheprovider \
  --artifacts-mode=filmstrip --junitxml=reports/example-ui.xml "$@"
status=$?
set -e
echo
echo "JUnit report: reports/example-ui.xml (artifact links as [[ATTACHMENT|...]] lines and <property> entries)"
echo "Screenshots:  under artifacts/ (newest run: $(ls -1t artifacts 2>/dev/null | head -1))"
exit $status
