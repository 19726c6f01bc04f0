#!/usr/bin/env bash
# Installs what this project needs on a fresh Debian/Ubuntu machine:
# Chromium, its driver and its headless shell (apt), then a virtualenv in .venv with the project and its test extras.
# Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

installed() {  # a Debian package, by name (not through a pipe: pipefail and grep -q race)
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}
missing=()
command -v chromium >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
# The headless shell, for the tests and the benchmark of runs that choose it (runner/chrome.py).
# Debian has it; where apt does not know it, its tests skip and say so.
if ! command -v chromium-headless-shell >/dev/null 2>&1 && apt-cache show chromium-headless-shell >/dev/null 2>&1; then
  missing+=(chromium-headless-shell)
fi
# Screenshots of CJK text and emoji need fonts that slim images leave out.
installed fonts-noto-cjk || missing+=(fonts-noto-cjk)
installed fonts-noto-color-emoji || missing+=(fonts-noto-color-emoji)
if ! python3 -c "import venv, ensurepip" >/dev/null 2>&1; then missing+=(python3-venv); fi

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]} with apt-get"
  # Another apt (unattended upgrades, a second setup) may hold the dpkg lock: wait for it
  # rather than fail at once with exit 100.
  wait_lock=(-o DPkg::Lock::Timeout=300)
  $sudo apt-get "${wait_lock[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get "${wait_lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# setup.py maps the folders to lambda_ui.*; an editable install fixes that map when it is made.
stamp=".venv/.installed-$(cat pyproject.toml setup.py scripts/setup.sh | sha256sum | cut -c1-16)"
if [ ! -e "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  # allure-pytest for the tests of Allure results from Lambda (tests/support/plugins.py): in a
  # folder of its own, on PYTHONPATH only there, so no other pytest process loads it.
  rm -rf .venv/suite-plugins
  .venv/bin/python -m pip install -q --no-deps --target .venv/suite-plugins 'allure-pytest==2.16.2' 'allure-python-commons==2.16.2'
  # pytest-randomly for the test of its seed reaching the function (tests/functional), the same way.
  rm -rf .venv/randomly-plugin
  .venv/bin/python -m pip install -q --no-deps --target .venv/randomly-plugin 'pytest-randomly==5.1.0'
  # Plugins real suites use, for the tests of how --lambda meets them (tests/functional,
  # tests/e2e): pytest-dependency, pytest-order, pytest-cov, pytest-rerunfailures. Apart, on
  # PYTHONPATH only there; none acts unless a test's suite uses it (a mark or an option).
  rm -rf .venv/parity-plugins
  .venv/bin/python -m pip install -q --no-deps --target .venv/parity-plugins \
    'pytest-dependency==0.6.1' 'pytest-order==1.5.0' 'pytest-cov==7.1.0' 'coverage==7.17.5' 'pytest-rerunfailures==16.7'
  # webdriver-manager, which many suites' conftests call for their chromedriver, for the test
  # of what the function makes of it (tests/e2e/test_suite_chrome.py); apart, the same way.
  rm -rf .venv/driver-manager
  .venv/bin/python -m pip install -q --no-deps --target .venv/driver-manager 'webdriver-manager==4.1.2' 'python-dotenv==1.2.4'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
