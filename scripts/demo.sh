#!/usr/bin/env bash
# Sets up the machine, then runs the example UI suite end to end with `pytest --lambda`
# on the local stand-ins: a loopback S3 (moto_server) and the local Lambda
# (lambda-ui local-lambda, the real handler under awslambdaric, configured from template.yaml).
# No AWS account is used. Prints a summary and where the report, the HTML page and the
# screenshots are.
#
#   DEMO_SUITE=examples/demo ./scripts/demo.sh
#   DEMO_SUITE=examples/byo/selenium_fixture ./scripts/demo.sh -- --driver Chrome --base-url http://127.0.0.1:8765
#
# Arguments (after an optional "--") go to pytest as typed, as in a local run of the suite.
# BYO_FAIL, when set, also reaches the function's environments (examples/byo/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

CONCURRENCY=${DEMO_CONCURRENCY:-3}   # headless Chrome peaks at 2-3 at once on a 2-core machine
SUITE=${DEMO_SUITE:-examples/ui}
if [ "${1:-}" = "--" ]; then shift; fi
work=$(mktemp -d /tmp/lambda-ui-demo.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
s3_port=$(.venv/bin/python -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
.venv/bin/moto_server -H 127.0.0.1 -p "$s3_port" >"$work/s3.log" 2>&1 &
pids+=($!)
export AWS_ENDPOINT_URL_S3="http://127.0.0.1:$s3_port"
.venv/bin/python - <<'PY'
import time, boto3
for _ in range(200):
    try:
        boto3.client("s3").create_bucket(Bucket="demo-artifacts")
        break
    except Exception:
        time.sleep(0.05)
else:
    raise SystemExit("the loopback S3 did not start; see its log")
PY

# The function's environment is its own, not this shell's: pass the byo suites' switch on.
# --expect-credentials: only requests signed with the credentials exported above are run.
.venv/bin/lambda-ui local-lambda --template template.yaml --port 0 --concurrency "$CONCURRENCY" --expect-credentials \
  --prestart "$CONCURRENCY" --ready-file "$work/lambda.url" --pass-env BYO_FAIL -q >"$work/lambda.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do [ -s "$work/lambda.url" ] && break; sleep 0.1; done
[ -s "$work/lambda.url" ] || { cat "$work/lambda.log"; echo "the local Lambda did not start"; exit 1; }
export AWS_ENDPOINT_URL_LAMBDA=$(cat "$work/lambda.url")

mkdir -p reports
set +e
# The cache plugin is off; the plugin's own durations file (kept in reports/) orders the
# tests longest first, gives the status line its ETA and the dry run its estimate.
.venv/bin/python -m pytest "$SUITE" -p no:cacheprovider --lambda --lambda-function UiTestFunction \
  -o lambda_history_file=reports/lambda-durations.json \
  --lambda-concurrency "$CONCURRENCY" --artifacts s3://demo-artifacts/runs --junitxml reports/example-ui.xml "$@"
status=$?
set -e

echo
.venv/bin/lambda-ui report download reports/example-ui.xml reports/artifacts -o reports/example-ui.local.xml >/dev/null
.venv/bin/lambda-ui report html reports/example-ui.local.xml -o reports/example-ui.html
.venv/bin/lambda-ui report summary reports/example-ui.local.xml || true
echo
echo "JUnit report:  reports/example-ui.xml (links to s3://demo-artifacts/runs/...); reports/example-ui.local.xml links the downloaded copies"
echo "HTML report:   reports/example-ui.html (open it in a browser)"
echo "Screenshots:   reports/artifacts/ (downloaded from the loopback S3, which stops with this script)"
exit $status
