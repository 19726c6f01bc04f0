#!/usr/bin/env bash
# Lints the code, then the deploy template (template.yaml, or the file given as $1):
#   1. ruff (rules in pyproject.toml [tool.ruff]) must report nothing;
#   2. mypy (pyproject.toml [tool.mypy]: every package, --strict flags on the modules listed there) must report nothing;
#   3. cfn-lint must report nothing (exit code 0);
#   4. checkov (CloudFormation checks) must report no failed check. A check may be skipped
#      only in the template, with a written reason (Metadata checkov skip `comment`).
# ruff and mypy come with the project's test extra in .venv (scripts/setup.sh). cfn-lint and
# checkov live in their own virtualenv, .venv-lint: checkov pins an old boto3 and must
# never be installed into the project's .venv. Safe to run again: the venvs are reused while
# the pinned versions are unchanged, and nothing is downloaded then.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
echo "lint: ruff"
ruff_status=0
.venv/bin/ruff check . || ruff_status=$?
echo "lint: mypy"
# mypy cannot read setuptools' editable-install finder, so it reads the code through a tree of
# symlinks shaped like the installed package (setup.py's folder map): lambda_ui/runner -> runner/, ...
view=.venv/mypy-view/lambda_ui
rm -rf .venv/mypy-view && mkdir -p "$view"
ln -s "$PWD/wire/__init__.py" "$PWD/wire/contract.py" "$view/"
ln -s "$PWD/runner" "$view/runner"
ln -s "$PWD/lambda_pkg" "$view/function"
ln -s "$PWD/bin" "$view/cli"
ln -s "$PWD/local_lambda" "$view/local_lambda"
mypy_status=0
.venv/bin/mypy || mypy_status=$?

CFN_LINT_VERSION=1.58.0
CHECKOV_VERSION=3.3.30
TEMPLATE=${1:-template.yaml}
VENV=.venv-lint
stamp="$VENV/.installed-cfn-lint-$CFN_LINT_VERSION-checkov-$CHECKOV_VERSION"

if [ ! -e "$stamp" ]; then
  echo "lint: installing cfn-lint $CFN_LINT_VERSION and checkov $CHECKOV_VERSION into $VENV"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q "cfn-lint==$CFN_LINT_VERSION" "checkov==$CHECKOV_VERSION"
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi

echo "lint: cfn-lint $TEMPLATE"
cfn_status=0
"$VENV/bin/cfn-lint" "$TEMPLATE" || cfn_status=$?

echo "lint: checkov $TEMPLATE"
report=$(mktemp)
trap 'rm -f "$report"' EXIT
# --skip-download: no calls to the Bridgecrew/Prisma platform; the built-in checks suffice.
checkov_status=0
"$VENV/bin/checkov" --file "$TEMPLATE" --framework cloudformation --skip-download \
  --output json >"$report" || checkov_status=$?

# checkov exits 1 on failed checks. The summary lists them and also rejects a skip that
# carries no reason, which checkov itself accepts.
summary_status=0
"$VENV/bin/python" - "$report" <<'PY' || summary_status=$?
import json
import sys

with open(sys.argv[1], encoding="utf-8") as fh:
    text = fh.read().strip()
if not text:
    sys.exit("checkov printed no report")
data = json.loads(text)
if isinstance(data, list):  # one entry per framework
    data = next(d for d in data if d.get("check_type") == "cloudformation")
results = data.get("results", {})
passed = results.get("passed_checks", [])
failed = results.get("failed_checks", [])
skipped = results.get("skipped_checks", [])
print(f"checkov: {len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped")
for check in failed:
    print(f"  FAILED  {check['check_id']} {check['resource']}: {check['check_name']}")
unjustified = 0
for check in skipped:
    reason = " ".join((check.get("check_result", {}).get("suppress_comment") or "").split())
    if reason == "No comment provided":  # what checkov fills in for a skip without one
        reason = ""
    if not reason:
        unjustified += 1
    print(f"  skipped {check['check_id']} {check['resource']}: {reason or 'NO REASON GIVEN'}")
sys.exit(1 if failed or unjustified else 0)
PY

if [ "$ruff_status" -ne 0 ] || [ "$mypy_status" -ne 0 ] \
  || [ "$cfn_status" -ne 0 ] || [ "$checkov_status" -ne 0 ] || [ "$summary_status" -ne 0 ]; then
  echo "lint: FAILED (ruff exit $ruff_status, mypy exit $mypy_status, cfn-lint exit $cfn_status," \
    "checkov exit $checkov_status, checkov summary exit $summary_status)"
  exit 1
fi
echo "lint: OK (ruff and mypy clean; cfn-lint clean; checkov: no failed check, every skip has a reason)"
